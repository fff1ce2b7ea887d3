package management

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// The recorded answer (go-auth0 TestJobManager_ExportUsers): 200, the job
// pending, echoing format, limit and fields.
const recordedExportJob = `{"type":"users_export","status":"pending","connection_id":"con_ftSSLHb0O7rcUGmF","format":"json","limit":5,"fields":[{"name":"name"},{"name":"email"},{"name":"identities[0].connection"}],"connection":"Username-Password-Authentication","created_at":"2023-01-25T17:48:15.325Z","id":"job_iSjvljNtsTMmSpRW"}`

func TestExportUsers(t *testing.T) {
	s := apiStub(t).handle("POST /api/v2/jobs/users-exports", writeRaw(200, recordedExportJob))
	c, _ := newTestClient(t, s, nil)
	job, err := c.ExportUsers(context.Background(), ExportRequest{ConnectionID: "con_ftSSLHb0O7rcUGmF", Format: ExportJSON, Limit: 5,
		Fields: []ExportField{{Name: "name"}, {Name: "email"}, {Name: "identities[0].connection"}}})
	if err != nil {
		t.Fatal(err)
	}
	if job.ID != "job_iSjvljNtsTMmSpRW" || job.Type != JobTypeExport || job.Status != JobPending || job.Format != "json" ||
		job.Limit != 5 || len(job.Fields) != 3 || job.Fields[2].Name != "identities[0].connection" || job.Connection != "Username-Password-Authentication" {
		t.Fatalf("job = %+v", job)
	}
	rec := s.last("POST /api/v2/jobs/users-exports")
	// The body of the recording, byte for byte.
	if want := `{"connection_id":"con_ftSSLHb0O7rcUGmF","format":"json","limit":5,"fields":[{"name":"name"},{"name":"email"},{"name":"identities[0].connection"}]}`; string(rec.Body) != want {
		t.Errorf("body %s\nwant %s", rec.Body, want)
	}
	if ct := rec.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
	// Nothing optional is sent when not asked for.
	s.handle("POST /api/v2/jobs/users-exports", writeRaw(200, recordedExportJob))
	if _, err := c.ExportUsers(context.Background(), ExportRequest{Format: ExportCSV, Fields: []ExportField{{Name: "email", ExportAs: "mail"}}}); err != nil {
		t.Fatal(err)
	}
	if got := string(s.last("POST /api/v2/jobs/users-exports").Body); got != `{"format":"csv","fields":[{"name":"email","export_as":"mail"}]}` {
		t.Errorf("body %s", got)
	}
}

func TestExportUsersMissingScope(t *testing.T) {
	s := apiStub(t).handle("POST /api/v2/jobs/users-exports", writeRaw(403, `{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: read:users","errorCode":"insufficient_scope"}`))
	c, _ := newTestClient(t, s, nil)
	_, err := c.ExportUsers(context.Background(), ExportRequest{Format: ExportJSON})
	if scope, ok := AsMissingScope(err); !ok || scope.Scope != "read:users" || !strings.HasPrefix(err.Error(), "starting export job: ") {
		t.Fatalf("err = %v", err)
	}
}

// A location is used as given when https (or http on loopback), made
// https when it has no scheme (Auth0 documents both), refused otherwise;
// what is shown of it is only its host, and no error quotes it.
func TestParseLocation(t *testing.T) {
	const sig = "?Expires=1509725589&Key-Pair-Id=APKAJPL62IJALBDMSSCA&Signature=l2JaFXP~BATnfagb64PK"
	for _, tc := range []struct {
		loc, want, host string
	}{
		{"https://user-exports.auth0.com/job_coRQCC3MHztpuTlo/auth0docs2.csv.gz" + sig, "https://user-exports.auth0.com/job_coRQCC3MHztpuTlo/auth0docs2.csv.gz" + sig, "user-exports.auth0.com"},
		{"pus3-auth0-export-users-us-east-2.s3.us-east-2.amazonaws.com/job_coRQCC3MHztpuTlo/auth0docs2.csv.gz" + sig,
			"https://pus3-auth0-export-users-us-east-2.s3.us-east-2.amazonaws.com/job_coRQCC3MHztpuTlo/auth0docs2.csv.gz" + sig, "pus3-auth0-export-users-us-east-2.s3.us-east-2.amazonaws.com"},
		{"http://127.0.0.1:8787/sandbox/exports/job_x/sandbox.json.gz" + sig, "http://127.0.0.1:8787/sandbox/exports/job_x/sandbox.json.gz" + sig, "127.0.0.1:8787"},
	} {
		u, err := ParseLocation(tc.loc)
		if err != nil || u.String() != tc.want {
			t.Errorf("ParseLocation(%s) = %v, %v; want %s", tc.loc, u, err, tc.want)
		}
		if h := LocationHost(tc.loc); h != tc.host {
			t.Errorf("LocationHost = %q, want %q", h, tc.host)
		}
		if r := (Job{ID: "job_1", Location: tc.loc}).Redacted(); r.Location != tc.host {
			t.Errorf("Redacted().Location = %q", r.Location)
		}
	}
	for _, bad := range []string{"", "http://user-exports.auth0.com/f.gz" + sig, "ftp://x.example/f.gz" + sig, "https://user:pw@x.example/f.gz", "https://"} {
		_, err := ParseLocation(bad)
		if !errors.Is(err, ErrBadLocation) {
			t.Errorf("ParseLocation(%q) = %v, want ErrBadLocation", bad, err)
		}
		if err != nil && (strings.Contains(err.Error(), "Signature") || strings.Contains(err.Error(), "/f.gz")) {
			t.Errorf("the error quotes the location: %v", err)
		}
	}
	if r := (Job{ID: "job_1"}).Redacted(); r.Location != "" {
		t.Errorf("a job without location: %q", r.Location)
	}
}
