package sandbox

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func groupBody(name string) string {
	return `{"statusCode":429,"error":"Too Many Requests","message":"Global per second ` + name + ` group limit has been reached","errorCode":"too_many_requests"}`
}

// send makes n identical requests and returns the statuses, the last
// answer's headers and body.
func (e *env) send(n int, method, path, body string) (statuses []int, headers string, last []byte) {
	e.t.Helper()
	for range n {
		res, b := e.api(method, path, body)
		statuses = append(statuses, res.StatusCode)
		headers, last = limitHeaders(res), b
	}
	return statuses, headers, last
}

func count(statuses []int, code int) int {
	n := 0
	for _, s := range statuses {
		if s == code {
			n++
		}
	}
	return n
}

// Essentials: each endpoint group is its own bucket; spending one leaves
// the others whole, each answer's headers are its own bucket's, and the
// 429 names the group (or is the global one for "all other endpoints").
func TestEssentialsBuckets(t *testing.T) {
	e := newEnv(t, Config{Plan: PlanEssentials, JobDelay: -1})
	sec := t0.Unix() // t0 is 543ms into this second: no step until sec+1
	next := strconv.FormatInt(sec+1, 10)

	// users_write: burst 20.
	var st []int
	for i := range 21 {
		res, body := e.api(http.MethodPost, "/api/v2/users", createBody(fmt.Sprintf("u%d@example.com", i), ""))
		st = append(st, res.StatusCode)
		if i == 0 && limitHeaders(res) != "20/19/"+next {
			t.Errorf("first POST /users headers %s", limitHeaders(res))
		}
		if i == 20 && (limitHeaders(res) != "20/0/"+next || string(body) != groupBody("users_write")) {
			t.Errorf("21st POST /users: %s %s", limitHeaders(res), body)
		}
	}
	if count(st, 201) != 20 || st[20] != 429 {
		t.Fatalf("POST /users statuses %v", st)
	}
	// PATCH is a write too: refused.
	res, body := e.api(http.MethodPatch, "/api/v2/users/auth0|x", `{}`)
	if res.StatusCode != 429 || string(body) != groupBody("users_write") {
		t.Errorf("PATCH after the writes: %d %s", res.StatusCode, body)
	}
	// Reads of users are another bucket (40), and so is users-by-email.
	res, _ = e.api(http.MethodGet, "/api/v2/users-by-email?email=u1@example.com", "")
	if res.StatusCode != 200 || limitHeaders(res) != "40/39/"+next {
		t.Errorf("users-by-email: %d %s", res.StatusCode, limitHeaders(res))
	}
	// Connections: burst 5; 50/min adds ⅚ a second, so the next whole
	// token is two seconds away.
	st, hdr, body := e.send(6, http.MethodGet, "/api/v2/connections", "")
	if count(st, 200) != 5 || st[5] != 429 || hdr != "5/0/"+strconv.FormatInt(sec+2, 10) || string(body) != groupBody("connections_read") {
		t.Errorf("connections: %v %s %s", st, hdr, body)
	}
	// All other endpoints combined: burst 10, the global message.
	st, hdr, body = e.send(11, http.MethodPost, "/api/v2/jobs/verification-email", `{"user_id":"auth0|none"}`)
	if count(st, 429) != 1 || st[10] != 429 || hdr != "10/0/"+next || string(body) != rate429 {
		t.Errorf("verification-email: %v %s %s", st, hdr, body)
	}
	res, body = e.api(http.MethodGet, "/api/v2/jobs/job_x", "")
	if res.StatusCode != 429 || string(body) != rate429 {
		t.Errorf("a job poll shares the jobs' bucket: %d %s", res.StatusCode, body)
	}

	// One second later: 3⅓ write tokens (3 whole), ⅚ connection token (none).
	e.clk.Advance(time.Second)
	st, _, _ = e.send(4, http.MethodPatch, "/api/v2/users/auth0|x", `{}`)
	if fmt.Sprint(st) != "[404 404 404 429]" {
		t.Errorf("writes a second later: %v", st)
	}
	if res, _ := e.api(http.MethodGet, "/api/v2/connections", ""); res.StatusCode != 429 {
		t.Errorf("connections a second later: %d", res.StatusCode)
	}

	bs := e.s.Stats().Buckets
	want := map[string][2]int{"users_write": {23, 3}, "users_read": {1, 0}, "connections_read": {5, 2}, "other": {10, 2}, "oauth_token": {1, 0}}
	for name, w := range want {
		if got := [2]int{bs[name].Admitted, bs[name].RateLimited}; got != w {
			t.Errorf("bucket %s: admitted, refused %v, want %v", name, got, w)
		}
	}
	if bs["users_write"].Burst != 20 || bs["users_write"].PerSecond != 200.0/60 {
		t.Errorf("users_write stats %+v", bs["users_write"])
	}
	if e.s.Stats().Limits != "essentials" {
		t.Errorf("limits %q", e.s.Stats().Limits)
	}
}

func TestFreeOneBucket(t *testing.T) {
	e := newEnv(t, Config{Plan: PlanFree})
	// Burst 2 across every route.
	res1, _ := e.api(http.MethodGet, "/api/v2/connections", "")
	res2, _ := e.api(http.MethodGet, "/api/v2/users-by-email?email=a@example.com", "")
	res3, body := e.api(http.MethodPost, "/api/v2/users", createBody("a@example.com", ""))
	if res1.StatusCode != 200 || res2.StatusCode != 200 || res3.StatusCode != 429 || string(body) != rate429 {
		t.Fatalf("statuses %d %d %d %s", res1.StatusCode, res2.StatusCode, res3.StatusCode, body)
	}
	// 2/s by milliseconds: t0 is .543, the next token comes at .043 past
	// the next second (500ms later).
	if h := limitHeaders(res3); h != fmt.Sprintf("2/0/%d", t0.Unix()+2) {
		t.Errorf("headers %s", h)
	}
	e.clk.Advance(499 * time.Millisecond)
	if res, _ := e.api(http.MethodGet, "/api/v2/connections", ""); res.StatusCode != 429 {
		t.Errorf("after 499ms: %d", res.StatusCode)
	}
	e.clk.Advance(time.Millisecond)
	if res, _ := e.api(http.MethodGet, "/api/v2/connections", ""); res.StatusCode != 200 {
		t.Errorf("after 500ms: %d", res.StatusCode)
	}
}

// Enterprise: the global bucket is checked first, then the endpoint's own;
// a refused request takes from neither; the headers are the binding
// bucket's.
func TestEnterpriseGlobalThenEndpoint(t *testing.T) {
	e := newEnv(t, Config{Plan: PlanEnterprise})
	members := "/api/v2/organizations/org_1/members"
	// Organization members write: 20, inside the global 50. The sandbox
	// does not serve the route (404), but limits it first.
	res, _ := e.api(http.MethodPost, members, `{}`)
	if res.StatusCode != 404 || limitHeaders(res) != fmt.Sprintf("20/19/%d", t0.Unix()+1) {
		t.Errorf("first members write: %d %s (want the endpoint's headers: it binds)", res.StatusCode, limitHeaders(res))
	}
	st, _, body := e.send(20, http.MethodPost, members, `{}`)
	if count(st, 404) != 19 || st[19] != 429 || string(body) != groupBody("organization_members_write") {
		t.Fatalf("members writes %v %s", st, body)
	}
	// 20 of the global 50 are spent: 30 left for every other route.
	res, _ = e.api(http.MethodGet, "/api/v2/connections", "")
	if res.StatusCode != 200 || limitHeaders(res) != fmt.Sprintf("50/29/%d", t0.Unix()+1) {
		t.Errorf("connections: %d %s", res.StatusCode, limitHeaders(res))
	}
	st, hdr, body := e.send(30, http.MethodGet, "/api/v2/connections", "")
	if count(st, 200) != 29 || st[29] != 429 || string(body) != rate429 || hdr != fmt.Sprintf("50/0/%d", t0.Unix()+1) {
		t.Fatalf("global: %v %s %s", st, hdr, body)
	}
	// 16/s by milliseconds: 63ms later one global token; the members
	// bucket (200/min, at whole seconds) has none yet, so it refuses, and
	// the global token stays for the next request.
	e.clk.Advance(63 * time.Millisecond)
	res, body = e.api(http.MethodPost, members, `{}`)
	if res.StatusCode != 429 || string(body) != groupBody("organization_members_write") {
		t.Errorf("members write at +63ms: %d %s", res.StatusCode, body)
	}
	if res, _ := e.api(http.MethodGet, "/api/v2/connections", ""); res.StatusCode != 200 {
		t.Errorf("the refused members write took the global token: %d", res.StatusCode)
	}
	// The global refusal comes first: with the global bucket empty, a
	// members write is the global 429 and its own bucket is not charged.
	e.clk.Advance(time.Second) // members: +3⅓; global: +16
	st, _, _ = e.send(16, http.MethodGet, "/api/v2/connections", "")
	res, body = e.api(http.MethodPost, members, `{}`)
	if count(st, 200) != 16 || res.StatusCode != 429 || string(body) != rate429 {
		t.Errorf("global first: %v, then %d %s", st, res.StatusCode, body)
	}
	bs := e.s.Stats().Buckets
	if g, m := bs["global"], bs["organization_members_write"]; g.Admitted != 20+30+1+16 || g.RateLimited != 2 || m.Admitted != 20 || m.RateLimited != 2 {
		t.Errorf("stats global %+v members %+v", g, m)
	}
}

func TestStormWithPlan(t *testing.T) {
	e := newEnv(t, Config{Plan: PlanEssentials, Faults: Faults{StormStart: 5 * time.Second, StormDuration: 30 * time.Second}})
	e.clk.Advance(5 * time.Second)
	res, body := e.api(http.MethodPost, "/api/v2/users", createBody("a@example.com", ""))
	stormEnd := strconv.FormatInt(t0.Add(35*time.Second).Unix()+1, 10)
	if res.StatusCode != 429 || string(body) != rate429 || limitHeaders(res) != "20/0/"+stormEnd {
		t.Errorf("in the storm: %d %s %s", res.StatusCode, body, limitHeaders(res))
	}
	e.clk.Advance(30 * time.Second)
	if res, _ := e.api(http.MethodPost, "/api/v2/users", createBody("a@example.com", "")); res.StatusCode != 201 {
		t.Errorf("after the storm: %d", res.StatusCode)
	}
	st := e.s.Stats()
	if st.Faults.Storm != 1 || st.RateLimited != 1 || st.Buckets["users_write"] != (BucketStats{Burst: 20, PerSecond: 200.0 / 60, Admitted: 1}) {
		t.Errorf("stats %+v %+v", st.Faults, st.Buckets["users_write"])
	}
}

// Another client drains one bucket: that bucket alone refuses during the
// window and refills from empty after it.
func TestDrainOneBucket(t *testing.T) {
	e := newEnv(t, Config{Plan: PlanEssentials, JobDelay: -1,
		Faults: Faults{DrainBucket: "users_write", DrainStart: 10 * time.Second, DrainDuration: 5 * time.Second}})
	patch := func() int {
		res, _ := e.api(http.MethodPatch, "/api/v2/users/auth0|x", `{}`)
		return res.StatusCode
	}
	if s := patch(); s != 404 {
		t.Fatalf("before the drain: %d", s)
	}
	e.clk.Advance(10 * time.Second)
	res, body := e.api(http.MethodPatch, "/api/v2/users/auth0|x", `{}`)
	if res.StatusCode != 429 || string(body) != groupBody("users_write") {
		t.Errorf("drained: %d %s", res.StatusCode, body)
	}
	if res, _ := e.api(http.MethodGet, "/api/v2/users-by-email?email=a@example.com", ""); res.StatusCode != 200 {
		t.Errorf("another bucket during the drain: %d", res.StatusCode)
	}
	// The drainer took every token up to the window's end (t0+15s, .543
	// into a second); the next arrive at the next whole second.
	e.clk.Advance(5 * time.Second)
	res, _ = e.api(http.MethodPatch, "/api/v2/users/auth0|x", `{}`)
	if res.StatusCode != 429 || limitHeaders(res) != fmt.Sprintf("20/0/%d", t0.Unix()+16) {
		t.Errorf("at the window's end: %d %s", res.StatusCode, limitHeaders(res))
	}
	e.clk.Advance(457 * time.Millisecond) // the whole second
	st, _, _ := e.send(5, http.MethodPatch, "/api/v2/users/auth0|x", `{}`)
	if fmt.Sprint(st) != "[404 404 404 404 429]" {
		t.Errorf("after the drain: %v, want 4: 3⅓ tokens plus the ⅔ the drainer could not take", st)
	}
}

func TestTokenResets(t *testing.T) {
	e := newEnv(t, Config{Faults: Faults{TokenResetSkip: 1, TokenResets: 2}}) // newEnv fetched #0
	var got []bool
	for range 3 {
		_, _, err := e.try(http.MethodPost, "/oauth/token", "application/json",
			`{"grant_type":"client_credentials","client_id":"c","client_secret":"s","audience":"`+e.audience()+`"}`, nil)
		got = append(got, err == nil)
	}
	if fmt.Sprint(got) != "[false false true]" {
		t.Errorf("token fetches answered %v, want [false false true]", got)
	}
	if st := e.s.Stats(); st.Faults.TokenResets != 2 || st.Requests["POST /oauth/token"] != 4 {
		t.Errorf("stats %+v %v", st.Faults, st.Requests)
	}
}

func TestTokenResetFractionIsSeeded(t *testing.T) {
	pattern := func(seed int64) string {
		// Skip 1: newEnv's own fetch is never dropped.
		e := newEnv(t, Config{Faults: Faults{Seed: seed, TokenReset: 0.5, TokenResetSkip: 1}})
		out := ""
		for range 24 {
			_, _, err := e.try(http.MethodPost, "/oauth/token", "application/json",
				`{"grant_type":"client_credentials","client_id":"c","client_secret":"s","audience":"`+e.audience()+`"}`, nil)
			out += map[bool]string{true: ".", false: "x"}[err == nil]
		}
		return out
	}
	a, b, c := pattern(3), pattern(3), pattern(4)
	if a != b {
		t.Errorf("same seed, different resets: %s %s", a, b)
	}
	if a == c {
		t.Errorf("another seed, same resets: %s", a)
	}
	if !strings.Contains(a, ".") || !strings.Contains(a, "x") {
		t.Errorf("fraction 0.5 gave %s", a)
	}
}

func TestTokenBucket429(t *testing.T) {
	e := newEnv(t, Config{Plan: PlanFree}) // 30 / 30 per second; newEnv took one
	body := `{"grant_type":"client_credentials","client_id":"c","client_secret":"s","audience":"` + e.audience() + `"}`
	var last *http.Response
	var lastBody []byte
	ok := 0
	for range 30 {
		last, lastBody = e.raw(http.MethodPost, "/oauth/token", "application/json", body, nil)
		if last.StatusCode == 200 {
			ok++
		}
	}
	if ok != 29 || last.StatusCode != 429 || string(lastBody) != `{"error":"too_many_requests","error_description":"Global limit has been reached"}` {
		t.Errorf("%d tokens, last %d %s", ok, last.StatusCode, lastBody)
	}
	if h := limitHeaders(last); h != fmt.Sprintf("30/0/%d", t0.Unix()+1) {
		t.Errorf("headers %s", h)
	}
	// The Management API's bucket is another one.
	if res, _ := e.api(http.MethodGet, "/api/v2/connections", ""); res.StatusCode != 200 {
		t.Errorf("API after the token bucket ran dry: %d", res.StatusCode)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg Config
		ok  bool
	}{
		{Config{}, true},
		{Config{Plan: PlanEnterprise}, true},
		{Config{Rate: 5}, true},
		{Config{Plan: "gold"}, false},
		{Config{Plan: PlanFree, Rate: 5}, false},
		{Config{Rate: -1}, false},
		{Config{Plan: PlanEssentials, Faults: Faults{DrainBucket: "users_write"}}, true},
		{Config{Plan: PlanEssentials, Faults: Faults{DrainBucket: "global"}}, false},
		{Config{Plan: PlanFree, Faults: Faults{DrainBucket: "global"}}, true},
		{Config{Rate: 3, Faults: Faults{DrainBucket: "global"}}, true},
		{Config{Faults: Faults{DrainBucket: "global"}}, false},
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v: %v", tt.cfg, err)
		}
	}
}
