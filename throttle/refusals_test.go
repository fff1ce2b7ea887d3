package throttle

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

const jobURL = "https://tenant.test/api/v2/jobs/job_9fj3Kq2"

// storm is n answers 429 whose reset is one second ahead (another client
// keeps the bucket empty, as Auth0 shows it), each taken at a fake time
// that the test's drive advances by one second per retry.
func storm(clk *clock.Fake, n int) []step {
	steps := make([]step, n)
	for i := range steps {
		reset := strconv.FormatInt(clk.Now().Add(time.Duration(i+1)*time.Second).Unix(), 10)
		steps[i] = step{status: 429, header: map[string]string{"X-Ratelimit-Reset": reset}}
	}
	return steps
}

func getURL(t *testing.T, u string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// A storm of 429s (here 20s of them) is waited out however many retries it
// takes: it used to fail the request after MaxRetries (5) retries.
func TestStormWaitedOut(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newStub(t, append(storm(clk, 20), step{status: 200, body: "done"})...)
	o := fastOptions(clk)
	o.MaxRetries = 5
	resp, waits, err := drive(t, clk, New(s, o), getURL(t, jobURL))
	if err != nil {
		t.Fatalf("err %v, want the answer after the storm", err)
	}
	if got := readBody(t, resp); got != "done" {
		t.Errorf("body %q", got)
	}
	if len(waits) != 20 {
		t.Errorf("%d retry waits, want 20", len(waits))
	}
}

// When the tenant refused every request for MaxWait, the request fails
// with a *RefusedError that names the budget, the cause and the route
// (ids as {id}); the last try comes at the end of the budget.
func TestMaxWaitExhausted(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newStub(t, storm(clk, 11)...)
	o := fastOptions(clk)
	o.MaxWait = 10 * time.Second
	_, waits, err := drive(t, clk, New(s, o), getURL(t, jobURL))
	var refused *RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("err %v, want *RefusedError", err)
	}
	if want := "the tenant refused every request for 10s (429 rate limit on GET /api/v2/jobs/{id})"; err.Error() != want {
		t.Errorf("err %q, want %q", err, want)
	}
	var sum time.Duration
	for _, w := range waits {
		sum += w
	}
	if sum != 10*time.Second {
		t.Errorf("waited %v in all (%v), want exactly MaxWait", sum, waits)
	}
}

// Any answer stops the refusal clock: a second storm gets the whole budget
// again, though the two together last longer than MaxWait.
func TestAnswerRestartsMaxWait(t *testing.T) {
	clk := clock.NewFake(t0)
	var steps []step
	steps = append(steps, storm(clk, 8)...)
	steps = append(steps, step{status: 200})
	later := clock.NewFake(t0.Add(8 * time.Second))
	steps = append(steps, storm(later, 8)...)
	steps = append(steps, step{status: 200})
	s := newStub(t, steps...)
	o := fastOptions(clk)
	o.MaxWait = 10 * time.Second
	tr := New(s, o)
	for i := range 2 {
		resp, _, err := drive(t, clk, tr, getURL(t, jobURL))
		if err != nil {
			t.Fatalf("request %d: %v, want an answer (each storm is within MaxWait)", i+1, err)
		}
		drain(resp)
	}
}

// The clock is the run's: Transports sharing Refusals share the budget,
// and an answer to any request stops the clock.
func TestRefusalsShared(t *testing.T) {
	ref := NewRefusals(10 * time.Second)
	if w, ok := ref.refused(t0, time.Second); !ok || w != time.Second {
		t.Fatalf("first refusal: %v %v", w, ok)
	}
	if w, ok := ref.refused(t0.Add(8*time.Second), 5*time.Second); !ok || w != 2*time.Second {
		t.Errorf("8s in: wait %v %v, want cut to the 2s left", w, ok)
	}
	if _, ok := ref.refused(t0.Add(10*time.Second), time.Second); ok {
		t.Errorf("10s in: still allowed")
	}
	ref.answered()
	if w, ok := ref.refused(t0.Add(11*time.Second), 5*time.Second); !ok || w != 5*time.Second {
		t.Errorf("after an answer: %v %v, want the whole budget again", w, ok)
	}

	// Another Transport of the run has been refused for 6s: this one gets
	// what is left, 4s.
	clk := clock.NewFake(t0.Add(6 * time.Second))
	ref = NewRefusals(10 * time.Second)
	ref.refused(t0, 0)
	o := fastOptions(clk)
	o.Refusals = ref
	_, waits, err := drive(t, clk, New(newStub(t, storm(clk, 5)...), o), getURL(t, jobURL))
	var refused *RefusedError
	if !errors.As(err, &refused) || len(waits) != 4 {
		t.Errorf("%v after %v, want refused after 4s (the shared clock)", err, waits)
	}
}

// A 429 is handed over at once when waiting is off (MaxWait < 0).
func TestNoWaitingReturnsTheRefusal(t *testing.T) {
	clk := clock.NewFake(t0)
	o := fastOptions(clk)
	o.MaxWait = -1
	resp, waits, err := drive(t, clk, New(newStub(t, step{status: 429}), o), getURL(t, jobURL))
	if err != nil || resp.StatusCode != 429 || len(waits) != 0 {
		t.Errorf("got %v %v after %v, want the 429 at once", resp, err, waits)
	}
	resp, _, err = drive(t, clk, New(newStub(t, step{err: errReset}), o), getURL(t, jobURL))
	if !errors.Is(err, errReset.Err) || resp != nil {
		t.Errorf("got %v %v, want the connection error at once", resp, err)
	}
}

// Resendable (the token request) is sent again after a connection failure
// even once written: it changes nothing in the tenant.
func TestResendableRetriedAfterWrite(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newStub(t, step{err: errReset, wrote: true}, step{status: 200})
	o := fastOptions(clk)
	o.Resendable = true
	req, _ := http.NewRequest(http.MethodPost, "https://tenant.test/oauth/token", strings.NewReader("grant_type=client_credentials"))
	resp, _, err := drive(t, clk, New(s, o), req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("got %v %v, want the token after a retry", resp, err)
	}
	if s.bodies[0] != s.bodies[1] {
		t.Errorf("the retry sent %q, want the same body", s.bodies[1])
	}
}

// A *RefusedError from inside (the token endpoint's Transport, under the
// API's) already spent the run's budget: it is not waited out again.
func TestInnerRefusalNotRetried(t *testing.T) {
	clk := clock.NewFake(t0)
	inner := &RefusedError{For: time.Minute, Method: "POST", Route: "/oauth/token", Err: errReset}
	s := newStub(t, step{err: inner})
	_, waits, err := drive(t, clk, New(s, fastOptions(clk)), getURL(t, jobURL))
	var refused *RefusedError
	if !errors.As(err, &refused) || refused != inner || len(waits) != 0 {
		t.Errorf("got %v after %v, want the inner refusal at once", err, waits)
	}
}

// Every retry is announced with its route (ids as {id}), cause and wait.
func TestOnRetryNamesTheRoute(t *testing.T) {
	clk := clock.NewFake(t0)
	var got []RetryEvent
	o := fastOptions(clk)
	o.OnRetry = func(e RetryEvent) { got = append(got, e) }
	s := newStub(t, append(storm(clk, 1), step{err: errRefused}, step{status: 200})...)
	resp, _, err := drive(t, clk, New(s, o), getURL(t, jobURL+"/errors"))
	if err != nil {
		t.Fatal(err)
	}
	drain(resp)
	if len(got) != 2 {
		t.Fatalf("events %+v, want 2", got)
	}
	if e := got[0]; e.Route != "/api/v2/jobs/{id}/errors" || e.Status != 429 || !e.RateLimited() || e.Wait != time.Second || e.Attempt != 1 {
		t.Errorf("first event %+v", e)
	}
	if e := got[1]; e.Status != 0 || e.RateLimited() || !errors.Is(e.Err, errRefused.Err) || e.Attempt != 2 {
		t.Errorf("second event %+v", e)
	}
}

func TestRoute(t *testing.T) {
	for in, want := range map[string]string{
		"https://t.test/api/v2/jobs/job_9fj3Kq2":                   "/api/v2/jobs/{id}",
		"https://t.test/api/v2/jobs/job_9fj3Kq2/errors":            "/api/v2/jobs/{id}/errors",
		"https://t.test/api/v2/jobs/users-imports":                 "/api/v2/jobs/users-imports",
		"https://t.test/api/v2/jobs/verification-email":            "/api/v2/jobs/verification-email",
		"https://t.test/api/v2/users/auth0%7Cabc":                  "/api/v2/users/{id}",
		"https://t.test/api/v2/users-by-email?email=a%40b.c":       "/api/v2/users-by-email",
		"https://t.test/api/v2/connections?name=Username-Password": "/api/v2/connections",
		"https://t.test/oauth/token":                               "/oauth/token",
		"https://t.test/api/v2/organizations/org_X1/members":       "/api/v2/organizations/{id}/members",
	} {
		u, _ := url.Parse(in)
		if got := Route(u); got != want {
			t.Errorf("Route(%s) = %q, want %q", in, got, want)
		}
	}
}

// A bucket counts requests and 429s, and the wall time during which some
// of its requests was held back: two concurrent waits count once.
func TestStatsBucketHeld(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newStub(t, append(storm(clk, 3), step{status: 200})...)
	tr := New(s, fastOptions(clk))
	resp, _, err := drive(t, clk, tr, getURL(t, jobURL))
	if err != nil {
		t.Fatal(err)
	}
	drain(resp)
	st := tr.Stats()
	want := []BucketStats{{Name: "GET /api/v2/jobs/{id}", Requests: 4, RateLimited: 3, Waited: 3 * time.Second, Held: 3 * time.Second}}
	if !reflect.DeepEqual(st.Buckets, want) {
		t.Errorf("buckets %+v, want %+v", st.Buckets, want)
	}

	var m waitMeter
	m.begin(t0)
	m.begin(t0.Add(time.Second))
	m.end(t0.Add(2 * time.Second))
	if got := m.total(t0.Add(3 * time.Second)); got != 3*time.Second {
		t.Errorf("a wait still going: %v, want 3s", got)
	}
	m.end(t0.Add(4 * time.Second))
	m.begin(t0.Add(10 * time.Second))
	m.end(t0.Add(11 * time.Second))
	if got := m.total(t0.Add(20 * time.Second)); got != 5*time.Second {
		t.Errorf("overlapping waits: %v, want 5s (4s + 1s)", got)
	}
}
