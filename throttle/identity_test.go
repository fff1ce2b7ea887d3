package throttle

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

const (
	createUser  = "POST /api/v2/users"
	verifyEmail = "POST /api/v2/jobs/verification-email"
	findByEmail = "GET /api/v2/users-by-email"
	addMembers  = "POST /api/v2/organizations/{id}/members"
)

// answer is an x-ratelimit-* triple with the reset in whole seconds from t0.
func answer(limit, remaining int, resetIn int) http.Header {
	h := http.Header{}
	h.Set("X-Ratelimit-Limit", strconv.Itoa(limit))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Ratelimit-Reset", strconv.FormatInt(t0.Unix()+int64(resetIn), 10))
	return h
}

func newTestPacer(clk *clock.Fake) *pacer {
	return newPacer(Options{Clock: clk}.withDefaults())
}

func goes(p *pacer, route string) (*grant, bool) {
	g, _, ok := p.tryAcquire(route, p.clk.Now())
	return g, ok
}

func mustGo(t *testing.T, p *pacer, route string) *grant {
	t.Helper()
	g, ok := goes(p, route)
	if !ok {
		t.Fatalf("%s: held back", route)
	}
	return g
}

func mustWait(t *testing.T, p *pacer, route, why string) {
	t.Helper()
	if g, ok := goes(p, route); ok {
		p.release(g, nil, false)
		t.Fatalf("%s went: %s", route, why)
	}
}

// Free and Enterprise: every route is in one global bucket, and each
// route's answers show the same limit. A route's first request must not
// treat the bucket as its own, and a 429 on one route holds back the
// others.
func TestRoutesShareAGlobalBucket(t *testing.T) {
	clk := clock.NewFake(t0)
	p := newTestPacer(clk)
	p.release(mustGo(t, p, createUser), answer(2, 0, 1), false)
	mustWait(t, p, verifyEmail, "its first request took a token the global bucket did not have")
	clk.Advance(time.Second) // the reset: one token
	v := mustGo(t, p, verifyEmail)
	mustWait(t, p, createUser, "the verification email took the one token")
	p.release(v, answer(2, 0, 2), false)
	if n := len(p.b.mirrors); n != 1 {
		t.Fatalf("%d mirrors, want the one global bucket", n)
	}
	// A 429 on the verification email says the shared bucket is empty.
	clk.Advance(time.Second)
	v = mustGo(t, p, verifyEmail)
	p.release(v, answer(2, 0, 4), true)
	mustWait(t, p, createUser, "a 429 on a route in the same bucket said it is empty")
}

// Essentials/Professional: a bucket per group. A burst Auth0 publishes
// only for a group's own bucket shows it at once: writes and reads of one
// run go in parallel, and one empty bucket holds back no other.
func TestGroupsKeepTheirOwnBuckets(t *testing.T) {
	clk := clock.NewFake(t0)
	p := newTestPacer(clk)
	p.release(mustGo(t, p, createUser), answer(20, 0, 1), false)
	if !p.b.perGroup {
		t.Fatal("users write's published burst of 20 did not show a bucket per group")
	}
	mustWait(t, p, createUser, "the users bucket is empty")
	// A new group's first request does not wait on the empty users bucket
	// (it has a bucket of its own), but goes alone until it is answered.
	v := mustGo(t, p, verifyEmail)
	mustWait(t, p, verifyEmail, "a second request before the first answer showed its bucket")
	p.release(v, answer(10, 9, 1), false)
	for range 9 {
		mustGo(t, p, verifyEmail) // the 9 shown
	}
	mustWait(t, p, verifyEmail, "the 9 shown are spent")
	f := mustGo(t, p, findByEmail)
	p.release(f, answer(40, 39, 1), false)
	mustGo(t, p, findByEmail)
	if got := len(p.b.mirrors); got != 3 {
		t.Errorf("%d mirrors, want users write, all other, users read", got)
	}
}

// Bursts no plan publishes prove nothing by themselves: a route's first
// request then waits for a token in every bucket seen (it may be in the
// global one), until two groups show different bursts.
func TestUnpublishedBurstsSplitOnEvidence(t *testing.T) {
	clk := clock.NewFake(t0)
	p := newTestPacer(clk)
	p.release(mustGo(t, p, createUser), answer(30, 0, 1), false)
	mustWait(t, p, verifyEmail, "the users bucket is empty and may be the tenant's only one")
	clk.Advance(time.Second)
	v := mustGo(t, p, verifyEmail)
	mustWait(t, p, createUser, "the verification email may have taken the users bucket's token")
	p.release(v, answer(12, 11, 2), false)
	if !p.b.perGroup {
		t.Fatal("buckets of 30 and 12 did not show a bucket per group")
	}
	mustGo(t, p, verifyEmail)
}

// On Essentials an organization group can show the same burst as another
// group (members write and users write are both 20): once the tenant has
// shown a bucket per group, the same limit does not merge them.
func TestSameLimitInSeparateGroups(t *testing.T) {
	clk := clock.NewFake(t0)
	p := newTestPacer(clk)
	p.release(mustGo(t, p, "GET /api/v2/connections"), answer(5, 4, 1), false)
	p.release(mustGo(t, p, createUser), answer(20, 0, 2), false)
	m := mustGo(t, p, addMembers)
	p.release(m, answer(20, 19, 2), false)
	if p.b.groups[groupOrgMembersWrite].members[0] == p.b.groups[groupUsersWrite].members[0] {
		t.Fatal("organization members and users writes share a mirror")
	}
	mustWait(t, p, createUser, "the users bucket is empty")
	mustGo(t, p, addMembers)
}

// Enterprise: an organization route is held by the global bucket and its
// own. Its answers show its own bucket until a global 429 shows the other:
// from then on it needs a token in both.
func TestRouteInTwoBuckets(t *testing.T) {
	clk := clock.NewFake(t0)
	p := newTestPacer(clk)
	p.release(mustGo(t, p, createUser), answer(50, 49, 1), false)
	p.release(mustGo(t, p, addMembers), answer(20, 19, 1), false)
	if p.b.perGroup {
		t.Fatal("an organization group with a bucket of its own made the tenant per group")
	}
	p.release(mustGo(t, p, addMembers), answer(50, 0, 3), true) // the global bucket refused it
	if n := len(p.b.groups[groupOrgMembersWrite].members); n != 2 {
		t.Fatalf("organization members write takes from %d buckets, want 2", n)
	}
	mustWait(t, p, addMembers, "the global bucket is empty")
	mustWait(t, p, createUser, "the global bucket is empty")
}

// A request whose answer carries no headers (a transport error) keeps its
// token spent; once every bound is used up the refill from the last one
// brings tokens back, so the pacer never stalls.
func TestNoBoundLeftStillRefills(t *testing.T) {
	clk := clock.NewFake(t0)
	p := newTestPacer(clk)
	p.release(mustGo(t, p, createUser), answer(20, 3, 1), false)
	for range 3 {
		p.release(mustGo(t, p, createUser), nil, false)
	}
	mustWait(t, p, createUser, "the three shown were spent")
	clk.Advance(time.Second)
	mustGo(t, p, createUser)
}
