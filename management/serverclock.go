package management

import (
	"net/http"
	"sync"
	"time"
)

// ServerTime is the tenant's clock as of its latest answer (the Date header,
// to the second), and whether any answer carried one. "Was this user created
// by this run?" compares the tenant's created_at with the run's start, and
// the local clock may be off: the run's start is best read from the tenant.
func (c *Client) ServerTime() (time.Time, bool) { return c.clock.get() }

type serverClock struct {
	mu   sync.Mutex
	last time.Time
}

func (s *serverClock) get() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last, !s.last.IsZero()
}

func (s *serverClock) saw(h http.Header) {
	t, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return
	}
	s.mu.Lock()
	if t.After(s.last) {
		s.last = t
	}
	s.mu.Unlock()
}

// serverClockTransport records the Date of every API answer.
type serverClockTransport struct {
	next  http.RoundTripper
	clock *serverClock
}

func (t *serverClockTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil {
		t.clock.saw(resp.Header)
	}
	return resp, err
}
