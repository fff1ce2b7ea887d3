package export_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/export"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/sandbox"
)

// A json export to a file: the job is started with the default fields,
// waited for, its file downloaded and gunzipped into --out (0600) exactly
// as the tenant made it, every user counted, nothing else left in the
// directory; and every line is a valid record for a0bulk import (user ids
// without their auth0| prefix, metadata whole).
func TestExportJSONToFile(t *testing.T) {
	tn := newTenant(t, sandbox.Config{JobDelay: 5 * time.Second}, 25)
	dir, out := outPath(t, "users.ndjson")
	var log logbook
	o := tn.options(&log)
	o.Out = out
	var reads int
	o.OnJob = func(*management.Job) { reads++ }
	res, err := tn.run(t, o)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := tn.exported(t, res.JobID); !bytes.Equal(got, want) {
		t.Fatalf("file differs from the tenant's:\n%s\nwant\n%s", got, want)
	}
	if res.Users != 25 || lines(got) != 25 || res.Bytes != int64(len(got)) || res.Downloads != 1 || res.Out != out || res.Format != "json" {
		t.Errorf("result %+v", res)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	dirHolds(t, dir, "users.ndjson")
	if reads < 2 {
		t.Errorf("OnJob saw %d reads", reads)
	}
	job, err := tn.client.Job(t.Context(), res.JobID)
	if err != nil {
		t.Fatal(err)
	}
	if job.Type != management.JobTypeExport || job.Format != "json" || job.Limit != 0 || !reflect.DeepEqual(job.Fields, export.DefaultFields) {
		t.Errorf("the job asked for %+v", job)
	}
	r, err := input.NewReader(bytes.NewReader(got), "users.ndjson", input.FormatNDJSON, input.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; ; n++ {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			if n != 25 {
				t.Errorf("%d records", n)
			}
			break
		}
		if err != nil || len(rec.Errors) > 0 || strings.HasPrefix(rec.User.UserID, "auth0|") || rec.User.AppMetadata["plan"] != "gold" || rec.User.Email == "" {
			t.Fatalf("record %d: %+v %v", n, rec, err)
		}
	}
	noLink(t, "the log", log.String())
}

// A csv export to stdout, kept gzip-compressed: the bytes the tenant
// served, users counted by CSV records (a quoted name holds a line break),
// the fields and limit as asked.
func TestExportCSVGzipToStdout(t *testing.T) {
	tn := newTenant(t, sandbox.Config{JobDelay: -1}, 12)
	var stdout bytes.Buffer
	o := tn.options(&logbook{})
	o.Format, o.Gzip, o.Stdout, o.Limit, o.TempDir = "csv", true, &stdout, 10, t.TempDir()
	o.Fields = []management.ExportField{{Name: "user_id", ExportAs: "id"}, {Name: "name"}, {Name: "user_metadata.n", ExportAs: "n"}}
	res, err := tn.run(t, o)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(stdout.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if want := tn.exported(t, res.JobID); !bytes.Equal(plain, want) {
		t.Fatalf("stdout differs:\n%s\nwant\n%s", plain, want)
	}
	if !strings.HasPrefix(string(plain), "id,name,n\n\"'auth0|") || lines(plain) != 21 {
		t.Errorf("csv:\n%s", plain)
	}
	if res.Users != 10 || res.Bytes != int64(stdout.Len()) || res.Out != "" {
		t.Errorf("result %+v", res)
	}
	dirHolds(t, o.TempDir) // the spool is gone
}

// The link expires (60 seconds of the tenant's clock pass before the
// download arrives): the job is read again for a fresh link, which works.
// Neither the log nor anything else quotes a link.
func TestExportExpiredLinkReadsJobAgain(t *testing.T) {
	tn := newTenant(t, sandbox.Config{JobDelay: 2 * time.Second}, 7)
	downloads := 0
	tn.wrap = func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if strings.HasPrefix(r.URL.Path, "/sandbox/exports/") {
			if downloads++; downloads == 1 {
				tn.clk.Advance(61 * time.Second)
			}
		}
		next.ServeHTTP(w, r)
	}
	res, dir, log := tn.runToFile(t, "u.ndjson")
	st := tn.srv.Stats()
	if res.Downloads != 2 || res.Users != 7 || st.ExportDownloadsRefused != 1 || st.ExportDownloads != 1 || st.ExportJobs != 1 {
		t.Errorf("result %+v; stats: %d refused, %d served, %d jobs", res, st.ExportDownloadsRefused, st.ExportDownloads, st.ExportJobs)
	}
	if !strings.Contains(log.String(), "answered 403") || !strings.Contains(log.String(), "reading the job again for a fresh link") {
		t.Errorf("log: %s", log.String())
	}
	noLink(t, "the log", log.String())
	dirHolds(t, dir, "u.ndjson")
}

// A download cut off mid-stream is tried again with a fresh link; one cut
// off every time ends the export with an error, and leaves no file (nor a
// partial one) and nothing on stdout.
func TestExportDroppedDownload(t *testing.T) {
	tn := newTenant(t, sandbox.Config{JobDelay: -1, Faults: sandbox.Faults{DropExportDownloads: 1}}, 300)
	dir, out := outPath(t, "u.csv")
	o := tn.options(&logbook{})
	o.Out, o.Format = out, "csv"
	res, err := tn.run(t, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Downloads != 2 || res.Users != 300 || tn.srv.Stats().Faults.ExportDrops != 1 {
		t.Errorf("result %+v", res)
	}
	got, _ := os.ReadFile(out)
	if !bytes.Equal(got, tn.exported(t, res.JobID)) {
		t.Error("the file is not the tenant's")
	}
	dirHolds(t, dir, "u.csv")

	for _, toStdout := range []bool{false, true} {
		tn := newTenant(t, sandbox.Config{JobDelay: -1, Faults: sandbox.Faults{DropExportDownloads: 3}}, 300)
		dir, out := outPath(t, "u.ndjson")
		var stdout bytes.Buffer
		var log logbook
		o := tn.options(&log)
		o.Out, o.MaxDownloads, o.Stdout, o.TempDir = out, 3, &stdout, dir
		if toStdout {
			o.Out = ""
		}
		res, err := tn.run(t, o)
		if err == nil || !strings.Contains(err.Error(), "failed 3 times") {
			t.Fatalf("err = %v, want the download to fail 3 times", err)
		}
		noLink(t, "the error", err.Error())
		noLink(t, "the log", log.String())
		if res.JobID == "" || stdout.Len() != 0 {
			t.Errorf("result %+v, %d bytes on stdout", res, stdout.Len())
		}
		dirHolds(t, dir)
	}
}

// What Validate refuses, before any call to the tenant.
func TestValidate(t *testing.T) {
	dir, out := outPath(t, "taken.ndjson")
	if err := os.WriteFile(out, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(out, dir+"/link"); err != nil {
		t.Fatal(err)
	}
	many := make([]management.ExportField, 31)
	for i := range many {
		many[i] = management.ExportField{Name: "user_metadata.k" + string(rune('a'+i))}
	}
	for _, tc := range []struct {
		o    export.Options
		want string
	}{
		{export.Options{}, "--connection is required"},
		{export.Options{Connection: "c", Format: "xml"}, `--format "xml"`},
		{export.Options{Connection: "c", Limit: -1}, "--limit must not be negative"},
		{export.Options{Connection: "c", Out: out}, "exists: a0bulk never overwrites"},
		{export.Options{Connection: "c", Out: dir + "/link"}, "exists"},
		{export.Options{Connection: "c", Out: dir + "/no/such/f"}, "does not exist"},
		{export.Options{Connection: "c", Fields: many}, "31 fields; Auth0 exports at most 30"},
		{export.Options{Connection: "c", Format: "csv", Fields: []management.ExportField{{Name: "user_metadata"}}}, "CSV cannot carry user_metadata whole"},
		{export.Options{Connection: "c", Fields: []management.ExportField{{Name: "email"}, {Name: "user_id", ExportAs: "email"}}}, "email is exported twice"},
		{export.Options{Connection: "c", Fields: []management.ExportField{{Name: strings.Repeat("x", 101)}}}, "at most 100 characters"},
	} {
		err := tc.o.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
	o := export.Options{Connection: "c", Format: "csv", Out: "-"}
	if err := o.Validate(); err != nil || o.Out != "" || !slices.Equal(o.Fields, export.DefaultCSVFields) {
		t.Errorf("csv defaults: %v %+v", err, o)
	}
	for _, f := range export.DefaultCSVFields {
		if f.Name == "user_metadata" || f.Name == "app_metadata" {
			t.Errorf("the csv default has %s whole", f.Name)
		}
	}
}

func TestParseFields(t *testing.T) {
	got, err := export.ParseFields("email, identities[0].connection:provider ,user_metadata.country:country")
	want := []management.ExportField{{Name: "email"}, {Name: "identities[0].connection", ExportAs: "provider"}, {Name: "user_metadata.country", ExportAs: "country"}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("got %+v, %v", got, err)
	}
	for _, bad := range []string{"", "email,,name", ":as"} {
		if _, err := export.ParseFields(bad); err == nil {
			t.Errorf("ParseFields(%q) took it", bad)
		}
	}
}

// The json default is every property of the import schema a user export
// can give back (the schema's, as input.User models it, less the hashes an
// export never carries and mfa_factors, which are not in a profile), plus
// created_at and identities.
func TestDefaultFieldsCoverTheImportSchema(t *testing.T) {
	var names []string
	for _, f := range export.DefaultFields {
		names = append(names, f.Name)
	}
	ty := reflect.TypeOf(input.User{})
	for i := range ty.NumField() {
		tag, _, _ := strings.Cut(ty.Field(i).Tag.Get("json"), ",")
		switch tag {
		case "password_hash", "custom_password_hash", "mfa_factors":
			if slices.Contains(names, tag) {
				t.Errorf("the default exports %s", tag)
			}
		default:
			if !slices.Contains(names, tag) {
				t.Errorf("the default lacks %s", tag)
			}
		}
	}
	for _, extra := range []string{"user_id", "created_at", "identities"} {
		if !slices.Contains(names, extra) {
			t.Errorf("the default lacks %s", extra)
		}
	}
	if len(names) > export.MaxFields {
		t.Errorf("%d default fields", len(names))
	}
}

// A job that fails, and a connection the tenant lacks.
func TestExportRefusals(t *testing.T) {
	tn := newTenant(t, sandbox.Config{JobDelay: -1}, 1)
	o := tn.options(&logbook{})
	o.Connection, o.Out = "nope", ""
	if _, err := tn.run(t, o); !errors.Is(err, management.ErrConnectionNotFound) {
		t.Errorf("unknown connection: %v", err)
	}
	tn.wrap = func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v2/jobs/") {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"type":"users_export","status":"failed","id":"job_AAAAAAAAAAAAAAAA","status_details":"the export timed out"}`)
			return
		}
		next.ServeHTTP(w, r)
	}
	dir, out := outPath(t, "f.ndjson")
	o = tn.options(&logbook{})
	o.Out = out
	res, err := tn.run(t, o)
	if err == nil || !strings.Contains(err.Error(), "failed: the export timed out") || res.JobID == "" {
		t.Errorf("failed job: %+v %v", res, err)
	}
	dirHolds(t, dir)
}

// The POST's answer is lost (the connection drops after the tenant made the
// job): an export job changes nothing in the tenant, so it is asked for
// again, and the second job's file is written.
func TestExportLostAnswerStartsAgain(t *testing.T) {
	tn := newTenant(t, sandbox.Config{JobDelay: -1}, 3)
	posts := 0
	tn.wrap = func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v2/jobs/users-exports" {
			if posts++; posts == 1 {
				next.ServeHTTP(httptest.NewRecorder(), r) // the tenant acts
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				conn.Close() // and the answer is lost
				return
			}
		}
		next.ServeHTTP(w, r)
	}
	res, dir, log := tn.runToFile(t, "u.ndjson")
	if st := tn.srv.Stats(); posts != 2 || st.ExportJobs != 2 || res.Users != 3 {
		t.Errorf("%d posts, %d jobs, result %+v", posts, st.ExportJobs, res)
	}
	if !strings.Contains(log.String(), "answer was lost") {
		t.Errorf("log: %s", log.String())
	}
	dirHolds(t, dir, "u.ndjson")
}

// An export given a job an earlier attempt started (JobID) waits for that
// job and downloads its file: no job is started. A job that is not an
// export of the connection is refused; one the tenant no longer has (24
// hours on) answers 404; one that failed is ErrNoFile.
func TestExportOfAJobStartedBefore(t *testing.T) {
	tn := newTenant(t, sandbox.Config{JobDelay: 5 * time.Second}, 7)
	job, err := tn.client.ExportUsers(t.Context(), management.ExportRequest{ConnectionID: tn.srv.Connections()[0].ID, Format: "json", Fields: export.DefaultFields})
	if err != nil {
		t.Fatal(err)
	}
	_, out := outPath(t, "users.ndjson")
	o := tn.options(&logbook{})
	o.Out, o.JobID = out, job.ID
	o.OnStart = func(*management.Job) error { t.Error("OnStart for a job given"); return nil }
	res, err := tn.run(t, o)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if res.JobID != job.ID || res.Users != 7 || !bytes.Equal(got, tn.exported(t, job.ID)) || tn.srv.Stats().ExportJobs != 1 {
		t.Fatalf("result %+v, %d export jobs", res, tn.srv.Stats().ExportJobs)
	}

	imp, err := tn.client.ImportUsers(t.Context(), management.ImportRequest{ConnectionID: tn.srv.Connections()[0].ID, Users: []byte(`[{"email":"x@example.com"}]`)})
	if err != nil {
		t.Fatal(err)
	}
	_, out = outPath(t, "users.ndjson")
	o.Out, o.JobID = out, imp.ID
	if _, err := tn.run(t, o); err == nil || !strings.Contains(err.Error(), "is a users_import job, not an export") {
		t.Errorf("an import job's id: %v", err)
	}

	tn.clk.Advance(25 * time.Hour)
	_, out = outPath(t, "users.ndjson")
	o.Out, o.JobID = out, job.ID
	if _, err := tn.run(t, o); !management.IsNotFound(err) || errors.Is(err, export.ErrNoFile) {
		t.Errorf("a job 25 hours old: %v, want not found", err)
	}
}

// OnStart sees the job before it is waited for; its error stops the
// export, which writes nothing.
func TestExportOnStart(t *testing.T) {
	tn := newTenant(t, sandbox.Config{JobDelay: 5 * time.Second}, 3)
	dir, out := outPath(t, "users.ndjson")
	o := tn.options(&logbook{})
	o.Out = out
	var started []string
	reads := 0
	o.OnJob = func(*management.Job) { reads++ }
	boom := errors.New("journal full")
	o.OnStart = func(j *management.Job) error {
		started = append(started, j.ID+" "+j.Status)
		if reads != 0 {
			t.Errorf("OnStart after %d reads of the job", reads)
		}
		return boom
	}
	if _, err := tn.run(t, o); !errors.Is(err, boom) {
		t.Fatalf("err %v, want OnStart's", err)
	}
	if len(started) != 1 || !strings.HasSuffix(started[0], " pending") {
		t.Errorf("OnStart saw %q", started)
	}
	dirHolds(t, dir)
}

// Partials finds what a killed export to out left, and only that, even
// when out's name holds glob characters.
func TestPartials(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "a[1]*.ndjson")
	for _, name := range []string{".a[1]*.ndjson.a0bulk-partial-0123456789ab", ".a1x.ndjson.a0bulk-partial-0123456789ab", "a[1]*.ndjson"} {
		os.WriteFile(filepath.Join(dir, name), nil, 0o600)
	}
	got, err := export.Partials(out)
	if err != nil || len(got) != 1 || filepath.Base(got[0]) != ".a[1]*.ndjson.a0bulk-partial-0123456789ab" {
		t.Fatalf("Partials: %q %v", got, err)
	}
}
