package sandbox

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/management"
)

const rate429 = `{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached","errorCode":"too_many_requests"}`

func limitHeaders(res *http.Response) string {
	return res.Header.Get("x-ratelimit-limit") + "/" + res.Header.Get("x-ratelimit-remaining") + "/" + res.Header.Get("x-ratelimit-reset")
}

func TestTokenBucket(t *testing.T) {
	e := newEnv(t, Config{Rate: 1, Burst: 2})
	sec := t0.Unix() // t0 is 543ms past this second
	steps := []struct {
		advance time.Duration
		status  int
		headers string
	}{
		// The reset is when the next whole token arrives (rounded up),
		// whether or not some remain.
		{0, 200, fmt.Sprintf("2/1/%d", sec+2)},
		{0, 200, fmt.Sprintf("2/0/%d", sec+2)},
		{0, 429, fmt.Sprintf("2/0/%d", sec+2)},
		{500 * time.Millisecond, 429, fmt.Sprintf("2/0/%d", sec+2)},
		{500 * time.Millisecond, 200, fmt.Sprintf("2/0/%d", sec+3)},
		{5 * time.Second, 200, fmt.Sprintf("2/1/%d", sec+8)}, // refilled to the burst, not beyond
	}
	for i, st := range steps {
		e.clk.Advance(st.advance)
		res, body := e.api(http.MethodGet, "/api/v2/connections", "")
		if res.StatusCode != st.status || limitHeaders(res) != st.headers {
			t.Errorf("step %d: %d %s, want %d %s", i, res.StatusCode, limitHeaders(res), st.status, st.headers)
		}
		if res.StatusCode == 429 && string(body) != rate429 {
			t.Errorf("step %d: 429 body %s", i, body)
		}
	}
	// A refused write has no side effect.
	e.api(http.MethodGet, "/api/v2/connections", "")
	res, _ := e.api(http.MethodPost, "/api/v2/users", createBody("a@example.com", ""))
	if res.StatusCode != 429 || len(e.s.Users()) != 0 {
		t.Errorf("rate-limited create: %d, users %d", res.StatusCode, len(e.s.Users()))
	}
	if res.Header.Get("Retry-After") != "" {
		t.Error("Retry-After is not promised by Auth0 and must not be sent")
	}
	if got := e.s.Stats().RateLimited; got != 3 {
		t.Errorf("rate_limited = %d, want 3", got)
	}
}

func TestUnlimitedHeaders(t *testing.T) {
	e := newEnv(t, Config{})
	res, _ := e.api(http.MethodGet, "/api/v2/connections", "")
	if limitHeaders(res) != "50/50/"+strconv.FormatInt(t0.Unix(), 10) {
		t.Errorf("headers %s", limitHeaders(res))
	}
}

func TestStorm(t *testing.T) {
	e := newEnv(t, Config{Faults: Faults{StormStart: 10 * time.Second, StormDuration: 5 * time.Second}})
	steps := []struct {
		advance time.Duration
		status  int
	}{{0, 200}, {10 * time.Second, 429}, {4 * time.Second, 429}, {time.Second, 200}}
	for i, st := range steps {
		e.clk.Advance(st.advance)
		res, body := e.api(http.MethodGet, "/api/v2/connections", "")
		if res.StatusCode != st.status {
			t.Fatalf("step %d: %d", i, res.StatusCode)
		}
		if st.status == 429 {
			if string(body) != rate429 || res.Header.Get("x-ratelimit-reset") != strconv.FormatInt(t0.Unix()+16, 10) {
				t.Errorf("step %d: %s %s", i, body, limitHeaders(res))
			}
		}
	}
}

// outcomes sends 40 distinct requests, each twice, and returns every status.
func outcomes(t *testing.T, seed int64, concurrent bool) map[string]int {
	e := newEnv(t, Config{Faults: Faults{Seed: seed, Error5xx: 0.5}})
	out := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range 40 {
		send := func() {
			path := fmt.Sprintf("/api/v2/users/auth0|u%d", i)
			var got []int
			for range 2 { // the same request twice: its attempts are numbered
				res, _, err := e.apiTry(http.MethodGet, path, "", nil)
				if err != nil {
					t.Error(err)
					return
				}
				got = append(got, res.StatusCode)
			}
			mu.Lock()
			out[path] = got[0]*1000 + got[1]
			mu.Unlock()
		}
		if concurrent {
			wg.Add(1)
			go func() { defer wg.Done(); send() }()
		} else {
			send()
		}
	}
	wg.Wait()
	return out
}

func TestFaultDeterminism(t *testing.T) {
	a, b := outcomes(t, 7, false), outcomes(t, 7, true)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("same seed, different faults:\n%v\n%v", a, b)
	}
	statuses := map[int]bool{}
	for _, v := range a {
		statuses[v/1000], statuses[v%1000] = true, true
	}
	if !statuses[503] || !statuses[404] {
		t.Errorf("Error5xx 0.5 gave only %v", statuses)
	}
	if c := outcomes(t, 8, false); fmt.Sprint(a) == fmt.Sprint(c) {
		t.Error("a different seed gave the same faults")
	}
}

func TestResetBefore(t *testing.T) {
	e := newEnv(t, Config{Faults: Faults{ResetBefore: 1}})
	if _, _, err := e.apiTry(http.MethodPost, "/api/v2/users", createBody("a@example.com", ""), nil); err == nil {
		t.Fatal("POST answered despite ResetBefore 1")
	}
	if n := len(e.s.Users()); n != 0 {
		t.Errorf("reset-before acted: %d users", n)
	}
	res, body := e.api(http.MethodGet, "/api/v2/connections", "") // reads are never reset
	wantStatus(t, res, body, http.StatusOK)
	if f := e.s.Stats().Faults; f != (FaultStats{ResetBefore: 1}) {
		t.Errorf("faults %+v", f)
	}
}

func TestResetAfter(t *testing.T) {
	e := newEnv(t, Config{JobDelay: -1, Faults: Faults{ResetAfter: 1}})
	if _, _, err := e.apiTry(http.MethodPost, "/api/v2/users", createBody("a@example.com", ""), nil); err == nil {
		t.Fatal("POST answered despite ResetAfter 1")
	}
	users := e.s.Users()
	if len(users) != 1 || users[0].Email != "a@example.com" {
		t.Fatalf("reset-after: the user should exist: %+v", users)
	}
	// The client settles the unknown fate by reading back.
	res, body := e.api(http.MethodGet, "/api/v2/users-by-email?email=a@example.com", "")
	wantStatus(t, res, body, http.StatusOK)

	ct, mp := multipartBody(t, `[{"email":"b@example.com"}]`, map[string]string{"connection_id": e.connID(upa)})
	if _, _, err := e.try(http.MethodPost, "/api/v2/jobs/users-imports", ct, mp, map[string]string{"Authorization": "Bearer " + e.token}); err == nil {
		t.Fatal("import answered despite ResetAfter 1")
	}
	if st := e.s.Stats(); st.ImportJobs != 1 || st.Faults.ResetAfter != 2 || st.Users != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestMultipartHashIgnoresBoundary(t *testing.T) {
	ct1, b1 := multipartBody(t, `[{"email":"a@example.com"}]`, map[string]string{"connection_id": "con_x"})
	ct2, b2 := multipartBody(t, `[{"email":"a@example.com"}]`, map[string]string{"connection_id": "con_x"})
	if b1 == b2 {
		t.Fatal("test needs two different boundaries")
	}
	if contentHash(ct1, []byte(b1)) != contentHash(ct2, []byte(b2)) {
		t.Error("the same import hashes differently with another boundary")
	}
	ct3, b3 := multipartBody(t, `[{"email":"b@example.com"}]`, map[string]string{"connection_id": "con_x"})
	if contentHash(ct1, []byte(b1)) == contentHash(ct3, []byte(b3)) {
		t.Error("different files hash the same")
	}
}

func TestCustomDomainHeader(t *testing.T) {
	e := newEnv(t, Config{})
	e.s.AddUser(management.User{UserID: "auth0|abc", Email: "a@example.com"}, upa)
	hdr := func(v string) map[string]string { return map[string]string{customDomainHeader: v} }
	tests := []struct {
		name, method, path, body, domain string
		status                           int
		message                          string
	}{
		{"create, known", "POST", "/api/v2/users", createBody("b@example.com", ""), "login.example.com", 201, ""},
		{"create, unknown", "POST", "/api/v2/users", createBody("c@example.com", ""), "other.example.com", 400, "The custom domain does not exist for the tenant."},
		{"create, malformed", "POST", "/api/v2/users", createBody("c@example.com", ""), "https://login.example.com", 400, "The `auth0-custom-domain` HTTP header has an invalid format."},
		{"patch, known", "PATCH", "/api/v2/users/auth0|abc", `{"given_name":"A"}`, "LOGIN.example.com", 200, ""},
		{"verification, known", "POST", "/api/v2/jobs/verification-email", `{"user_id":"auth0|abc"}`, "login.example.com", 201, ""},
		{"read: violation but served", "GET", "/api/v2/users/auth0|abc", "", "login.example.com", 200, ""},
		{"connections: violation", "GET", "/api/v2/connections", "", "bad value", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body, err := e.apiTry(tt.method, tt.path, tt.body, hdr(tt.domain))
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status {
				t.Fatalf("%d %s", res.StatusCode, body)
			}
			if tt.message != "" && string(body) != `{"statusCode":400,"error":"Bad Request","message":"`+tt.message+`"}` {
				t.Errorf("body %s", body)
			}
		})
	}
	st := e.s.Stats()
	want := map[string]int{"POST /api/v2/users": 3, "PATCH /api/v2/users/{id}": 1, "POST /api/v2/jobs/verification-email": 1}
	if fmt.Sprint(st.CustomDomainHeaders) != fmt.Sprint(want) {
		t.Errorf("headers %v", st.CustomDomainHeaders)
	}
	wantV := []DomainViolation{{"GET", "/api/v2/users/auth0|abc", "login.example.com"}, {"GET", "/api/v2/connections", "bad value"}}
	if fmt.Sprint(st.CustomDomainViolations) != fmt.Sprint(wantV) {
		t.Errorf("violations %+v", st.CustomDomainViolations)
	}
	if len(st.VerificationEmails) != 1 || st.VerificationEmails[0].CustomDomain != "login.example.com" {
		t.Errorf("verification %+v", st.VerificationEmails)
	}
	if len(e.s.Users()) != 2 {
		t.Errorf("a refused custom domain created a user")
	}
}

func TestError5xxHasNoSideEffect(t *testing.T) {
	e := newEnv(t, Config{Faults: Faults{Error5xx: 1}})
	res, body, err := e.apiTry(http.MethodPost, "/api/v2/users", createBody("a@example.com", ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("x-ratelimit-limit") == "" {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	var ae management.APIError
	mustUnmarshal(t, body, &ae)
	if ae.StatusCode != 503 || len(e.s.Users()) != 0 || e.s.Stats().Faults.Error5xx != 1 {
		t.Errorf("503 %s, users %d", body, len(e.s.Users()))
	}
}

// TestRequestsCountedOnlyForFaults: the per-request count the fault
// decisions read is kept only when such a fault is configured, so a
// tenant serving millions of creates does not grow by one entry each.
func TestRequestsCountedOnlyForFaults(t *testing.T) {
	for _, c := range []struct {
		name   string
		faults Faults
		want   int
	}{
		{"no faults", Faults{}, 0},
		{"5xx", Faults{Seed: 1, Error5xx: 0.0001}, 2},
		{"verification", Faults{Seed: 1, FailVerification: 0.5}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, Config{Faults: c.faults})
			for _, email := range []string{"a@example.com", "b@example.com"} {
				e.apiTry(http.MethodPost, "/api/v2/users", createBody(email, ""), nil)
			}
			e.s.mu.Lock()
			n := len(e.s.seen)
			e.s.mu.Unlock()
			if n != c.want {
				t.Errorf("%d requests remembered, want %d", n, c.want)
			}
		})
	}
}
