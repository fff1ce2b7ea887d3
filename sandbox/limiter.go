package sandbox

import (
	"fmt"
	"slices"
	"time"
)

// limiter holds the tenant's buckets (plans.go) and admits requests.
// A nil *limiter is the unlimited tenant of the zero Config.
type limiter struct {
	name    string // the plan, or "custom"
	spec    planSpec
	buckets map[string]*bucket
}

// Stats names for a tenant without a plan.
const (
	limitsUnlimited = "unlimited"
	limitsCustom    = "custom"
)

// newLimiter builds the buckets of cfg (which Validate accepted), full at
// start: a plan's, a custom continuous bucket (Rate > 0), or none.
func newLimiter(cfg Config, start time.Time) *limiter {
	var l *limiter
	switch {
	case cfg.Plan != "":
		l = &limiter{name: string(cfg.Plan), spec: planLimits[cfg.Plan], buckets: map[string]*bucket{}}
		for _, s := range l.spec.all() {
			l.buckets[s.name] = &bucket{spec: s, burst: s.limit.Burst, perSecond: s.limit.perSecond(),
				tokens: newStepped(s.limit, start), last: start}
		}
	case cfg.Rate > 0:
		s := globalBucket("global", Limit{})
		l = &limiter{name: limitsCustom, spec: planSpec{global: s}, buckets: map[string]*bucket{
			s.name: {spec: s, burst: cfg.Burst, perSecond: cfg.Rate, last: start,
				tokens: &continuous{rate: cfg.Rate, burst: float64(cfg.Burst), tokens: float64(cfg.Burst), last: start}},
		}}
	default:
		return nil
	}
	if f := cfg.Faults; f.DrainBucket != "" && f.DrainDuration > 0 {
		b := l.buckets[f.DrainBucket]
		b.drainFrom, b.drainTo = start.Add(f.DrainStart), start.Add(f.DrainStart+f.DrainDuration)
	}
	return l
}

// checkLimits reports a Config whose limits cannot be built.
func checkLimits(cfg Config) error {
	if cfg.Rate < 0 || cfg.Burst < 0 {
		return fmt.Errorf("sandbox: negative rate or burst")
	}
	if cfg.Plan != "" {
		if _, ok := planLimits[cfg.Plan]; !ok {
			_, err := ParsePlan(string(cfg.Plan))
			return fmt.Errorf("sandbox: %w", err)
		}
		if cfg.Rate > 0 {
			return fmt.Errorf("sandbox: a plan (%s) and a custom rate (%v) exclude each other", cfg.Plan, cfg.Rate)
		}
	}
	f := cfg.Faults
	if f.DrainBucket == "" {
		return nil
	}
	var names []string
	switch {
	case cfg.Plan != "":
		names = planLimits[cfg.Plan].bucketNames()
	case cfg.Rate > 0:
		names = []string{"global"}
	}
	if !slices.Contains(names, f.DrainBucket) {
		return fmt.Errorf("sandbox: no bucket %q to drain (the tenant has %v)", f.DrainBucket, names)
	}
	return nil
}

// unlimitedInfo is what an unlimited tenant's headers say.
func unlimitedInfo(now time.Time) limitInfo {
	return limitInfo{ok: true, limit: unlimitedBurst, remaining: unlimitedBurst, reset: now.Unix()}
}

// admit checks a Management API request against its buckets: the plan's
// global one first, then the endpoint's own (Auth0's order). A refused
// request takes nothing from any bucket and answers with the refusing
// bucket's headers and message. An admitted one takes a token from each and
// answers with the headers of the binding bucket: the one with the fewest
// whole tokens left, the endpoint's on a tie (the more specific one).
func (l *limiter) admit(now time.Time, method, path string) limitInfo {
	if l == nil {
		return unlimitedInfo(now)
	}
	chain := l.chain(method, path)
	if len(chain) == 0 {
		return unlimitedInfo(now)
	}
	for _, b := range chain {
		b.advance(now)
	}
	for _, b := range chain {
		if b.tokens.whole() < 1 {
			b.limited++
			info := b.info(now)
			info.message = b.spec.message
			return info
		}
	}
	shown := chain[0]
	for _, b := range chain {
		b.tokens.take()
		b.admitted++
		if b.tokens.whole() <= shown.tokens.whole() {
			shown = b
		}
	}
	info := shown.info(now)
	info.ok = true
	return info
}

func (l *limiter) chain(method, path string) []*bucket {
	g, e := l.spec.route(method, path)
	var out []*bucket
	for _, s := range []*bucketSpec{g, e} {
		if s != nil {
			out = append(out, l.buckets[s.name])
		}
	}
	return out
}

// admitToken checks POST /oauth/token against the plan's Authentication API
// bucket (unlimited when the plan publishes none, and for custom tenants).
func (l *limiter) admitToken(now time.Time) (limitInfo, bool) {
	if l == nil || l.spec.token == nil {
		return limitInfo{ok: true}, false
	}
	b := l.buckets[l.spec.token.name]
	b.advance(now)
	if b.tokens.whole() < 1 {
		b.limited++
		info := b.info(now)
		info.message = b.spec.message
		return info, true
	}
	b.tokens.take()
	b.admitted++
	info := b.info(now)
	info.ok = true
	return info, true
}

// storm is the 429 of Faults.Storm*: everything in the window is refused
// with the global message, as if another client had spent the bucket, and
// the headers of the request's first bucket show none left until the
// storm's end. ok is false outside the window.
func (s *Server) storm(now time.Time, method, path string) (limitInfo, bool) {
	f := s.cfg.Faults
	if f.StormDuration <= 0 {
		return limitInfo{}, false
	}
	from, to := s.start.Add(f.StormStart), s.start.Add(f.StormStart+f.StormDuration)
	if now.Before(from) || !now.Before(to) {
		return limitInfo{}, false
	}
	limit := unlimitedBurst
	if s.limits != nil {
		if chain := s.limits.chain(method, path); len(chain) > 0 {
			limit = chain[0].burst
		}
	}
	return limitInfo{limit: limit, reset: ceilUnix(to), message: globalLimitMessage}, true
}

// rateLimit admits a Management API request: the storm window refuses
// everything, otherwise the buckets decide. Callers hold s.mu.
func (s *Server) rateLimit(now time.Time, method, path string) limitInfo {
	if info, ok := s.storm(now, method, path); ok {
		s.stats.storm++
		return info
	}
	return s.limits.admit(now, method, path)
}

// bucketStats snapshots the per-bucket counters.
func (l *limiter) bucketStats() (string, map[string]BucketStats) {
	out := map[string]BucketStats{}
	if l == nil {
		return limitsUnlimited, out
	}
	for name, b := range l.buckets {
		out[name] = BucketStats{Burst: b.burst, PerSecond: b.perSecond, Admitted: b.admitted, RateLimited: b.limited}
	}
	return l.name, out
}
