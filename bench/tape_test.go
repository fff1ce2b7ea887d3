package bench

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/sandbox"
)

// exchange is one Management API request as the tenant saw it: when (by
// the tenant's clock), what, the answer, and which of the plan's buckets
// admitted it (a global one and the endpoint's, on Enterprise) or refused
// it.
type exchange struct {
	at           time.Time
	method, path string
	status       int
	admittedBy   []string
	refusedBy    string
}

// tape serves a sandbox and records every /api/v2 exchange with the
// buckets it moved (read from the tenant's per-bucket counters around the
// request, so the routing is the sandbox's, not a copy of it). Requests
// are served one at a time so that each difference is one request's; under
// simulate that costs no tenant time.
type tape struct {
	srv *sandbox.Server
	clk clock.Clock

	mu        sync.Mutex
	exchanges []exchange
	last      map[string]sandbox.BucketStats
}

func newTape(srv *sandbox.Server, clk clock.Clock) *tape {
	return &tape{srv: srv, clk: clk, last: srv.Stats().Buckets}
}

func (t *tape) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	at := t.clk.Now()
	t.srv.ServeHTTP(sw, r)
	if !strings.HasPrefix(r.URL.Path, "/api/v2/") {
		t.last = t.srv.Stats().Buckets
		return
	}
	now := t.srv.Stats().Buckets
	x := exchange{at: at, method: r.Method, path: r.URL.Path, status: sw.status}
	for name, b := range now {
		if b.Admitted > t.last[name].Admitted {
			x.admittedBy = append(x.admittedBy, name)
		}
		if b.RateLimited > t.last[name].RateLimited {
			x.refusedBy = name
		}
	}
	t.last = now
	t.exchanges = append(t.exchanges, x)
}

// recorded returns the exchanges so far.
func (t *tape) recorded() []exchange {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]exchange(nil), t.exchanges...)
}
