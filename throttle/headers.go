package throttle

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names are the throttle's only Auth0 knowledge.
const (
	headerLimit     = "X-Ratelimit-Limit"
	headerRemaining = "X-Ratelimit-Remaining"
	headerReset     = "X-Ratelimit-Reset"
)

// bucketHeaders is one x-ratelimit-* triple.
type bucketHeaders struct {
	limit, remaining int
	reset            time.Time // zero when absent
}

// parseBucket reads the x-ratelimit-* headers; ok is false unless both limit
// and remaining are present and sane.
func parseBucket(h http.Header) (b bucketHeaders, ok bool) {
	limit, err1 := strconv.Atoi(strings.TrimSpace(h.Get(headerLimit)))
	remaining, err2 := strconv.Atoi(strings.TrimSpace(h.Get(headerRemaining)))
	if err1 != nil || err2 != nil || limit <= 0 || remaining < 0 {
		return bucketHeaders{}, false
	}
	b = bucketHeaders{limit: limit, remaining: min(remaining, limit)}
	if reset, ok := parseReset(h); ok {
		b.reset = reset
	}
	return b, true
}

// parseReset reads x-ratelimit-reset as Unix epoch seconds.
func parseReset(h http.Header) (time.Time, bool) {
	v := strings.TrimSpace(h.Get(headerReset))
	if v == "" {
		return time.Time{}, false
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil || secs <= 0 {
		return time.Time{}, false
	}
	return time.Unix(secs, 0), true
}

// parseRetryAfter reads Retry-After as delta seconds or an HTTP date.
func parseRetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}
