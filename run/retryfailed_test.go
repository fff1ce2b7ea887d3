package run

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/create"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

const dbConn = "Username-Password-Authentication"

// failedImport runs an import of f1..f4 whose second job fails (one job
// at a time, two records each): f3 and f4 end failed JOB_FAILED.
func failedImport(t *testing.T) (*sandbox.Server, Env, Spec) {
	t.Helper()
	sb := sandbox.New(sandbox.Config{JobDelay: -1, Faults: sandbox.Faults{FailEveryNthJob: 2}})
	ts := httptest.NewServer(sb)
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	in := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(in, []byte("email\nf1@example.com\nf2@example.com\nf3@example.com\nf4@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	spec := Spec{Mode: ModeImport, Connection: dbConn, Inputs: []string{in}, ReportPath: filepath.Join(dir, "run.ndjson")}
	spec.Settings = Defaults()
	spec.ChunkBytes, spec.MaxJobs = 60, 1
	env := Env{Connect: testConnect(t, ts.URL), PollMin: time.Millisecond, PollRate: 1000}
	_, err := Run(context.Background(), env, spec)
	var inc *IncompleteError
	if !errors.As(err, &inc) || inc.Failed != 2 {
		t.Fatalf("first run: %v, want 2 failed", err)
	}
	for _, email := range []string{"f3@example.com", "f4@example.com"} {
		if f := finals(t, spec.ReportPath)[email]; f.Status != report.Failed || f.Code != jobs.CodeJobFailed {
			t.Fatalf("%s: %+v, want failed JOB_FAILED", email, f)
		}
	}
	return sb, env, spec
}

// lastFinals is each email's latest final line (a retry supersedes a
// failed one).
func lastFinals(t *testing.T, path string) map[string]report.Entry {
	t.Helper()
	out := map[string]report.Entry{}
	for _, e := range lastLines(t, path, finalLine) {
		out[e.Email] = e
	}
	return out
}

// seed adds email to the tenant (created now: after the run began) and
// returns its id.
func seed(t *testing.T, sb *sandbox.Server, email string) string {
	t.Helper()
	sb.AddUser(management.User{Email: email}, dbConn)
	for _, u := range sb.Users() {
		if u.Email == email {
			return u.UserID
		}
	}
	t.Fatalf("%s not in the tenant", email)
	return ""
}

// checkOnce requires one final line per record (none a duplicate), count
// records in all, and every user in the tenant once.
func checkOnce(t *testing.T, sb *sandbox.Server, path string, records int) report.Summary {
	t.Helper()
	sum, err := report.Summarize(path)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records != records || len(sum.Duplicates) != 0 || sum.InFlight != 0 {
		t.Fatalf("report: %d records, duplicates %v, %d in flight; want %d, none, 0", sum.Records, sum.Duplicates, sum.InFlight, records)
	}
	seen := map[string]bool{}
	for _, u := range sb.Users() {
		if seen[u.Email] {
			t.Fatalf("%s is in the tenant twice", u.Email)
		}
		seen[u.Email] = true
	}
	return sum
}

// --retry-failed sends the failed records again and appends to the same
// report: each ends with one new final line, counted once. A failed record
// whose user is in the tenant after all (the failed job inserted it; the
// lookup at the time did not see it) is looked up as a failed job's are,
// and is the run's: created, not skipped as a user that was there before.
func TestRetryFailedImportInPlace(t *testing.T) {
	sb, env, spec := failedImport(t)
	id3 := seed(t, sb, "f3@example.com")

	retry, err := RecordedRetry(spec.ReportPath, ModeImport)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Run(context.Background(), env, retry)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if sum.Retry == nil || sum.Retry.Retried != 2 || sum.Counts["created"] != 4 || sum.Counts["failed"] != 0 || sum.RetryCommand != "" {
		t.Fatalf("retry summary %+v (retry %+v), want 2 retried, 4 created", sum, sum.Retry)
	}
	rs := checkOnce(t, sb, spec.ReportPath, 4)
	if rs.Final[report.Created] != 4 || rs.Retries != 1 || rs.Progress.State != report.StateComplete {
		t.Fatalf("report summary %+v (%s), want 4 created, 1 retry, complete", rs, rs.Progress)
	}
	if f3 := lastFinals(t, spec.ReportPath)["f3@example.com"]; f3.Status != report.Created || f3.UserID != id3 {
		t.Fatalf("f3: %+v, want created as %s (looked up)", f3, id3)
	}
	if n := len(sb.Users()); n != 4 {
		t.Fatalf("tenant holds %d users, want 4", n)
	}
}

// A retry killed between its retrying lines and the new final lines leaves
// the records in flight; a plain --resume sends them again, and looks each
// up first: the killed retry may have created it (here f3, which it did).
// Without the mark, f3 would read as a user that was there before (skipped).
func TestRetryKilledAfterRetryingIsResumed(t *testing.T) {
	sb, env, spec := failedImport(t)
	w, _, err := report.AppendFor(spec.ReportPath, clock.Real{}, report.ForRetry)
	if err != nil {
		t.Fatal(err)
	}
	for k, f := range lastLines(t, spec.ReportPath, finalLine) {
		if f.Status == report.Failed {
			e := report.At(k)
			e.Email, e.Status, e.Code = f.Email, report.Retrying, f.Code
			if err := w.Record(e); err != nil {
				t.Fatal(err)
			}
		}
	}
	w.Close() // killed before anything else
	id3 := seed(t, sb, "f3@example.com")
	if rs, _ := report.Summarize(spec.ReportPath); rs.Progress.State != report.StateIncomplete || rs.InFlight != 2 || rs.Records != 2 {
		t.Fatalf("after the killed retry: %+v (%s), want incomplete, 2 in flight", rs, rs.Progress)
	}

	resume, err := Recorded(spec.ReportPath, ModeImport)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), env, resume); err != nil {
		t.Fatalf("resume: %v", err)
	}
	rs := checkOnce(t, sb, spec.ReportPath, 4)
	if rs.Final[report.Created] != 4 {
		t.Fatalf("report %+v, want 4 created", rs.Final)
	}
	if f3 := lastFinals(t, spec.ReportPath)["f3@example.com"]; f3.Status != report.Created || f3.UserID != id3 {
		t.Fatalf("f3: %+v, want created as %s", f3, id3)
	}
}

// dropCreates drops the connection of every POST /users while on: the
// tenant never sees them.
type dropCreates struct {
	next http.Handler
	on   atomic.Bool
}

func (d *dropCreates) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d.on.Load() && r.Method == http.MethodPost && r.URL.Path == "/api/v2/users" {
		panic(http.ErrAbortHandler)
	}
	d.next.ServeHTTP(w, r)
}

// A create retry looks a failed record's user up before it sends it: a
// create whose answer was lost (UNKNOWN_FATE) may have made it. Sending
// first would get 409 and call the user one that was there before.
func TestRetryFailedCreateLooksUpFirst(t *testing.T) {
	sb := sandbox.New(sandbox.Config{JobDelay: -1})
	h := &dropCreates{next: sb}
	h.on.Store(true)
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	in := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(in, []byte("email,password\na@example.com,Correct-Horse-9-Battery\nb@example.com,Correct-Horse-9-Battery\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	spec := Spec{Mode: ModeCreate, Connection: dbConn, Inputs: []string{in}, ReportPath: filepath.Join(dir, "run.ndjson")}
	spec.Settings = Defaults()
	spec.Concurrency, spec.MaxRetries = 1, 0
	env := Env{Connect: testConnect(t, ts.URL)}
	if _, err := Run(context.Background(), env, spec); err == nil {
		t.Fatal("first run succeeded; want failed records")
	}
	for _, email := range []string{"a@example.com", "b@example.com"} {
		if f := finals(t, spec.ReportPath)[email]; f.Status != report.Failed || f.Code != create.CodeUnknownFate {
			t.Fatalf("%s: %+v, want failed UNKNOWN_FATE", email, f)
		}
	}
	// a's create did arrive after all; b's did not.
	idA := seed(t, sb, "a@example.com")
	h.on.Store(false)

	retry, err := RecordedRetry(spec.ReportPath, ModeCreate)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), env, retry); err != nil {
		t.Fatalf("retry: %v", err)
	}
	checkOnce(t, sb, spec.ReportPath, 2)
	got := lastFinals(t, spec.ReportPath)
	if a := got["a@example.com"]; a.Status != report.Created || a.UserID != idA {
		t.Fatalf("a: %+v, want created as %s (found, not sent)", a, idA)
	}
	if b := got["b@example.com"]; b.Status != report.Created || b.UserID == "" {
		t.Fatalf("b: %+v, want created", b)
	}
}

// A stopped retry is finished by the same retry command, not --resume:
// it also sends what is still failed.
func TestRetryHints(t *testing.T) {
	spec := Spec{Mode: ModeImport, Resume: "run.ndjson", Retry: true}
	if got := spec.resumeHint("run.ndjson"); got != "a0bulk import --retry-failed run.ndjson" {
		t.Fatalf("hint %q", got)
	}
	if got := RetryStep("create", "run.ndjson", 3); !strings.HasPrefix(got, "a0bulk create --retry-failed run.ndjson (sends the 3 failed records again") {
		t.Fatalf("retry step %q", got)
	}
	if got := RetryStep("sync", "run.ndjson", 3) + RetryStep("import", "run.ndjson", 0); got != "" {
		t.Fatalf("retry step %q, want none", got)
	}
}
