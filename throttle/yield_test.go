package throttle

import (
	"context"
	"testing"

	"github.com/a0bulk/a0bulk/clock"
)

// While a request that is not yielding waits for a bucket, a yielding one
// of the same bucket holds back, even when a token is there; with nobody
// waiting it goes as any other. On a bucket of 2 this is what lets the
// next chunk's POST go before the job polls that would otherwise take the
// token first.
func TestYieldingRequestsLetOthersGoFirst(t *testing.T) {
	clk := clock.NewFake(t0)
	p := newPacer(Options{Clock: clk}.withDefaults())
	p.release(mustAcquire(t, p, "first"), bucketHeader(10, 5), false)

	if _, _, ok := p.tryAcquireAs(usersRoute, clk.Now(), true); !ok {
		t.Fatal("a yielding request was held back with nobody waiting")
	}
	p.mu.Lock()
	p.b.route(usersRoute).group.urgent++ // an urgent request waits
	p.mu.Unlock()
	if _, _, ok := p.tryAcquireAs(usersRoute, clk.Now(), true); ok {
		t.Fatal("a yielding request went while an urgent one waited")
	}
	if _, _, ok := p.tryAcquireAs(usersRoute, clk.Now(), false); !ok {
		t.Fatal("the urgent request was held back")
	}
}

// acquire registers an urgent request only while it waits, and removes it
// when it goes or gives up.
func TestUrgentWaitIsCountedWhileWaiting(t *testing.T) {
	clk := clock.NewFake(t0)
	p := newPacer(Options{Clock: clk}.withDefaults())
	p.release(mustAcquire(t, p, "first"), bucketHeader(10, 0), false) // empty
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := p.acquire(ctx, usersRoute)
		done <- err
	}()
	clk.BlockUntil(1) // it sleeps: it is waiting
	p.mu.Lock()
	n := p.b.route(usersRoute).group.urgent
	p.mu.Unlock()
	if n != 1 {
		t.Errorf("%d urgent waiting, want 1", n)
	}
	cancel()
	<-done
	p.mu.Lock()
	n = p.b.route(usersRoute).group.urgent
	p.mu.Unlock()
	if n != 0 {
		t.Errorf("%d urgent waiting after it gave up, want 0", n)
	}
	if isYielding(context.Background()) || !isYielding(Yielding(context.Background())) {
		t.Error("Yielding does not mark its context")
	}
}
