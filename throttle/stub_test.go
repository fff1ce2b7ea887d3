package throttle

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

// step is one scripted answer of the stub.
type step struct {
	status int
	header map[string]string
	body   string
	err    error
	wrote  bool // report the request as fully written before failing
}

// stub answers with a scripted sequence and fails the test on any call past
// its end; bodies records what each call carried.
type stub struct {
	t      *testing.T
	mu     sync.Mutex
	steps  []step
	calls  int
	bodies []string
}

func newStub(t *testing.T, steps ...step) *stub {
	s := &stub{t: t, steps: steps}
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.calls != len(s.steps) {
			t.Errorf("stub: %d calls, scripted %d", s.calls, len(s.steps))
		}
	})
	return s
}

func (s *stub) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var body string
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		req.Body.Close()
		body = string(b)
	}
	s.bodies = append(s.bodies, body)
	if s.calls >= len(s.steps) {
		s.t.Errorf("stub: unexpected call %d: %s %s", s.calls+1, req.Method, req.URL)
		return nil, errors.New("stub: unexpected call")
	}
	st := s.steps[s.calls]
	s.calls++
	if st.wrote {
		if tr := httptrace.ContextClientTrace(req.Context()); tr != nil && tr.WroteRequest != nil {
			tr.WroteRequest(httptrace.WroteRequestInfo{})
		}
	}
	if st.err != nil {
		return nil, st.err
	}
	h := http.Header{}
	for k, v := range st.header {
		h.Set(k, v)
	}
	return &http.Response{StatusCode: st.status, Header: h, Body: io.NopCloser(strings.NewReader(st.body)), Request: req}, nil
}

func (s *stub) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// fast options: pacing never waits, so every clock wait is a retry wait.
func fastOptions(clk clock.Clock) Options {
	return Options{Clock: clk, Rate: 1000, Burst: 100, Rand: func() float64 { return 0.5 }}
}

type result struct {
	resp *http.Response
	err  error
}

// drive runs one RoundTrip on the fake clock, advancing it to each deadline
// the request parks on, and returns the result and the waits it went through.
func drive(t *testing.T, clk *clock.Fake, rt http.RoundTripper, req *http.Request) (*http.Response, []time.Duration, error) {
	t.Helper()
	base := clk.Waiters()
	done := make(chan result, 1)
	go func() {
		resp, err := rt.RoundTrip(req)
		done <- result{resp, err}
		clk.After(1000 * time.Hour) // parked for good: lets the loop below see the end
	}()
	var waits []time.Duration
	for {
		clk.BlockUntil(base + 1)
		select {
		case r := <-done:
			return r.resp, waits, r.err
		default:
		}
		next, _ := clk.NextDeadline()
		d := next.Sub(clk.Now())
		waits = append(waits, d)
		clk.Advance(d)
		if len(waits) > 100 {
			t.Fatal("drive: too many waits")
		}
	}
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	resp.Body.Close()
	return string(b)
}
