package run

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/throttle"
)

// A run waits for the tenant: retries after a 429 or a connection failure
// (waited out for --max-wait), and free import slots (--slot-wait). Every
// wait is shown, so that a run that looks stuck says why: on the progress
// line while there is one, else (the connection lookup, before the report
// exists) as a log line. The -v log has one line per retry besides
// (management's). The summary counts each rate-limit bucket's requests,
// 429s and time waited (bucketsOf).

// retryWatcher is a Tenant whose requests a throttle retries (the
// management client): the run sees each retry before its wait.
type retryWatcher interface {
	WatchRetries(func(throttle.RetryEvent))
}

// pacedTenant is a Tenant that counts its requests by rate-limit bucket.
type pacedTenant interface {
	PacingStats() throttle.Stats
}

// waits shows a run's waits. It is safe for concurrent use.
type waits struct {
	clock clock.Clock
	log   *slog.Logger

	mu   sync.Mutex
	prog Progress // nil until the display starts
}

// watchWaits starts showing the retries of t; stop ends it.
func watchWaits(env *Env, t Tenant) (w *waits, stop func()) {
	w = &waits{clock: env.Clock, log: env.Log}
	rw, ok := t.(retryWatcher)
	if !ok {
		return w, func() {}
	}
	rw.WatchRetries(w.retried)
	return w, func() { rw.WatchRetries(nil) }
}

// show sends the waits to p from now on.
func (w *waits) show(p Progress) {
	w.mu.Lock()
	w.prog = p
	w.mu.Unlock()
}

func (w *waits) retried(e throttle.RetryEvent) { w.wait(retryReason(e), e.Wait) }

// wait shows that the run waits d for what ("waiting 12s for " + what).
func (w *waits) wait(what string, d time.Duration) {
	w.mu.Lock()
	p := w.prog
	w.mu.Unlock()
	if p != nil {
		p.Waiting(what, w.clock.Now().Add(d))
		return
	}
	w.log.Info(fmt.Sprintf("waiting %s for %s", d.Round(time.Millisecond), what))
}

// retryReason completes "waiting 12s for …" for a retry.
func retryReason(e throttle.RetryEvent) string {
	switch {
	case e.RateLimited():
		return "the tenant's rate limit"
	case e.Status == 0:
		return "the tenant to answer again (" + e.Method + " " + e.Route + " got no answer)"
	}
	return fmt.Sprintf("the tenant to recover (%d %s on %s %s)", e.Status, http.StatusText(e.Status), e.Method, e.Route)
}

// BucketCounts are one rate-limit bucket's share of a run's requests: the
// summary's per-bucket line and its JSON.
type BucketCounts struct {
	// Name lists the routes the bucket paced ("POST /api/v2/users, PATCH
	// /api/v2/users/{id}"); the token endpoint's is "token".
	Name        string `json:"name"`
	Requests    int64  `json:"requests"`
	RateLimited int64  `json:"rate_limited"`
	// WaitedSeconds is wall time during which some request of the bucket
	// was held back, by pacing or by a retry wait (throttle.BucketStats.Held).
	WaitedSeconds float64 `json:"waited_seconds"`
	// Limit and PerSecond are the bucket as its x-ratelimit-* headers
	// showed it: its burst and the refill the pacer learned (0 when its
	// answers carried no headers).
	Limit     int     `json:"limit,omitempty"`
	PerSecond float64 `json:"per_second,omitempty"`
}

// bucketsOf reads t's counts by bucket, in the pacer's order; nil for a
// tenant that does not count (a test fake) or before any request.
func bucketsOf(t Tenant) []BucketCounts {
	pt, ok := t.(pacedTenant)
	if !ok {
		return nil
	}
	var out []BucketCounts
	for _, b := range pt.PacingStats().Buckets {
		if b.Requests == 0 {
			continue
		}
		out = append(out, BucketCounts{Name: b.Name, Requests: b.Requests, RateLimited: b.RateLimited,
			WaitedSeconds: b.Held.Round(time.Millisecond).Seconds(),
			Limit:         b.Limit, PerSecond: math.Round(b.Rate*100) / 100})
	}
	return out
}
