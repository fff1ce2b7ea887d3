package sandbox

import (
	"fmt"
	"testing"
	"time"
)

// sec0 is a whole second; tests start half a second after it, so that the
// steps (whole seconds, whole milliseconds) fall between requests.
var sec0 = time.Unix(1_700_000_000, 0)

// drainAndCount empties a fresh bucket of l at start, then takes every
// token it offers at each tick in [start, start+span] and returns how many
// it admitted after the burst.
func drainAndCount(l Limit, start time.Time, span, tick time.Duration) int {
	b := newStepped(l, start)
	for b.whole() > 0 {
		b.take()
	}
	n := 0
	visit := func(t time.Time) {
		b.refill(t)
		for b.whole() > 0 {
			b.take()
			n++
		}
	}
	for t := start; t.Before(start.Add(span)); t = t.Add(tick) {
		visit(t)
	}
	visit(start.Add(span))
	return n
}

func TestSteppedRefillExactPerWindow(t *testing.T) {
	// Off every step, so that a window of N steps' length holds N steps.
	start := sec0.Add(500*time.Millisecond + 500*time.Microsecond)
	tests := []struct {
		name       string
		limit      Limit
		span, tick time.Duration
		want       int
	}{
		{"users_write 200/min: exactly 200 a minute", perMinute(20, 200), time.Minute, 100 * time.Millisecond, 200},
		{"users_write over 3 minutes", perMinute(20, 200), 3 * time.Minute, 250 * time.Millisecond, 600},
		{"connections_read 50/min", perMinute(5, 50), time.Minute, time.Second, 50},
		{"other 150/min over 10s: 25", perMinute(10, 150), 10 * time.Second, 100 * time.Millisecond, 25},
		// 200/min is 3⅓ a second: 3 whole tokens after 1s, 6 after 2s, 10 after 3s.
		{"users_write over 1s", perMinute(20, 200), time.Second, time.Millisecond, 3},
		{"users_write over 3s", perMinute(20, 200), 3 * time.Second, time.Millisecond, 10},
		{"free 2/s over 10s", perSecond(2, 2), 10 * time.Second, 7 * time.Millisecond, 20},
		{"free 2/s over 499ms: none", perSecond(2, 2), 499 * time.Millisecond, time.Millisecond, 0},
		{"free 2/s over 500ms: one", perSecond(2, 2), 500 * time.Millisecond, time.Millisecond, 1},
		{"enterprise 16/s over 1s", perSecond(50, 16), time.Second, time.Millisecond, 16},
		// 16/s adds 16/1000 a millisecond: 62 steps give 0.992, 63 give 1.008.
		{"enterprise 16/s, 62 steps: none", perSecond(50, 16), 62 * time.Millisecond, time.Millisecond, 0},
		{"enterprise 16/s, 63 steps: one", perSecond(50, 16), 63 * time.Millisecond, time.Millisecond, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := drainAndCount(tt.limit, start, tt.span, tt.tick); got != tt.want {
				t.Errorf("admitted %d, want %d", got, tt.want)
			}
		})
	}
}

// Per-minute limits refill at whole seconds only: nothing arrives in
// between, however long the wait within the second.
func TestSteppedRefillOnWholeSeconds(t *testing.T) {
	start := sec0.Add(100 * time.Millisecond)
	b := newStepped(perMinute(20, 200), start)
	for b.whole() > 0 {
		b.take()
	}
	b.refill(sec0.Add(999 * time.Millisecond))
	if b.whole() != 0 {
		t.Fatalf("%d tokens before the second's end", b.whole())
	}
	b.refill(sec0.Add(time.Second))
	if b.whole() != 3 {
		t.Fatalf("%d tokens at the whole second, want 3 (3⅓)", b.whole())
	}
	// Capped at the burst, whatever the idle time.
	b.refill(sec0.Add(time.Hour))
	if b.whole() != 20 {
		t.Fatalf("%d tokens after an hour, want the burst 20", b.whole())
	}
}

// Step = Per is the fixed window of Auth0's "Rate Limit Use Cases" page
// (burst 5, 6 a minute added at the top of each minute): the table can
// describe it, though the published plans use the policy page's steps.
func TestFixedWindowStep(t *testing.T) {
	l := Limit{Burst: 5, Rate: 6, Per: time.Minute, Step: time.Minute}
	start := sec0.Truncate(time.Minute).Add(10 * time.Second)
	b := newStepped(l, start)
	got := []int{}
	for _, at := range []time.Duration{0, 49 * time.Second, 50 * time.Second, 110 * time.Second} {
		b.refill(start.Add(at))
		n := 0
		for b.whole() > 0 {
			b.take()
			n++
		}
		got = append(got, n)
	}
	if fmt.Sprint(got) != "[5 0 5 5]" {
		t.Errorf("admitted per visit %v, want [5 0 5 5] (refilled to the burst at each minute's top)", got)
	}
}

func TestSteppedHeaders(t *testing.T) {
	start := sec0.Add(500 * time.Millisecond)
	s := sec0.Unix()
	tests := []struct {
		name      string
		limit     Limit
		takes     int
		at        time.Duration // after start, when the headers are read
		remaining int
		reset     int64
	}{
		// 200/min adds 3⅓ at every whole second: the next token is always
		// at the next second.
		{"users_write, one taken", perMinute(20, 200), 1, 0, 19, s + 1},
		{"users_write, emptied", perMinute(20, 200), 20, 0, 0, s + 1},
		// 50/min adds ⅚ a second: from empty the first whole token is 2
		// seconds away (1⅔ after two steps).
		{"connections_read, emptied", perMinute(5, 50), 5, 0, 0, s + 2},
		{"connections_read, emptied, one step later", perMinute(5, 50), 5, time.Second, 0, s + 2},
		// 2/s by milliseconds: from empty a token in 500ms (at s+1.0), from
		// one taken out of two also at s+1.0.
		{"free, emptied", perSecond(2, 2), 2, 0, 0, s + 1},
		{"free, emptied, 300ms later", perSecond(2, 2), 2, 300 * time.Millisecond, 0, s + 1},
		{"free, emptied, 600ms later", perSecond(2, 2), 2, 600 * time.Millisecond, 1, s + 2},
		// 16/s: a token every 62.5ms; rounded up to the next whole second.
		{"enterprise, emptied", perSecond(50, 16), 50, 0, 0, s + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &bucket{burst: tt.limit.Burst, tokens: newStepped(tt.limit, start), last: start}
			for range tt.takes {
				b.tokens.take()
			}
			now := start.Add(tt.at)
			b.advance(now)
			info := b.info(now)
			if info.limit != tt.limit.Burst || info.remaining != tt.remaining || info.reset != tt.reset {
				t.Errorf("headers %d/%d/%d, want %d/%d/%d", info.limit, info.remaining, info.reset-s, tt.limit.Burst, tt.remaining, tt.reset-s)
			}
			// At the reset time a token has arrived.
			b.advance(time.Unix(info.reset, 0))
			if b.tokens.whole() <= info.remaining {
				t.Errorf("at the reset %d tokens, want more than %d", b.tokens.whole(), info.remaining)
			}
		})
	}
}

func TestPlanRouting(t *testing.T) {
	type want struct{ global, endpoint string }
	tests := []struct {
		plan         Plan
		method, path string
		want         want
	}{
		{PlanFree, "POST", "/api/v2/users", want{"global", ""}},
		{PlanFree, "GET", "/api/v2/jobs/job_1", want{"global", ""}},
		{PlanEssentials, "POST", "/api/v2/users", want{"", "users_write"}},
		{PlanEssentials, "PATCH", "/api/v2/users/auth0|1", want{"", "users_write"}},
		{PlanEssentials, "DELETE", "/api/v2/users/auth0|1", want{"", "users_write"}},
		{PlanEssentials, "GET", "/api/v2/users", want{"", "users_read"}},
		{PlanEssentials, "GET", "/api/v2/users/auth0|1", want{"", "users_read"}},
		{PlanEssentials, "GET", "/api/v2/users-by-email", want{"", "users_read"}},
		{PlanEssentials, "GET", "/api/v2/users/auth0|1/roles", want{"", "users_read"}},
		{PlanEssentials, "GET", "/api/v2/connections", want{"", "connections_read"}},
		{PlanEssentials, "GET", "/api/v2/connections/", want{"", "connections_read"}},
		{PlanEssentials, "GET", "/api/v2/connections/con_1", want{"", "other"}},
		{PlanEssentials, "POST", "/api/v2/jobs/users-imports", want{"", "other"}},
		{PlanEssentials, "GET", "/api/v2/jobs/job_1", want{"", "other"}},
		{PlanEssentials, "GET", "/api/v2/jobs/job_1/errors", want{"", "other"}},
		{PlanEssentials, "POST", "/api/v2/jobs/verification-email", want{"", "other"}},
		{PlanEssentials, "POST", "/api/v2/tickets/password-change", want{"", "other"}},
		{PlanEssentials, "POST", "/api/v2/users/auth0|1/roles", want{"", "other"}},
		{PlanEssentials, "POST", "/api/v2/roles/rol_1/users", want{"", "other"}},
		{PlanEssentials, "GET", "/api/v2/organizations/name/acme", want{"", "organizations_read_by_name"}},
		{PlanEssentials, "POST", "/api/v2/organizations/org_1/members", want{"", "organization_members_write"}},
		{PlanEssentials, "POST", "/api/v2/organizations/org_1/members/auth0|1/roles", want{"", "organization_member_roles_write"}},
		{PlanProfessional, "POST", "/api/v2/users", want{"", "users_write"}},
		{PlanProfessional, "GET", "/api/v2/jobs/job_1", want{"", "other"}},
		{PlanEnterprise, "POST", "/api/v2/users", want{"global", ""}},
		{PlanEnterprise, "GET", "/api/v2/connections", want{"global", ""}},
		{PlanEnterprise, "POST", "/api/v2/organizations/org_1/members", want{"global", "organization_members_write"}},
		{PlanEnterpriseNonProd, "GET", "/api/v2/organizations/name/acme", want{"global", "organizations_read_by_name"}},
		{PlanEnterpriseNonProd, "GET", "/api/v2/jobs/job_1", want{"global", ""}},
	}
	name := func(b *bucketSpec) string {
		if b == nil {
			return ""
		}
		return b.name
	}
	for _, tt := range tests {
		g, e := planLimits[tt.plan].route(tt.method, tt.path)
		if got := (want{name(g), name(e)}); got != tt.want {
			t.Errorf("%s %s %s: buckets %+v, want %+v", tt.plan, tt.method, tt.path, got, tt.want)
		}
	}
}

func TestPlanTables(t *testing.T) {
	published := map[Plan]map[string][2]int{ // burst, per Per (auth0-facts.md)
		PlanFree:              {"global": {2, 2}},
		PlanEssentials:        {"users_write": {20, 200}, "users_read": {40, 500}, "connections_read": {5, 50}, "other": {10, 150}},
		PlanEnterprise:        {"global": {50, 16}},
		PlanEnterpriseNonProd: {"global": {10, 2}},
	}
	for _, p := range Plans() {
		spec := planLimits[p]
		seen := map[string]bool{}
		for _, b := range spec.all() {
			l := b.limit
			if seen[b.name] {
				t.Errorf("%s: bucket %s twice", p, b.name)
			}
			seen[b.name] = true
			if l.Burst <= 0 || l.Rate <= 0 || l.Per%l.step() != 0 {
				t.Errorf("%s %s: limit %+v", p, b.name, l)
			}
			if b.message == "" {
				t.Errorf("%s %s: no 429 message", p, b.name)
			}
		}
		if spec.token == nil {
			t.Errorf("%s: /oauth/token has a published limit", p)
		}
		for name, bp := range published[p] {
			var got [2]int
			for _, b := range spec.all() {
				if b.name == name {
					got = [2]int{b.limit.Burst, b.limit.Rate}
				}
			}
			if got != bp {
				t.Errorf("%s %s: %v, want %v", p, name, got, bp)
			}
		}
		if got, err := ParsePlan(" " + string(p) + " "); err != nil || got != p {
			t.Errorf("ParsePlan(%s) = %s, %v", p, got, err)
		}
	}
	if _, err := ParsePlan("gold"); err == nil {
		t.Error("ParsePlan(gold) accepted")
	}
}
