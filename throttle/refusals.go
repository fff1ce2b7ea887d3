package throttle

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Refusals is a run's clock of continuous refusal. A 429 (another client
// spending the bucket, a storm) or a connection failure is not the run's
// failure while the tenant may still answer: it is waited out, until the
// tenant has refused every request of the run for MaxWait. Any answer that
// is not a refusal, to any request, stops the clock, so a tenant that
// grants even one request now and then is slow, never given up on. One
// Refusals is shared by every Transport of a run (the API's and the token
// endpoint's). It is safe for concurrent use.
type Refusals struct {
	max time.Duration // ≤ 0: refusals are never waited out

	mu    sync.Mutex
	since time.Time // first refusal since the last answer; zero while answering
}

// NewRefusals returns a clock that waits refusals out for maxWait: 0 means
// DefaultMaxWait, negative means not at all.
func NewRefusals(maxWait time.Duration) *Refusals {
	if maxWait == 0 {
		maxWait = DefaultMaxWait
	}
	return &Refusals{max: maxWait}
}

// MaxWait is how long continuous refusal is waited out (≤ 0: not at all).
func (r *Refusals) MaxWait() time.Duration { return r.max }

// answered records an answer that is not a refusal: the clock stops.
func (r *Refusals) answered() {
	r.mu.Lock()
	r.since = time.Time{}
	r.mu.Unlock()
}

// refused records a refusal at now whose retry would wait wait. It returns
// the wait to take, cut to what is left of the budget (the last try comes
// at its end, not before), and false when nothing is left: the request
// fails.
func (r *Refusals) refused(now time.Time, wait time.Duration) (time.Duration, bool) {
	if r.max <= 0 {
		return 0, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.since.IsZero() {
		r.since = now
	}
	left := r.since.Add(r.max).Sub(now)
	if left <= 0 {
		return 0, false
	}
	return min(wait, left), true
}

// RefusedError says the tenant refused every request of the run for
// MaxWait: the last refusal was a 429 (Status) or a connection failure
// (Err). Nothing it names took effect, so the run can stop and be resumed.
type RefusedError struct {
	For    time.Duration // the budget that ran out (Options.MaxWait)
	Method string
	Route  string // path with ids as {id}: /api/v2/jobs/{id}
	Status int    // 429; 0 for a connection failure
	Err    error  // the connection failure, if any
}

func (e *RefusedError) Error() string {
	what := fmt.Sprintf("%d rate limit", e.Status)
	switch {
	case e.Status == 0:
		what = fmt.Sprintf("no answer: %v", e.Err)
	case e.Status != http.StatusTooManyRequests:
		what = fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("the tenant refused every request for %s (%s on %s %s)", e.For, what, e.Method, e.Route)
}

func (e *RefusedError) Unwrap() error { return e.Err }
