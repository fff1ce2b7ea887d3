package cli

import (
	"fmt"
	"time"
)

// publishedLimits maps the bucket size a tenant reports in x-ratelimit-limit
// to the sustained rate Auth0 publishes for the plan with that bucket
// (auth0-facts.md). The headers give the bucket only, never the refill rate,
// and one answer is too little for the throttle to have measured it, so a
// dry run can only infer the rate from the plan.
var publishedLimits = map[int]struct {
	rate float64
	plan string
}{
	2:  {2, "Free (2/s)"},
	5:  {200.0 / 60, "Essentials/Professional, write users 200/min"}, // the read-connections bucket of those plans
	10: {2, "Enterprise non-production (2/s)"},
	20: {200.0 / 60, "Essentials/Professional, write users 200/min"},
	50: {16, "Enterprise production (16/s)"},
}

// fallbackRate is Auth0's smallest published sustained limit (and the
// throttle's starting pace): an estimate made with it errs long.
const fallbackRate = 2.0

// tenantPace says at what sustained rate a run will go, how many requests
// the bucket lets through at once, and how that was decided. flagRate is
// --rate (0 when not given); limit and ok are the client's Headroom.
func tenantPace(flagRate float64, limit int, ok bool) (rate float64, burst int, how string) {
	pub, known := publishedLimits[limit]
	switch {
	case flagRate > 0 && ok && known && pub.rate < flagRate:
		return pub.rate, limit, fmt.Sprintf("the tenant's bucket of %d means %s, below --rate %g", limit, pub.plan, flagRate)
	case flagRate > 0:
		return flagRate, 0, fmt.Sprintf("--rate %g", flagRate)
	case ok && known:
		return pub.rate, limit, fmt.Sprintf("the tenant's x-ratelimit-limit of %d is Auth0's published bucket for %s", limit, pub.plan)
	case ok:
		return fallbackRate, limit, fmt.Sprintf("the tenant's bucket of %d matches no published plan: assumed %g/s, Auth0's smallest limit (a0bulk speeds up as it measures the refill, so the run may be shorter)", limit, fallbackRate)
	}
	return fallbackRate, 0, fmt.Sprintf("no x-ratelimit headers seen: assumed %g/s, Auth0's smallest published limit", fallbackRate)
}

// paceDuration is how long requests take when the first burst go at once
// and the rest at rate, rounded up to the second.
func paceDuration(requests int, rate float64, burst int) time.Duration {
	rest := requests - burst
	if rest <= 0 || rate <= 0 {
		return 0
	}
	d := time.Duration(float64(rest) / rate * float64(time.Second))
	return (d + time.Second - 1).Truncate(time.Second)
}
