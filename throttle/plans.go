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

// publishedBucket is one row of Auth0's published Management API limits
// (auth0-facts.md, "Rate limits").
type publishedBucket struct {
	plan      string
	group     group // "" for a plan's global bucket (every route)
	burst     int
	rate      float64 // sustained, requests per second
	perMinute bool    // published per minute: refilled "on a second basis"
}

var publishedBuckets = []publishedBucket{
	{plan: "Free", burst: 2, rate: 2},
	{"Essentials/Professional", groupUsersWrite, 20, 200.0 / 60, true},
	{"Essentials/Professional", groupUsersRead, 40, 500.0 / 60, true},
	{"Essentials/Professional", groupConnectionsRead, 5, 50.0 / 60, true},
	{"Essentials/Professional", groupOther, 10, 150.0 / 60, true},
	{"Essentials/Professional", groupOrgsReadByName, 10, 100.0 / 60, true},
	{"Essentials/Professional", groupOrgsRead, 5, 50.0 / 60, true},
	{"Essentials/Professional", groupOrgsWrite, 5, 25.0 / 60, true},
	{"Essentials/Professional", groupOrgMembersRead, 40, 500.0 / 60, true},
	{"Essentials/Professional", groupOrgMembersWrite, 20, 200.0 / 60, true},
	{"Essentials/Professional", groupOrgMemberRolesWr, 20, 200.0 / 60, true},
	{plan: "Enterprise", burst: 50, rate: 16},
	{"Enterprise", groupOrgMembersWrite, 20, 200.0 / 60, true},
	{plan: "Enterprise non-production", burst: 10, rate: 2},
}

// slowestPublished is the slowest published refill of a bucket of this
// burst, or of any bucket when none has it: a rate no bucket of that size
// is known to go below (requests per second).
func slowestPublished(burst int) float64 {
	slowest, overall := 0.0, 0.0
	for _, b := range publishedBuckets {
		if overall == 0 || b.rate < overall {
			overall = b.rate
		}
		if b.burst == burst && (slowest == 0 || b.rate < slowest) {
			slowest = b.rate
		}
	}
	if slowest == 0 {
		return overall
	}
	return slowest
}

// publishedPerSecond reports whether every published bucket of this burst
// has a per-second limit, which Auth0 refills "by milliseconds": the one
// case where the mirror starts from a continuous refill (mirror.go).
func publishedPerSecond(burst int) bool {
	found := false
	for _, b := range publishedBuckets {
		if b.burst == burst {
			if b.perMinute {
				return false
			}
			found = true
		}
	}
	return found
}

// publishedPerGroup reports whether Auth0 publishes this burst for g's own
// bucket and for no global one: a tenant showing it keeps a bucket per
// group (Essentials/Professional: users write 20, users read 40,
// connections 5; all other's 10 is also Enterprise non-production's global
// burst, so it proves nothing).
func publishedPerGroup(g group, burst int) bool {
	own := false
	for _, b := range publishedBuckets {
		if b.burst != burst {
			continue
		}
		if b.group == "" {
			return false
		}
		own = own || b.group == g
	}
	return own
}
