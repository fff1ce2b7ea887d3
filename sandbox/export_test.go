package sandbox

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/management"
)

// seedExport gives the tenant three database users (one with metadata and
// a password hash from an import) and a social one.
func seedExport(t *testing.T, e *env) {
	t.Helper()
	e.s.AddUser(management.User{UserID: "auth0|aaa", Email: "Ann@Example.com", Name: `Ann "the" Admin`, GivenName: "=cmd|' /C calc'!A0",
		EmailVerified: boolPtr(true), UserMetadata: map[string]any{"country": "NZ", "consent": map[string]any{"given": true}},
		AppMetadata: map[string]any{"tier": 2}}, upa)
	e.s.AddUser(management.User{UserID: "auth0|bbb", Email: "bob@example.com", Blocked: boolPtr(false)}, upa)
	e.s.AddUser(management.User{UserID: "google-oauth2|123", Email: "gus@example.com"}, "google-oauth2")
	id := e.importJob(`[{"email":"cat@example.com","user_id":"ccc","password_hash":"$2b$10$SJX8nzeOKTRqkIwhXk60m8vIcUcOe482hswzIR8keISYv12fTbYhM"}]`, nil)
	e.clk.Advance(time.Hour)
	if j := e.job(id); j.Status != management.JobCompleted || j.Summary.Inserted != 1 {
		t.Fatalf("seed import: %+v", j)
	}
}

func (e *env) job(id string) management.Job {
	e.t.Helper()
	res, body := e.api(http.MethodGet, "/api/v2/jobs/"+id, "")
	wantStatus(e.t, res, body, http.StatusOK)
	var j management.Job
	mustUnmarshal(e.t, body, &j)
	return j
}

// export posts an export job and returns its id.
func (e *env) export(body string) string {
	e.t.Helper()
	res, b := e.api(http.MethodPost, "/api/v2/jobs/users-exports", body)
	wantStatus(e.t, res, b, http.StatusOK)
	var j management.Job
	mustUnmarshal(e.t, b, &j)
	return j.ID
}

// download GETs a location with no token at all.
func (e *env) download(loc string) (*http.Response, []byte) {
	e.t.Helper()
	u, err := url.Parse(loc)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.raw(http.MethodGet, u.RequestURI(), "", "", nil)
}

func ungzip(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	return string(out)
}

var locationRE = regexp.MustCompile(`^http://127\.0\.0\.1:\d+/sandbox/exports/(job_[A-Za-z0-9]{16})/sandbox\.(json|csv)\.gz\?Expires=(\d+)&Key-Pair-Id=sandbox&Signature=[A-Za-z0-9_-]+$`)

// A json export runs like an import job (pending, processing, completed by
// the tenant's clock), answers with the recorded shape, and when completed
// carries a signed link to a gzip NDJSON file: one user per line, the
// fields asked for in their order under export_as, user ids with their
// provider prefix, no password hash ever.
func TestExportJSON(t *testing.T) {
	e := newEnv(t, Config{JobDelay: 2 * time.Second})
	seedExport(t, e)
	conn := e.connID(upa)
	res, body := e.api(http.MethodPost, "/api/v2/jobs/users-exports", `{"connection_id":"`+conn+`","format":"json","limit":5,"fields":[{"name":"user_id"},{"name":"email"},{"name":"identities[0].connection","export_as":"provider"},{"name":"user_metadata"},{"name":"app_metadata.tier","export_as":"tier"},{"name":"password_hash"},{"name":"created_at"}]}`)
	wantStatus(t, res, body, http.StatusOK)
	sameJSON(t, body, `{"type":"users_export","status":"pending","connection_id":"`+conn+`","format":"json","limit":5,"fields":[{"name":"user_id"},{"name":"email"},{"name":"identities[0].connection","export_as":"provider"},{"name":"user_metadata"},{"name":"app_metadata.tier","export_as":"tier"},{"name":"password_hash"},{"name":"created_at"}],"connection":"Username-Password-Authentication","created_at":"2023-01-25T18:48:16.543Z","id":"job_6nNLiwFZksN0YmRR"}`)
	var j management.Job
	mustUnmarshal(t, body, &j)

	// Exports take no import slot: two imports still start beside it.
	for range 2 {
		e.importJob(`[{"email":"x@example.com"}]`, nil)
	}
	e.clk.Advance(time.Second)
	if got := e.job(j.ID); got.Status != management.JobPending || got.Location != "" {
		t.Fatalf("at 1s: %+v, want pending without location", got)
	}
	e.clk.Advance(2 * time.Second)
	if got := e.job(j.ID); got.Status != management.JobProcessing || got.Location != "" || got.PercentageDone == nil {
		t.Fatalf("at 3s: %+v, want processing", got)
	}
	e.clk.Advance(time.Second)
	got := e.job(j.ID)
	m := locationRE.FindStringSubmatch(got.Location)
	if got.Status != management.JobCompleted || m == nil || m[1] != j.ID || m[2] != "json" || got.Summary != nil {
		t.Fatalf("at 4s: %+v, want completed with a signed json.gz location", got)
	}
	if want := fmt.Sprint(e.clk.Now().Add(60 * time.Second).Unix()); m[3] != want {
		t.Errorf("Expires %s, want %s (60 s on the tenant's clock)", m[3], want)
	}
	if got.Format != "json" || got.Limit != 5 || len(got.Fields) != 7 || got.Fields[2].ExportAs != "provider" {
		t.Errorf("completed job echoes %q %d %+v", got.Format, got.Limit, got.Fields)
	}
	res, file := e.download(got.Location)
	wantStatus(t, res, file, http.StatusOK)
	want := `{"user_id":"auth0|aaa","email":"ann@example.com","provider":"Username-Password-Authentication","user_metadata":{"consent":{"given":true},"country":"NZ"},"tier":2,"created_at":"2023-01-25T17:48:16.543Z"}
{"user_id":"auth0|bbb","email":"bob@example.com","provider":"Username-Password-Authentication","created_at":"2023-01-25T17:48:16.543Z"}
{"user_id":"auth0|ccc","email":"cat@example.com","provider":"Username-Password-Authentication","created_at":"2023-01-25T17:48:20.543Z"}
`
	if s := ungzip(t, file); s != want {
		t.Errorf("file\n got %s\nwant %s", s, want)
	}
	if strings.Contains(ungzip(t, file), "$2b$") {
		t.Error("the export carries a password hash")
	}
	st := e.s.Stats()
	if st.ExportJobs != 1 || st.ExportDownloads != 1 || st.Requests["POST /api/v2/jobs/users-exports"] != 1 {
		t.Errorf("stats: %d jobs, %d downloads, %v", st.ExportJobs, st.ExportDownloads, st.Requests)
	}
}

// limit stops the file at that many users; without connection_id every
// connection is exported; without fields the predefined set (which has no
// password hash either).
func TestExportLimitAllConnectionsDefaultFields(t *testing.T) {
	e := newEnv(t, Config{JobDelay: -1})
	seedExport(t, e)
	lines := func(id string) []string {
		t.Helper()
		res, file := e.download(e.job(id).Location)
		wantStatus(t, res, file, http.StatusOK)
		return strings.Split(strings.TrimSuffix(ungzip(t, file), "\n"), "\n")
	}
	if got := lines(e.export(`{"connection_id":"` + e.connID(upa) + `","format":"json","limit":2,"fields":[{"name":"email"}]}`)); len(got) != 2 || got[1] != `{"email":"bob@example.com"}` {
		t.Errorf("limit 2: %q", got)
	}
	all := lines(e.export(`{"fields":[{"name":"user_id"}]}`))
	if len(all) != 4 || all[2] != `{"user_id":"google-oauth2|123"}` {
		t.Errorf("every connection: %q", all)
	}
	def := lines(e.export(`{"format":"json"}`))
	if len(def) != 4 || !strings.HasPrefix(def[0], `{"user_id":"auth0|aaa","email":"ann@example.com","email_verified":true,`) || strings.Contains(strings.Join(def, ""), "$2b$") {
		t.Errorf("default fields: %q", def)
	}
}

// A csv export has a header row (export_as or name) and escapes strings as
// Auth0 documents (OWASP CSV injection: a leading single quote, doubled
// double quotes, wrapped in double quotes), but not the dates it generates;
// booleans and numbers are plain, absent fields empty.
func TestExportCSV(t *testing.T) {
	e := newEnv(t, Config{JobDelay: -1})
	seedExport(t, e)
	id := e.export(`{"connection_id":"` + e.connID(upa) + `","format":"csv","fields":[{"name":"user_id","export_as":"id"},{"name":"name"},{"name":"given_name"},{"name":"email_verified"},{"name":"user_metadata.country","export_as":"country"},{"name":"app_metadata.tier"},{"name":"created_at"}]}`)
	loc := e.job(id).Location
	if !strings.Contains(loc, "/sandbox.csv.gz?") {
		t.Fatalf("location %s", loc)
	}
	res, file := e.download(loc)
	wantStatus(t, res, file, http.StatusOK)
	want := `id,name,given_name,email_verified,country,app_metadata.tier,created_at
"'auth0|aaa","'Ann ""the"" Admin","'=cmd|' /C calc'!A0",true,"'NZ",2,2023-01-25T17:48:16.543Z
"'auth0|bbb",,,,,,2023-01-25T17:48:16.543Z
"'auth0|ccc","'cat@example.com",,false,,,2023-01-25T17:48:16.543Z
`
	if got := ungzip(t, file); got != want {
		t.Errorf("csv\n got %s\nwant %s", got, want)
	}
}

// What the request schema and the CSV rules refuse, before any job.
func TestExportRefused(t *testing.T) {
	e := newEnv(t, Config{JobDelay: -1})
	conn := e.connID(upa)
	many := make([]string, 31)
	for i := range many {
		many[i] = fmt.Sprintf(`{"name":"user_metadata.k%d"}`, i)
	}
	for _, tc := range []struct {
		body, msg string
		status    int
	}{
		{`{"connection_id":"con_short","format":"json"}`, "String does not match pattern ^con_[A-Za-z0-9]{16}$' on property connection_id", 400},
		{`{"connection_id":"con_AAAAAAAAAAAAAAAA","format":"json"}`, "The connection does not exist", 404},
		{`{"connection_id":"` + conn + `","format":"xml"}`, `No enum match for: \"xml\"' on property format`, 400},
		{`{"connection_id":"` + conn + `","limit":0}`, "Value 0 is less than minimum 1' on property limit", 400},
		{`{"connection_id":"` + conn + `","fields":[{"export_as":"x"}]}`, "Missing required property: name' on property fields[0]", 400},
		{`{"connection_id":"` + conn + `","fields":[{"name":"` + strings.Repeat("a", 101) + `"}]}`, "maximum 100' on property fields[0].name", 400},
		{`{"connection_id":"` + conn + `","upsert":true}`, "upsert", 400},
		{`{"connection_id":"` + conn + `","format":"csv","fields":[` + strings.Join(many, ",") + `]}`, "Array is too long (31), maximum 30' on property fields", 400},
		{`{"connection_id":"` + conn + `","format":"csv","fields":[{"name":"email"},{"name":"app_metadata"}]}`, "app_metadata cannot be exported whole in CSV", 400},
	} {
		res, body := e.api(http.MethodPost, "/api/v2/jobs/users-exports", tc.body)
		if res.StatusCode != tc.status || !strings.Contains(string(body), tc.msg) {
			t.Errorf("%s: %d %s, want %d with %q", tc.body, res.StatusCode, body, tc.status, tc.msg)
		}
	}
	// 30 fields, and whole metadata, are fine in json.
	e.export(`{"connection_id":"` + conn + `","format":"json","fields":[{"name":"app_metadata"},` + strings.Join(many[:30], ",") + `]}`)
	if st := e.s.Stats(); st.ExportJobs != 1 {
		t.Errorf("%d export jobs, want only the valid one", st.ExportJobs)
	}
	// read:users is the scope.
	e2 := newEnv(t, Config{Scopes: []string{"create:users", "read:connections"}})
	res, body := e2.api(http.MethodPost, "/api/v2/jobs/users-exports", `{"format":"json"}`)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "expected any of: read:users") {
		t.Errorf("without read:users: %d %s", res.StatusCode, body)
	}
}

// The link works for 60 seconds of the tenant's clock and needs no token;
// a read of the job then signs a fresh one; a tampered link is refused;
// after 24 hours the job and its file are gone.
func TestExportLocationExpires(t *testing.T) {
	e := newEnv(t, Config{JobDelay: -1})
	seedExport(t, e)
	id := e.export(`{"connection_id":"` + e.connID(upa) + `","fields":[{"name":"email"}]}`)
	first := e.job(id).Location
	e.clk.Advance(60 * time.Second)
	res, file := e.download(first)
	wantStatus(t, res, file, http.StatusOK)
	e.clk.Advance(time.Second)
	res, body := e.download(first)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "Request has expired") {
		t.Fatalf("after 61 s: %d %s, want 403 expired", res.StatusCode, body)
	}
	fresh := e.job(id).Location
	if fresh == first {
		t.Fatal("reading the job again gave the same link")
	}
	res, again := e.download(fresh)
	wantStatus(t, res, again, http.StatusOK)
	if ungzip(t, again) != ungzip(t, file) {
		t.Error("a fresh link serves another file")
	}
	for _, bad := range []string{
		strings.Replace(fresh, "Signature=", "Signature=x", 1),
		regexp.MustCompile(`Expires=\d+`).ReplaceAllString(fresh, "Expires=9999999999"),
		strings.Replace(fresh, "sandbox.json.gz", "sandbox.csv.gz", 1),
	} {
		if res, body := e.download(bad); res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "AccessDenied") {
			t.Errorf("tampered link: %d %s", res.StatusCode, body)
		}
	}
	if st := e.s.Stats(); st.ExportDownloads != 2 || st.ExportDownloadsRefused != 4 {
		t.Errorf("downloads %d, refused %d; want 2 and 4", st.ExportDownloads, st.ExportDownloadsRefused)
	}
	e.clk.Advance(24 * time.Hour)
	e.token = e.fetchToken()
	res, body = e.api(http.MethodGet, "/api/v2/jobs/"+id, "")
	wantStatus(t, res, body, http.StatusNotFound)
	if res, body := e.download(fresh); res.StatusCode != http.StatusForbidden {
		t.Errorf("after 24 h: %d %s", res.StatusCode, body)
	}
}

// The faults: the first downloads find their link expired, the next are
// cut off halfway (a truncated gzip); then the file comes whole.
func TestExportDownloadFaults(t *testing.T) {
	e := newEnv(t, Config{JobDelay: -1, Faults: Faults{ExpireExportLinks: 1, DropExportDownloads: 1}})
	seedExport(t, e)
	loc := e.job(e.export(`{"connection_id":"` + e.connID(upa) + `"}`)).Location
	res, body := e.download(loc)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "Request has expired") {
		t.Fatalf("first: %d %s, want expired", res.StatusCode, body)
	}
	if _, _, err := e.try(http.MethodGet, strings.TrimPrefix(loc, e.ts.URL), "", "", nil); err == nil {
		t.Fatal("second download came whole, want it cut off")
	}
	res, file := e.download(loc)
	wantStatus(t, res, file, http.StatusOK)
	if n := strings.Count(ungzip(t, file), "\n"); n != 3 {
		t.Errorf("%d users, want 3", n)
	}
	if st := e.s.Stats(); st.ExportDownloads != 1 || st.ExportDownloadsRefused != 1 || st.Faults.ExportDrops != 1 {
		t.Errorf("stats %+v", st)
	}
}
