package throttle

import (
	"sync"
	"time"
)

// waitMeter adds up the wall time during which at least one request was
// held back (BucketStats.Held): concurrent waits count once.
type waitMeter struct {
	mu      sync.Mutex
	waiting int
	since   time.Time
	sum     time.Duration
}

func (m *waitMeter) begin(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.waiting == 0 {
		m.since = now
	}
	m.waiting++
}

func (m *waitMeter) end(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.waiting--
	if m.waiting == 0 {
		m.sum += now.Sub(m.since)
	}
}

// total is the time so far, a wait still going included.
func (m *waitMeter) total(now time.Time) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.waiting > 0 {
		return m.sum + now.Sub(m.since)
	}
	return m.sum
}
