package throttle

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/a0bulk/a0bulk/clock"
)

func bucketHeader(limit, remaining int) http.Header {
	h := http.Header{}
	h.Set("X-Ratelimit-Limit", strconv.Itoa(limit))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Ratelimit-Reset", strconv.FormatInt(t0.Unix()+1, 10))
	return h
}

const usersRoute = "GET /api/v2/users"

// mustAcquire lets one request go at the current instant or fails the test.
func mustAcquire(t *testing.T, p *pacer, what string) *grant {
	t.Helper()
	ticket, _, ok := p.tryAcquire(usersRoute, p.clk.Now())
	if !ok {
		t.Fatalf("%s: held back", what)
	}
	return ticket
}

// Concurrent requests reach the tenant in any order. Here ticket 3 arrives
// first and sees 1 token left, then ticket 2 takes it; ticket 2's answer
// comes back first. The answer to the newest ticket is not the newest
// state: believing it would send a request into an empty bucket.
func TestMirrorSurvivesReorderedArrivals(t *testing.T) {
	clk := clock.NewFake(t0)
	p := newPacer(Options{Clock: clk}.withDefaults())
	p.release(mustAcquire(t, p, "first"), bucketHeader(10, 2), false)
	a := mustAcquire(t, p, "first of two shown")
	b := mustAcquire(t, p, "second of two shown")
	p.release(a, bucketHeader(10, 0), false) // arrived second
	p.release(b, bucketHeader(10, 1), false) // arrived first
	if _, _, ok := p.tryAcquire(usersRoute, clk.Now()); ok {
		t.Error("the mirror let a request go into an empty bucket")
	}
}

// The first answer shows tokens: every one is spent at once, whatever the
// limiter's start rate and burst, and not one more.
func TestMirrorSpendsWhatTheTenantShows(t *testing.T) {
	clk := clock.NewFake(t0)
	p := newPacer(Options{Clock: clk}.withDefaults())
	p.release(mustAcquire(t, p, "first"), bucketHeader(50, 49), false)
	for i := range 49 {
		mustAcquire(t, p, "request "+strconv.Itoa(i+2))
	}
	if _, _, ok := p.tryAcquire(usersRoute, clk.Now()); ok {
		t.Error("a 51st request went with the 49 shown spent")
	}
}
