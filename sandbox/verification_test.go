package sandbox

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/management"
)

// A verification job is only a request, as Auth0's: the recorded 201 says
// pending, and it reads pending until its job delay has passed by the
// tenant's clock, then completed. (It used to read completed at once.)
func TestVerificationEmailJob(t *testing.T) {
	e := newEnv(t, Config{JobDelay: 3 * time.Second})
	e.s.AddUser(management.User{UserID: "auth0|abc", Email: "a@example.com"}, upa)
	res, body := e.api(http.MethodPost, "/api/v2/jobs/verification-email", `{"user_id":"auth0|abc"}`)
	wantStatus(t, res, body, http.StatusCreated)
	sameJSON(t, body, `{"type":"verification_email","status":"pending","created_at":"2023-01-25T17:48:16.543Z","id":"job_6nNLiwFZksN0YmRR"}`)
	var j management.Job
	mustUnmarshal(t, body, &j)
	read := func() management.Job {
		t.Helper()
		res, body := e.api(http.MethodGet, "/api/v2/jobs/"+j.ID, "")
		wantStatus(t, res, body, http.StatusOK)
		var got management.Job
		mustUnmarshal(t, body, &got)
		return got
	}
	e.clk.Advance(2 * time.Second)
	if got := read(); got.Status != management.JobPending || got.PercentageDone != nil {
		t.Fatalf("before the delay: %+v, want pending", got)
	}
	e.clk.Advance(time.Second)
	if got := read(); got.Status != management.JobCompleted || got.StatusDetails != "" || got.Summary != nil {
		t.Fatalf("after the delay: %+v, want completed", got)
	}
	res, body = e.api(http.MethodPost, "/api/v2/jobs/verification-email", `{"user_id":"auth0|nobody"}`)
	wantStatus(t, res, body, http.StatusNotFound)
	res, body = e.api(http.MethodPost, "/api/v2/jobs/verification-email", `{}`)
	wantStatus(t, res, body, http.StatusBadRequest)
	st := e.s.Stats()
	if len(st.VerificationEmails) != 1 || st.VerificationEmails[0] != (VerificationEmail{UserID: "auth0|abc", JobID: j.ID}) {
		t.Errorf("stats %+v", st.VerificationEmails)
	}
}

// Faults.FailVerification makes verification jobs end failed with no
// status_details, as Auth0's may; the decision is the seed's and the
// request's, so the same seed fails the same users whatever the order.
func TestVerificationJobFault(t *testing.T) {
	outcomes := func(frac float64, order []int) map[string]string {
		e := newEnv(t, Config{JobDelay: -1, Faults: Faults{Seed: 3, FailVerification: frac}})
		for i := range 20 {
			e.s.AddUser(management.User{UserID: fmt.Sprintf("auth0|u%d", i), Email: fmt.Sprintf("u%d@example.com", i)}, upa)
		}
		ids := map[string]string{}
		for _, i := range order {
			user := fmt.Sprintf("auth0|u%d", i)
			res, body := e.api(http.MethodPost, "/api/v2/jobs/verification-email", `{"user_id":"`+user+`"}`)
			wantStatus(t, res, body, http.StatusCreated)
			var j management.Job
			mustUnmarshal(t, body, &j)
			if j.Status != management.JobPending {
				t.Fatalf("answered %+v, want pending", j)
			}
			ids[user] = j.ID
		}
		got := map[string]string{}
		failed := map[string]bool{}
		for _, v := range e.s.Stats().VerificationEmails {
			failed[v.JobID] = v.Failed
		}
		for user, id := range ids {
			_, body := e.api(http.MethodGet, "/api/v2/jobs/"+id, "")
			var j management.Job
			mustUnmarshal(t, body, &j)
			if j.StatusDetails != "" || (j.Status == management.JobFailed) != failed[id] {
				t.Fatalf("%s: %s (stats failed %v)", user, body, failed[id])
			}
			got[user] = j.Status
		}
		return got
	}
	forward, backward := make([]int, 20), make([]int, 20)
	for i := range 20 {
		forward[i], backward[i] = i, 19-i
	}
	a, b := outcomes(0.5, forward), outcomes(0.5, backward)
	n := 0
	for user, st := range a {
		if st != b[user] {
			t.Errorf("%s: %s in one order, %s in the other", user, st, b[user])
		}
		if st == management.JobFailed {
			n++
		}
	}
	if n == 0 || n == 20 {
		t.Fatalf("%d of 20 failed with FailVerification 0.5", n)
	}
	for user, st := range outcomes(0, forward) {
		if st != management.JobCompleted {
			t.Fatalf("%s: %s without the fault", user, st)
		}
	}
}
