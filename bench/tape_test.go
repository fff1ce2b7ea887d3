package bench

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/sandbox"
)

// memTransport hands each request to a handler in the caller's goroutine,
// without sockets: a request in flight is then a goroutine running (or
// blocked on the tenant's lock, or on the clock), never one waiting on the
// network, which simulate could not tell from a goroutine with nothing to
// do. Each way takes latency on the clock: the tenant sees a request that
// long after it is sent, and the client its answer that long after.
type memTransport struct {
	h       http.Handler
	clk     clock.Clock
	latency time.Duration
}

// oneWay is memTransport's latency in the benchmarks: a 20 ms round trip,
// a tenant near its client. Latency costs import slots directly (a job's
// end is seen one way late, the next POST arrives one way later: with 2 s
// jobs a 100 ms round trip alone idles a slot 5% of the time), and the
// issue's slot goals were set against a local sandbox.
const oneWay = 10 * time.Millisecond

func (t memTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.travel(req); err != nil {
		return nil, err
	}
	in := req.Clone(req.Context())
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "127.0.0.1:1"
	in.Body = http.NoBody
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		in.Body = io.NopCloser(bytes.NewReader(body))
		in.ContentLength = int64(len(body))
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = req
	if err := t.travel(req); err != nil {
		return nil, err
	}
	return resp, nil
}

// travel waits one way's latency, or until the request is cancelled.
func (t memTransport) travel(req *http.Request) error {
	if t.latency <= 0 {
		return nil
	}
	select {
	case <-t.clk.After(t.latency):
		return nil
	case <-req.Context().Done():
		return req.Context().Err()
	}
}

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
