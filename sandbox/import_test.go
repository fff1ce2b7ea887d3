package sandbox

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/management"
)

// recordedConns gives the default connection the recorded id.
var recordedConns = []management.Connection{
	{ID: "con_ftSSLHb0O7rcUGmF", Name: upa, Strategy: "auth0"},
	{ID: "con_googleoauth2xxxx", Name: "google-oauth2", Strategy: "google-oauth2"},
}

func TestImportLifecycleMatchesRecordedShapes(t *testing.T) {
	e := newEnv(t, Config{Connections: recordedConns, JobDelay: 10 * time.Second})
	res, body := e.importUsers(`[{"email":"a@example.com"}]`, nil)
	wantStatus(t, res, body, http.StatusAccepted)
	sameJSON(t, body, `{"type":"users_import","status":"pending","connection_id":"con_ftSSLHb0O7rcUGmF","connection":"Username-Password-Authentication","created_at":"2023-01-25T17:48:16.543Z","id":"job_6nNLiwFZksN0YmRR"}`)
	var j management.Job
	mustUnmarshal(t, body, &j)

	steps := []struct {
		advance time.Duration
		want    string
	}{
		{5 * time.Second, `{"type":"users_import","status":"pending","connection_id":"con_ftSSLHb0O7rcUGmF","connection":"Username-Password-Authentication","created_at":"2023-01-25T17:48:16.543Z","id":"job_6nNLiwFZksN0YmRR"}`},
		{10 * time.Second, `{"type":"users_import","status":"processing","connection_id":"con_ftSSLHb0O7rcUGmF","connection":"Username-Password-Authentication","percentage_done":50,"time_left_seconds":5,"created_at":"2023-01-25T17:48:16.543Z","id":"job_6nNLiwFZksN0YmRR"}`},
		{5 * time.Second, `{"type":"users_import","status":"completed","connection_id":"con_ftSSLHb0O7rcUGmF","summary":{"failed":0,"updated":0,"inserted":1,"total":1},"connection":"Username-Password-Authentication","created_at":"2023-01-25T17:48:16.543Z","id":"job_6nNLiwFZksN0YmRR"}`},
	}
	for _, st := range steps {
		e.clk.Advance(st.advance)
		res, body := e.api(http.MethodGet, "/api/v2/jobs/"+j.ID, "")
		wantStatus(t, res, body, http.StatusOK)
		sameJSON(t, body, st.want)
	}
	users := e.s.Users()
	if len(users) != 1 || users[0].Email != "a@example.com" || !strings.HasPrefix(users[0].UserID, "auth0|") || len(users[0].UserID) != 30 {
		t.Fatalf("users = %+v", users)
	}
	// Job data is deleted after 24 hours.
	e.clk.Advance(24 * time.Hour)
	e.token = e.fetchToken()
	res, body = e.api(http.MethodGet, "/api/v2/jobs/"+j.ID, "")
	wantStatus(t, res, body, http.StatusNotFound)
}

func TestImportExternalIDAndUserID(t *testing.T) {
	e := newEnv(t, Config{JobDelay: -1})
	res, body := e.importUsers(`[{"email":"B@Example.com","user_id":"legacy-7"}]`, map[string]string{"external_id": "run-1"})
	wantStatus(t, res, body, http.StatusAccepted)
	if !strings.Contains(string(body), `"external_id":"run-1"`) {
		t.Errorf("no external_id in %s", body)
	}
	u := e.s.Users()
	if len(u) != 1 || u[0].UserID != "auth0|legacy-7" || u[0].Email != "b@example.com" {
		t.Fatalf("users = %+v", u)
	}
}

func TestJobLimit(t *testing.T) {
	e := newEnv(t, Config{JobDelay: time.Second})
	e.importJob(`[{"email":"a@example.com"}]`, nil)
	e.importJob(`[{"email":"b@example.com"}]`, nil)
	res, body := e.importUsers(`[{"email":"c@example.com"}]`, nil)
	wantStatus(t, res, body, http.StatusTooManyRequests)
	if string(body) != `{"statusCode":429,"error":"Too Many Requests","message":"There are 2 active import users jobs, please wait until some of them are finished and try again"}` {
		t.Errorf("body %s", body)
	}
	apiErr := &management.APIError{}
	mustUnmarshal(t, body, apiErr)
	if !apiErr.IsJobLimit() || apiErr.IsRateLimited() {
		t.Errorf("job-limit 429 misclassified: %v", apiErr)
	}
	e.clk.Advance(2 * time.Second)
	e.importJob(`[{"email":"c@example.com"}]`, nil)
	st := e.s.Stats()
	if st.ImportJobs != 3 || st.MaxConcurrentImportJobs != 2 || st.JobLimitRefused != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestHeldSlots(t *testing.T) {
	e := newEnv(t, Config{Faults: Faults{HeldSlots: 1, HeldFor: 10 * time.Second}})
	e.importJob(`[{"email":"a@example.com"}]`, nil)
	res, body := e.importUsers(`[{"email":"b@example.com"}]`, nil)
	wantStatus(t, res, body, http.StatusTooManyRequests)
	e.clk.Advance(10 * time.Second) // held slots released, the first job done
	e.importJob(`[{"email":"b@example.com"}]`, nil)
	e.importJob(`[{"email":"c@example.com"}]`, nil)
}

func TestImportRequestErrors(t *testing.T) {
	e := newEnv(t, Config{MaxFileBytes: 100})
	auth := map[string]string{"Authorization": "Bearer " + e.token}
	post := func(users string, fields map[string]string) (*http.Response, []byte) {
		ct, body := multipartBody(t, users, fields)
		return e.raw(http.MethodPost, "/api/v2/jobs/users-imports", ct, body, auth)
	}
	good := e.connID(upa)
	tests := []struct {
		name   string
		users  string
		fields map[string]string
		status int
		body   string
	}{
		{"too large", `[{"email":"` + strings.Repeat("a", 100) + `@example.com"}]`, map[string]string{"connection_id": good},
			413, `{"statusCode":413,"error":"Request Entity Too Large","message":"Payload content length greater than maximum allowed: 100"}`},
		{"bad pattern", `[]`, map[string]string{"connection_id": "con_short"},
			400, `{"statusCode":400,"error":"Bad Request","message":"Payload validation error: 'String does not match pattern ^con_[A-Za-z0-9]{16}$' on property connection_id","errorCode":"invalid_body"}`},
		{"unknown connection", `[]`, map[string]string{"connection_id": "con_AAAAAAAAAAAAAAAA"},
			404, `{"statusCode":404,"error":"Not Found","message":"The connection does not exist","errorCode":"inexistent_connection"}`},
		{"missing connection", `[]`, nil,
			400, `{"statusCode":400,"error":"Bad Request","message":"Payload validation error: 'Missing required property: connection_id'","errorCode":"invalid_body"}`},
		{"not an array", `{"email":"a@example.com"}`, map[string]string{"connection_id": good},
			400, `{"statusCode":400,"error":"Bad Request","message":"Users file must be a JSON array of users","errorCode":"invalid_body"}`},
		{"social connection", `[]`, map[string]string{"connection_id": e.connID("google-oauth2")},
			400, `{"statusCode":400,"error":"Bad Request","message":"The connection must be a database connection","errorCode":"invalid_body"}`},
		{"bad upsert", `[]`, map[string]string{"connection_id": good, "upsert": "yes"},
			400, `{"statusCode":400,"error":"Bad Request","message":"Payload validation error: 'Expected type boolean but found type string' on property upsert","errorCode":"invalid_body"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := post(tt.users, tt.fields)
			if res.StatusCode != tt.status || string(body) != tt.body {
				t.Errorf("got %d %s\nwant %d %s", res.StatusCode, body, tt.status, tt.body)
			}
		})
	}
	if st := e.s.Stats(); st.ImportJobs != 0 {
		t.Errorf("a refused import created a job: %+v", st)
	}
}

func TestDuplicatedUserMatchesRecordedErrors(t *testing.T) {
	e := newEnv(t, Config{JobDelay: -1})
	e.s.AddUser(management.User{Email: "Chuck630@example.com"}, upa)
	id := e.importJob(`[{"email":"chuck630@example.com","email_verified":true},{"email":"new@example.com"}]`, nil)
	res, body := e.api(http.MethodGet, "/api/v2/jobs/"+id, "")
	wantStatus(t, res, body, http.StatusOK)
	if !strings.Contains(string(body), `"summary":{"failed":1,"updated":0,"inserted":1,"total":2}`) {
		t.Errorf("job %s", body)
	}
	res, body = e.api(http.MethodGet, "/api/v2/jobs/"+id+"/errors", "")
	wantStatus(t, res, body, http.StatusOK)
	sameJSON(t, body, `[{"user":{"email":"chuck630@example.com","email_verified":true},"errors":[{"code":"DUPLICATED_USER","message":"The user already exist and upsert parameter is false"}]}]`)
	var union []management.UserImportError
	mustUnmarshal(t, body, &union)
	if union[0].User.Email != "chuck630@example.com" {
		t.Errorf("decoded %+v", union)
	}
}

func TestDuplicateInOneFile(t *testing.T) {
	e := newEnv(t, Config{JobDelay: -1})
	id := e.importJob(`[{"email":"a@example.com"},{"email":"A@example.com"}]`, nil)
	_, body := e.api(http.MethodGet, "/api/v2/jobs/"+id+"/errors", "")
	if !strings.Contains(string(body), `"code":"DUPLICATED_USER"`) || !strings.Contains(string(body), `"email":"A@example.com"`) {
		t.Errorf("errors %s", body)
	}
	if n := len(e.s.Users()); n != 1 {
		t.Errorf("%d users, want 1", n)
	}
}

func TestUpsertOverwritesMetadata(t *testing.T) {
	e := newEnv(t, Config{JobDelay: -1})
	e.s.AddUser(management.User{Email: "a@example.com", GivenName: "Old",
		UserMetadata: map[string]any{"a": 1.0, "b": 2.0}, AppMetadata: map[string]any{"plan": "x"}}, upa)
	id := e.importJob(`[{"email":"A@example.com","given_name":"New","user_metadata":{"c":3}}]`, map[string]string{"upsert": "true"})
	_, body := e.api(http.MethodGet, "/api/v2/jobs/"+id, "")
	if !strings.Contains(string(body), `"summary":{"failed":0,"updated":1,"inserted":0,"total":1}`) {
		t.Errorf("job %s", body)
	}
	u := e.s.Users()
	if len(u) != 1 {
		t.Fatalf("users %+v", u)
	}
	md := u[0].UserMetadata
	if len(md) != 1 || md["c"] != 3.0 || u[0].GivenName != "New" || u[0].AppMetadata["plan"] != "x" {
		t.Errorf("after upsert: %+v", u[0])
	}
}

func TestJobErrorsUnion(t *testing.T) {
	t.Run("204 when none", func(t *testing.T) {
		e := newEnv(t, Config{JobDelay: -1})
		id := e.importJob(`[{"email":"a@example.com"}]`, nil)
		res, body := e.api(http.MethodGet, "/api/v2/jobs/"+id+"/errors", "")
		if res.StatusCode != http.StatusNoContent || len(body) != 0 {
			t.Errorf("got %d %q", res.StatusCode, body)
		}
	})
	t.Run("empty 200", func(t *testing.T) {
		e := newEnv(t, Config{JobDelay: -1, EmptyErrorsAs200: true})
		id := e.importJob(`[{"email":"a@example.com"}]`, nil)
		res, body := e.api(http.MethodGet, "/api/v2/jobs/"+id+"/errors", "")
		if res.StatusCode != http.StatusOK || string(body) != `[]` {
			t.Errorf("got %d %q", res.StatusCode, body)
		}
	})
	t.Run("failure object", func(t *testing.T) {
		e := newEnv(t, Config{Connections: recordedConns, JobDelay: time.Second, Faults: Faults{FailEveryNthJob: 2}})
		ok := e.importJob(`[{"email":"a@example.com"}]`, nil)
		failed := e.importJob(`[{"email":"b@example.com"}]`, nil)
		e.clk.Advance(2 * time.Second)
		_, body := e.api(http.MethodGet, "/api/v2/jobs/"+failed, "")
		sameJSON(t, body, `{"type":"users_import","status":"failed","connection_id":"con_ftSSLHb0O7rcUGmF","connection":"Username-Password-Authentication","status_details":"`+FailedJobDetails+`","created_at":"2023-01-25T17:48:16.543Z","id":"job_6nNLiwFZksN0YmRR"}`)
		res, body := e.api(http.MethodGet, "/api/v2/jobs/"+failed+"/errors", "")
		wantStatus(t, res, body, http.StatusOK)
		sameJSON(t, body, `{"status":"failed","type":"users_import","created_at":"2023-01-25T17:48:16.543Z","id":"job_6nNLiwFZksN0YmRR","connection_id":"con_ftSSLHb0O7rcUGmF","status_details":"`+FailedJobDetails+`"}`)
		_, body = e.api(http.MethodGet, "/api/v2/jobs/"+ok, "")
		if !strings.Contains(string(body), `"status":"completed"`) {
			t.Errorf("first job %s", body)
		}
		if u := e.s.Users(); len(u) != 1 || u[0].Email != "a@example.com" {
			t.Errorf("the failed job inserted users: %+v", u)
		}
	})
	t.Run("per-user with masking", func(t *testing.T) {
		e := newEnv(t, Config{JobDelay: -1})
		id := e.importJob(`[{"email":"bad","password_hash":"$2b$10$secret","mfa_factors":[{"totp":{"secret":"JBSWY3DPEHPK3PXP"}}]}]`, nil)
		_, body := e.api(http.MethodGet, "/api/v2/jobs/"+id+"/errors", "")
		want := `[{"user":{"email":"bad","mfa_factors":[{"totp":{"secret":"*****"}}],"password_hash":"*****"},"errors":[{"code":"FORMAT","message":"Object didn't pass validation for format email: bad","path":"email"},{"code":"PATTERN","message":"String does not match pattern ^\\$2[ab]?\\$10+\\$[./A-Za-z0-9]{53}$","path":"password_hash"}]}]`
		if string(body) != want {
			t.Errorf("got  %s\nwant %s", body, want)
		}
		if strings.Contains(string(body), "secret\"") && strings.Contains(string(body), "JBSW") {
			t.Errorf("secret leaked: %s", body)
		}
	})
}

func TestUnknownJob(t *testing.T) {
	e := newEnv(t, Config{})
	res, body := e.api(http.MethodGet, "/api/v2/jobs/job_AAAAAAAAAAAAAAAA", "")
	wantStatus(t, res, body, http.StatusNotFound)
	res, body = e.api(http.MethodGet, "/api/v2/jobs/nope/errors", "")
	wantStatus(t, res, body, http.StatusBadRequest)
}
