package modeltest

import (
	"sync"
	"time"
)

// simClock is the one clock of a schedule, shared by the tenant and the
// client: nothing waits on the wall clock. A wait (After) moves the time on
// by its length and fires at once, so a run is a simulation in which every
// sleep costs nothing: job polling, retry backoff, token lifetimes, slot
// waits and the grace after a kill all happen in simulated time. Several
// goroutines waiting at once each move it on; time then runs faster than a
// real run's would, which no behaviour may depend on.
type simClock struct {
	mu  sync.Mutex
	now time.Time
}

func newSimClock(start time.Time) *simClock { return &simClock{now: start} }

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *simClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d > 0 {
		c.now = c.now.Add(d)
	}
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// Advance moves the time on between runs (an operator resuming later).
func (c *simClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
