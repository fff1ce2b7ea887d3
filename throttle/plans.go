package throttle

import "fmt"

// Auth0's published rate limits are the one piece of plan knowledge here:
// a single response shows the tenant's bucket (x-ratelimit-limit) but not its
// refill rate, so a pace has to be planned before any request from the plan
// whose bucket matches. The Transport itself never uses this table; it learns
// the real rate while it runs (doc.go).

// smallestPublishedRate is the slowest refill of any published plan
// (requests per second): the safe assumption when the plan is unknown.
const smallestPublishedRate = 2

// publishedRates maps the bucket size a tenant advertises
// (x-ratelimit-limit) to the refill rate of the Auth0 plan with that bucket
// (auth0-facts.md).
var publishedRates = map[int]struct {
	rate float64
	plan string
}{
	2: {2, "Free: burst 2, 2/s"},
	// Essentials/Professional read connections (a dry run's or a check's one
	// request) has a bucket of 5; creates there go at the write-users limit.
	5:  {200.0 / 60, "Essentials/Professional (read connections burst 5); write users: burst 20, 200/min"},
	10: {2, "Enterprise non-production: burst 10, 2/s"},
	20: {200.0 / 60, "Essentials/Professional write users: burst 20, 200/min"},
	50: {16, "Enterprise production: burst 50, 16/s"},
}

// EstimateRate says at what pace a run of per-user requests will go, in
// requests per second, and how that was decided, as a phrase for an operator
// ("--rate", or which published plan the bucket matches). flagRate is the
// --rate cap (0 when not given); limit and ok are the bucket size last seen,
// as Transport.Headroom returns them (ok false: no x-ratelimit headers yet).
//
// A --rate above the matched plan's rate is not believed: the tenant will not
// go faster than its plan. Without a match it assumes the smallest published
// rate. The result is always > 0.
func EstimateRate(flagRate float64, limit int, ok bool) (rate float64, source string) {
	known, isKnown := publishedRates[limit]
	switch {
	case flagRate > 0 && (!ok || !isKnown || flagRate <= known.rate):
		return flagRate, "--rate"
	case ok && isKnown:
		return known.rate, fmt.Sprintf("the tenant's x-ratelimit-limit of %d matches Auth0's published %s", limit, known.plan)
	case ok:
		return smallestPublishedRate, fmt.Sprintf("the tenant's bucket of %d matches no published plan; assuming the smallest published rate, 2/s (a0bulk learns the real rate while it runs)", limit)
	}
	return smallestPublishedRate, "no rate-limit headers seen; assuming Auth0's smallest published rate, 2/s"
}
