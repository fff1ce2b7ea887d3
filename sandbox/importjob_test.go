package sandbox

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

const recordedHead = `{"type":"users_import","status":"%s","connection_id":"con_ftSSLHb0O7rcUGmF",%s"connection":"Username-Password-Authentication",%s"created_at":"2023-01-25T17:48:16.543Z","id":"job_6nNLiwFZksN0YmRR"}`

// jobJSON is the recorded job shape with the given status, summary and
// status_details (either may be empty).
func jobJSON(status, summary, details string) string {
	if summary != "" {
		summary = `"summary":` + summary + ","
	}
	if details != "" {
		details = `"status_details":"` + details + `",`
	}
	return fmt.Sprintf(recordedHead, status, summary, details)
}

func usersJSON(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf(`{"email":"u%d@example.com"}`, i))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// Auth0: "Expired jobs are completed jobs that were created more than 2
// hours ago"; the documented example carries no summary. The users stay
// imported, and an expired job holds no slot.
func TestCompletedImportJobExpiresAfterTwoHours(t *testing.T) {
	e := newEnv(t, Config{Connections: recordedConns, JobDelay: 10 * time.Second})
	id := e.importJob(usersJSON(2), nil)
	read := func() string {
		res, body := e.api(http.MethodGet, "/api/v2/jobs/"+id, "")
		wantStatus(t, res, body, http.StatusOK)
		return string(body)
	}
	e.clk.Advance(2 * time.Hour) // exactly 2 hours: not yet "more than"
	sameJSON(t, []byte(read()), jobJSON("completed", `{"failed":0,"updated":0,"inserted":2,"total":2}`, ""))
	e.clk.Advance(time.Millisecond)
	sameJSON(t, []byte(read()), jobJSON("expired", "", ""))
	if n := len(e.s.Users()); n != 2 {
		t.Fatalf("%d users after the job expired, want 2", n)
	}
	e.importJob(usersJSON(1), nil)
	e.importJob(`[{"email":"other@example.com"}]`, nil) // a second slot: the expired job holds none
}

// A job still running at 2 hours times out: it reads failed, and the users
// it processed by then are in the tenant.
func TestImportJobTimesOutAtTwoHours(t *testing.T) {
	cases := []struct {
		name     string
		cfg      Config
		inserted int
	}{
		// Runs 3h, processing from 1.5h: a third through at 2h.
		{"fault", Config{Connections: recordedConns, Faults: Faults{TimeOutEveryNthJob: 1}}, 2},
		// Runs 4h, processing from 2h: nothing processed yet.
		{"pending at 2h", Config{Connections: recordedConns, JobDelay: 2 * time.Hour}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.cfg)
			id := e.importJob(usersJSON(6), nil)
			e.clk.Advance(2*time.Hour - time.Millisecond)
			res, body := e.api(http.MethodGet, "/api/v2/jobs/"+id, "")
			wantStatus(t, res, body, http.StatusOK)
			if s := string(body); !strings.Contains(s, `"status":"processing"`) && !strings.Contains(s, `"status":"pending"`) {
				t.Fatalf("before 2h: %s", body)
			}
			if n := len(e.s.Users()); n != 0 {
				t.Fatalf("%d users before the job ended", n)
			}
			e.clk.Advance(time.Millisecond)
			_, body = e.api(http.MethodGet, "/api/v2/jobs/"+id, "")
			sameJSON(t, body, jobJSON("failed", "", TimedOutJobDetails))
			res, body = e.api(http.MethodGet, "/api/v2/jobs/"+id+"/errors", "")
			wantStatus(t, res, body, http.StatusOK)
			sameJSON(t, body, `{"status":"failed","type":"users_import","created_at":"2023-01-25T17:48:16.543Z","id":"job_6nNLiwFZksN0YmRR","connection_id":"con_ftSSLHb0O7rcUGmF","status_details":"`+TimedOutJobDetails+`"}`)
			users := e.s.Users()
			if len(users) != tc.inserted {
				t.Fatalf("%d users inserted before the timeout, want %d", len(users), tc.inserted)
			}
			for i, u := range users {
				if want := fmt.Sprintf("u%d@example.com", i); u.Email != want {
					t.Errorf("user %d is %s, want %s (processed in file order)", i, u.Email, want)
				}
			}
			// Failed stays failed (only completed jobs expire), and the
			// timed-out job holds no slot.
			e.clk.Advance(time.Hour)
			_, body = e.api(http.MethodGet, "/api/v2/jobs/"+id, "")
			sameJSON(t, body, jobJSON("failed", "", TimedOutJobDetails))
			e.importJob(`[{"email":"a@example.com"}]`, nil)
			e.importJob(`[{"email":"b@example.com"}]`, nil)
		})
	}
}

// A job that ends exactly at 2 hours completes: the timeout is for jobs
// still running after it.
func TestImportJobEndingAtTwoHoursCompletes(t *testing.T) {
	e := newEnv(t, Config{JobDelay: time.Hour})
	id := e.importJob(usersJSON(3), nil)
	e.clk.Advance(2 * time.Hour)
	_, body := e.api(http.MethodGet, "/api/v2/jobs/"+id, "")
	if !strings.Contains(string(body), `"status":"completed"`) || len(e.s.Users()) != 3 {
		t.Fatalf("job %s, %d users", body, len(e.s.Users()))
	}
}
