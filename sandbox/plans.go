package sandbox

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Plan names one of Auth0's published rate-limit configurations
// (auth0-facts.md "Rate limits"; auth0.com/docs … rate-limit-configurations:
// free-public, essentials-professional-b2b, enterprise-public).
type Plan string

// The plans a tenant can be on.
const (
	PlanFree              Plan = "free"
	PlanEssentials        Plan = "essentials"
	PlanProfessional      Plan = "professional"
	PlanEnterprise        Plan = "enterprise"
	PlanEnterpriseNonProd Plan = "enterprise-nonprod"
)

// Plans lists every plan, in the order the docs list them.
func Plans() []Plan {
	return []Plan{PlanFree, PlanEssentials, PlanProfessional, PlanEnterprise, PlanEnterpriseNonProd}
}

// ParsePlan reads a plan name as given on a command line.
func ParsePlan(s string) (Plan, error) {
	p := Plan(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := planLimits[p]; !ok {
		names := make([]string, 0, len(planLimits))
		for _, q := range Plans() {
			names = append(names, string(q))
		}
		return "", fmt.Errorf("unknown plan %q (want one of %s)", s, strings.Join(names, ", "))
	}
	return p, nil
}

// Limit is one published row: a bucket of Burst requests refilled with Rate
// requests per Per. Auth0's Rate Limit Policy page: a per-second limit adds
// requests "by milliseconds", a per-minute limit "on a second basis"; Step is
// that granularity (0: 1ms when Per is at most a second, else 1s).
type Limit struct {
	Burst int
	Rate  int
	Per   time.Duration
	Step  time.Duration
}

func (l Limit) step() time.Duration {
	switch {
	case l.Step > 0:
		return l.Step
	case l.Per <= time.Second:
		return time.Millisecond
	default:
		return time.Second
	}
}

// perSecond is the sustained rate in requests per second.
func (l Limit) perSecond() float64 { return float64(l.Rate) / l.Per.Seconds() }

// routeMatch is a "METHOD path" pattern: `{id}` matches one non-empty
// segment; a trailing `*` matches any rest of the path, even none (so
// "/api/v2/users*" covers /users/{id} and /users-by-email, as Auth0 writes it).
type routeMatch struct{ method, path string }

func (m routeMatch) matches(method, path string) bool {
	if m.method != method {
		return false
	}
	if prefix, ok := strings.CutSuffix(m.path, "*"); ok {
		return strings.HasPrefix(path, prefix)
	}
	_, ok := matchPattern(m.path, path)
	return ok
}

// bucketSpec is one bucket of a plan: its name (in /sandbox/stats and in
// the group's 429 message), its limit and the routes it covers.
type bucketSpec struct {
	name   string
	limit  Limit
	routes []routeMatch
	// message is the 429's message when this bucket refuses.
	message string
}

func (b bucketSpec) covers(method, path string) bool {
	return slices.ContainsFunc(b.routes, func(m routeMatch) bool { return m.matches(method, path) })
}

// planSpec is a plan's buckets. A Management API request is checked against
// global first (when the plan has one), then against the first endpoint
// bucket whose routes cover it, else other ("all other endpoints combined",
// when the plan has one) — Auth0's "global limit first, then the endpoint's
// own". token is /oauth/token's own bucket (the Authentication API's).
type planSpec struct {
	global    *bucketSpec
	endpoints []bucketSpec
	other     *bucketSpec
	token     *bucketSpec
}

// bucketNames lists the plan's buckets, checked first to last.
func (p planSpec) bucketNames() []string {
	var out []string
	for _, b := range p.all() {
		out = append(out, b.name)
	}
	return out
}

func (p planSpec) all() []*bucketSpec {
	var out []*bucketSpec
	if p.global != nil {
		out = append(out, p.global)
	}
	for i := range p.endpoints {
		out = append(out, &p.endpoints[i])
	}
	for _, b := range []*bucketSpec{p.other, p.token} {
		if b != nil {
			out = append(out, b)
		}
	}
	return out
}

// The 429 messages. Only two are known from real tenants: the tenant-wide
// one (recorded) and "Global per second users_write group limit has been
// reached" (Maptio/maptio#516); Auth0 publishes no template, so every
// endpoint group follows that one's wording with its own name. The catch-all
// bucket of Essentials answers the global message: it is the tenant's
// bucket for every route without its own, and a paid tenant's PUT
// /rules-configs (such a route) logged "Global limit has been reached"
// (auth0/auth0-deploy-cli#386).
const globalLimitMessage = "Global limit has been reached"

func groupMessage(name string) string {
	return "Global per second " + name + " group limit has been reached"
}

func perMinute(burst, rate int) Limit { return Limit{Burst: burst, Rate: rate, Per: time.Minute} }
func perSecond(burst, rate int) Limit { return Limit{Burst: burst, Rate: rate, Per: time.Second} }

func group(name string, l Limit, routes ...string) bucketSpec {
	b := bucketSpec{name: name, limit: l, message: groupMessage(name)}
	for _, r := range routes {
		m, p, _ := strings.Cut(r, " ")
		b.routes = append(b.routes, routeMatch{method: m, path: p})
	}
	return b
}

func globalBucket(name string, l Limit) *bucketSpec {
	return &bucketSpec{name: name, limit: l, message: globalLimitMessage}
}

const (
	orgs           = "/api/v2/organizations"
	orgMembers     = orgs + "/{id}/members"
	orgMemberRoles = orgs + "/{id}/members/{id}/roles"
)

// essentials is the Essentials / Professional table. The organization rows
// are published and kept so the routing is complete; a0bulk does not call
// those routes yet. The docs' other rows (logs, clients, signing keys, email
// templates…) are for routes a0bulk never calls: add them here if it does.
var essentials = planSpec{
	endpoints: []bucketSpec{
		group("users_write", perMinute(20, 200),
			"POST /api/v2/users", "PATCH /api/v2/users/{id}", "DELETE /api/v2/users/{id}"),
		group("users_read", perMinute(40, 500), "GET /api/v2/users*"),
		group("connections_read", perMinute(5, 50), "GET /api/v2/connections"),
		group("organizations_read", perMinute(5, 50), "GET "+orgs),
		group("organizations_read_by_name", perMinute(10, 100), "GET "+orgs+"/name/{id}"),
		group("organizations_write", perMinute(5, 25),
			"POST "+orgs, "PATCH "+orgs+"/{id}", "DELETE "+orgs+"/{id}"),
		group("organization_members_read", perMinute(40, 500), "GET "+orgMembers),
		group("organization_members_write", perMinute(20, 200), "POST "+orgMembers, "DELETE "+orgMembers),
		group("organization_member_roles_read", perMinute(20, 200), "GET "+orgMemberRoles),
		group("organization_member_roles_write", perMinute(20, 200), "POST "+orgMemberRoles, "DELETE "+orgMemberRoles),
	},
	other: globalBucket("other", perMinute(10, 150)),
	// "Authentication API 25 / 25 per second" covers /oauth/token.
	token: globalBucket("oauth_token", perSecond(25, 25)),
}

// enterpriseEndpoints are the Enterprise endpoint rows (production and
// non-production list the same), checked after the global bucket.
var enterpriseEndpoints = []bucketSpec{
	group("organizations_read_by_name", perMinute(20, 200), "GET "+orgs+"/name/{id}"),
	group("organizations_write", perMinute(5, 150),
		"POST "+orgs, "PATCH "+orgs+"/{id}", "DELETE "+orgs+"/{id}"),
	group("organization_members_read", perMinute(40, 500), "GET "+orgMembers),
	group("organization_members_write", perMinute(20, 200), "POST "+orgMembers, "DELETE "+orgMembers),
	group("organization_member_roles_read", perMinute(20, 200), "GET "+orgMemberRoles),
	group("organization_member_roles_write", perMinute(20, 200), "POST "+orgMemberRoles, "DELETE "+orgMemberRoles),
}

var planLimits = map[Plan]planSpec{
	// Free: one bucket for the whole Management API; "Get Token" POST
	// /oauth/token has its own 30 / 30 per second.
	PlanFree: {
		global: globalBucket("global", perSecond(2, 2)),
		token:  globalBucket("oauth_token", perSecond(30, 30)),
	},
	PlanEssentials:   essentials,
	PlanProfessional: essentials,
	// Enterprise: the Authentication API (and so /oauth/token) is 100 / 100
	// per second on production and non-production tenants alike.
	PlanEnterprise: {
		global:    globalBucket("global", perSecond(50, 16)),
		endpoints: enterpriseEndpoints,
		token:     globalBucket("oauth_token", perSecond(100, 100)),
	},
	PlanEnterpriseNonProd: {
		global:    globalBucket("global", perSecond(10, 2)),
		endpoints: enterpriseEndpoints,
		token:     globalBucket("oauth_token", perSecond(100, 100)),
	},
}

// route names the buckets a Management API request is checked against:
// the plan's global one and the endpoint's own (either may be nil).
func (p planSpec) route(method, path string) (global, endpoint *bucketSpec) {
	path = "/" + strings.Trim(path, "/")
	for i := range p.endpoints {
		if p.endpoints[i].covers(method, path) {
			return p.global, &p.endpoints[i]
		}
	}
	return p.global, p.other
}
