package throttle

import (
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

// Defaults: Auth0's smallest published Management API bucket (Free: burst 2,
// 2 per second) is safe on every tenant; the pacer follows the real one
// from the first x-ratelimit-* headers on.
const (
	DefaultRate       = 2.0
	DefaultBurst      = 2
	DefaultMaxRetries = 5
	// DefaultMaxWait is how long continuous refusal (429s and connection
	// failures, with no answer in between) is waited out: long enough for
	// another client's burst, a deploy or a network blip, short enough that
	// a cron run whose tenant is really gone ends the same night.
	DefaultMaxWait = 15 * time.Minute

	backoffBase = 250 * time.Millisecond
	backoffCap  = 30 * time.Second
)

// Options configures a Transport. The zero value is usable.
type Options struct {
	// Rate is the pace (requests/s) until the tenant's first headers, and
	// for good if it never sends any; 0 means DefaultRate.
	Rate float64
	// Burst is the burst until then; 0 means DefaultBurst.
	Burst int
	// MaxRate is a hard ceiling (the user gave --rate); 0 means none.
	// Adaptation never exceeds it.
	MaxRate float64
	// MaxRetries bounds the retries of one request after 5xx answers: 0
	// means DefaultMaxRetries, negative means none. 429s and connection
	// failures are not counted: MaxWait bounds them.
	MaxRetries int
	// MaxWait bounds continuous refusal: 429s (other than Permanent ones)
	// and connection failures are retried until the tenant has refused
	// every request for this long, counted from the first refusal after
	// the last answer of any request; then the request fails with a
	// *RefusedError. 0 means DefaultMaxWait; negative means no waiting:
	// the caller gets the 429 or the connection error at once.
	MaxWait time.Duration
	// Refusals, when set, is the clock of continuous refusal, shared with
	// other Transports of the same run (the token endpoint's); it then
	// decides instead of MaxWait.
	Refusals *Refusals
	// Resendable says every request may be sent again even after it was
	// written, as if idempotent: the client-credentials token request,
	// which changes nothing in the tenant.
	Resendable bool
	// Clock drives every wait; default clock.Real{}.
	Clock clock.Clock
	// Rand is the jitter source, in [0,1); default math/rand/v2.
	Rand func() float64
	// Permanent marks a response the caller must see as is, never retried
	// (management uses it for the import-job-limit 429). body is the
	// already-read response body; the response keeps a readable body.
	Permanent func(resp *http.Response, body []byte) bool
	// OnRetry, if set, is called before each retry wait, possibly from
	// several goroutines at once.
	OnRetry func(RetryEvent)
}

// RetryEvent describes one retry about to happen.
type RetryEvent struct {
	Method, URL string        // URL without user info or query
	Route       string        // the URL's path with ids as {id} (Route): for logs and progress
	Attempt     int           // the retry about to be made: 1 for the first retry
	Status      int           // the status that caused it; 0 for a transport error
	Err         error         // the transport error, if any
	Wait        time.Duration // how long the throttle waits before it
}

// RateLimited reports whether the tenant's rate limit caused the retry (a
// 429), as opposed to a connection failure or a 5xx.
func (e RetryEvent) RateLimited() bool { return e.Status == http.StatusTooManyRequests }

// Stats are cumulative counters of a Transport.
type Stats struct {
	Requests    int64         // attempts handed to the base RoundTripper
	Retries     int64         // attempts that were retries
	RateLimited int64         // 429 responses seen (job-limit 429s included)
	Waited      time.Duration // pacing plus retry waits, summed over concurrent requests
	Buckets     []BucketStats // the same per bucket of the tenant, by name
}

func (o Options) withDefaults() Options {
	if o.Rate <= 0 {
		o.Rate = DefaultRate
	}
	if o.MaxRate > 0 && o.Rate > o.MaxRate {
		o.Rate = o.MaxRate
	}
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	switch {
	case o.MaxRetries == 0:
		o.MaxRetries = DefaultMaxRetries
	case o.MaxRetries < 0:
		o.MaxRetries = 0
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	return o
}
