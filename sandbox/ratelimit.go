package sandbox

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// bucket is the tenant's one token bucket for /api/v2 (docs/ARCHITECTURE.md):
// capacity burst, refilled continuously at rate tokens per second.
type bucket struct {
	rate   float64
	burst  int
	tokens float64
	last   time.Time
}

// limitInfo is the outcome of one admission and the headers it produces.
type limitInfo struct {
	ok        bool
	limit     int
	remaining int
	reset     int64 // Unix seconds
}

func (l limitInfo) setHeaders(h http.Header) {
	h.Set("x-ratelimit-limit", strconv.Itoa(l.limit))
	h.Set("x-ratelimit-remaining", strconv.Itoa(l.remaining))
	h.Set("x-ratelimit-reset", strconv.FormatInt(l.reset, 10))
}

func (b *bucket) refill(now time.Time) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(float64(b.burst), b.tokens+el*b.rate)
	}
	if now.After(b.last) {
		b.last = now
	}
}

// take admits one request if a whole token is available. A refused request
// takes nothing.
func (b *bucket) take(now time.Time) limitInfo {
	if b.rate <= 0 {
		return limitInfo{ok: true, limit: b.burst, remaining: b.burst, reset: now.Unix()}
	}
	b.refill(now)
	ok := b.tokens >= 1
	if ok {
		b.tokens--
	}
	info := limitInfo{ok: ok, limit: b.burst, remaining: int(math.Floor(b.tokens))}
	if info.remaining >= 1 {
		info.reset = now.Unix()
	} else {
		// When the next whole token will be there, rounded up to a second.
		wait := (math.Floor(b.tokens) + 1 - b.tokens) / b.rate
		info.reset = ceilUnix(now.Add(time.Duration(wait * float64(time.Second))))
	}
	return info
}

// rateLimit admits a request: the storm window refuses everything, otherwise
// the bucket decides. Callers hold s.mu.
func (s *Server) rateLimit(now time.Time) limitInfo {
	f := s.cfg.Faults
	if f.StormDuration > 0 {
		from, to := s.start.Add(f.StormStart), s.start.Add(f.StormStart+f.StormDuration)
		if !now.Before(from) && now.Before(to) {
			return limitInfo{ok: false, limit: s.bucket.burst, remaining: 0, reset: ceilUnix(to)}
		}
	}
	return s.bucket.take(now)
}

func ceilUnix(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}
