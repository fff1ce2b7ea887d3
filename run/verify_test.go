package run

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

// verifyFixture is a create run's report over users a, b and c (all in the
// tenant), whose run stopped while verification emails were in flight: a's
// was accepted as a job the run never read back, b's request got no answer.
type verifyFixture struct {
	sb      *sandbox.Server
	ts      *httptest.Server
	spec    Spec
	path    string
	ids     map[string]string // email → user id
	earlier string            // the job of a's email, requested by the dead run
}

func newVerifyFixture(t *testing.T, cfg sandbox.Config) *verifyFixture {
	t.Helper()
	f := &verifyFixture{sb: sandbox.New(cfg), ids: map[string]string{}}
	f.ts = httptest.NewServer(f.sb)
	t.Cleanup(f.ts.Close)
	dir := t.TempDir()
	in := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(in, []byte("email,password\na@example.com,Correct-Horse-9-Battery\nb@example.com,Correct-Horse-9-Battery\nc@example.com,Correct-Horse-9-Battery\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.spec = Spec{Mode: ModeCreate, Connection: "Username-Password-Authentication", Inputs: []string{in}}
	f.spec.Concurrency, f.spec.VerifyEmail = 1, true
	f.path = startedReport(t, dir, f.spec)
	f.spec.ReportPath = f.path

	tenant, err := testConnect(t, f.ts.URL)()
	if err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		f.sb.AddUser(management.User{Email: email}, "Username-Password-Authentication")
		users, err := tenant.UsersByEmail(context.Background(), email)
		if err != nil || len(users) != 1 {
			t.Fatalf("looking up %s: %v %v", email, users, err)
		}
		f.ids[email] = users[0].UserID
	}
	job, err := tenant.SendVerificationEmail(context.Background(), management.VerificationEmailRequest{UserID: f.ids["a@example.com"]})
	if err != nil {
		t.Fatal(err)
	}
	f.earlier = job.ID

	w, _, err := report.Append(f.path, clock.NewFake(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	line := map[string]int{"a@example.com": 2, "b@example.com": 3, "c@example.com": 4}
	for _, e := range []report.Entry{
		{Email: "a@example.com", Status: report.Created},
		{Email: "b@example.com", Status: report.Created},
		{Email: "c@example.com", Status: report.Created},
		{Email: "a@example.com", Status: report.VerificationSending},
		{Email: "a@example.com", Status: report.VerificationSending, JobID: f.earlier},
		{Email: "b@example.com", Status: report.VerificationSending},
	} {
		e.File, e.Line, e.Record, e.UserID = in, line[e.Email], line[e.Email]-1, f.ids[e.Email] // a CSV: record n is on line n+1
		if err := w.Record(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return f
}

// lastVerification is each email's last verification line.
func lastVerification(t *testing.T, path string) map[string]report.Entry {
	t.Helper()
	out := map[string]report.Entry{}
	for _, e := range lastLines(t, path, isVerification) {
		out[e.Email] = e
	}
	return out
}

// emailsTo counts the verification emails the tenant was asked for, per
// user id.
func (f *verifyFixture) emailsTo() map[string]int {
	out := map[string]int{}
	for _, v := range f.sb.Stats().VerificationEmails {
		out[v.UserID]++
	}
	return out
}

// verify --report reads back the job a dead run requested instead of
// emailing the user again (it used to report it UNKNOWN_FATE, unread), and
// reports what the job became; a request that got no job id stays
// UNKNOWN_FATE; a user never emailed is emailed once.
func TestVerifyReportReadsBackAnEarlierJob(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run(map[bool]string{false: "completed", true: "failed"}[fail], func(t *testing.T) {
			cfg := sandbox.Config{JobDelay: -1}
			if fail {
				cfg.Faults.FailVerification = 1
			}
			f := newVerifyFixture(t, cfg)
			_, err := Verify(context.Background(), Env{Connect: testConnect(t, f.ts.URL), PollMin: time.Millisecond, PollRate: 1000}, VerifySpec{FromReport: f.path, Concurrency: 2})
			var inc *IncompleteError // b's UNKNOWN_FATE, at least
			if !errors.As(err, &inc) {
				t.Fatalf("verify: %v, want incomplete", err)
			}
			got := lastVerification(t, f.path)
			a, b, c := got["a@example.com"], got["b@example.com"], got["c@example.com"]
			wantA, wantC := report.VerificationSent, report.VerificationSent
			if fail {
				wantA, wantC = report.VerificationFailed, report.VerificationFailed
			}
			if a.Status != wantA || a.JobID != f.earlier || (fail && a.Code != jobs.CodeJobFailed) {
				t.Errorf("a: %+v, want %s from the earlier job %s", a, wantA, f.earlier)
			}
			if b.Status != report.VerificationFailed || b.Code != jobs.CodeUnknownFate {
				t.Errorf("b: %+v, want UNKNOWN_FATE", b)
			}
			if c.Status != wantC || c.JobID == "" || c.JobID == f.earlier {
				t.Errorf("c: %+v, want %s from a job of its own", c, wantC)
			}
			if n := f.emailsTo(); n[f.ids["a@example.com"]] != 1 || n[f.ids["b@example.com"]] != 0 || n[f.ids["c@example.com"]] != 1 {
				t.Fatalf("emails requested per user %v: a and c once (a by the dead run), b never", n)
			}
		})
	}
}

// create --resume --verify-email reads back the verification job the
// stopped run requested and never read (it used to leave it without a
// final verification line), and never emails that user again.
func TestCreateResumeReadsBackAnEarlierJob(t *testing.T) {
	f := newVerifyFixture(t, sandbox.Config{JobDelay: -1})
	resumed, err := Recorded(f.path, ModeCreate)
	if err != nil {
		t.Fatal(err)
	}
	if !resumed.VerifyEmail {
		t.Fatalf("recorded spec %+v lost --verify-email", resumed)
	}
	if _, err := Run(context.Background(), Env{Connect: testConnect(t, f.ts.URL), PollMin: time.Millisecond, PollRate: 1000}, resumed); err != nil {
		t.Fatalf("resume: %v", err)
	}
	a := lastVerification(t, f.path)["a@example.com"]
	if a.Status != report.VerificationSent || a.JobID != f.earlier {
		t.Fatalf("a: %+v, want verification_sent from the earlier job %s", a, f.earlier)
	}
	if n := f.emailsTo()[f.ids["a@example.com"]]; n != 1 {
		t.Fatalf("a was asked for %d emails, want 1 (the dead run's)", n)
	}
	// c was created and owed an email the dead run never requested (it died
	// between the two lines): the resume sends it, once.
	c := lastVerification(t, f.path)["c@example.com"]
	if c.Status != report.VerificationSent || c.JobID == "" || f.emailsTo()[f.ids["c@example.com"]] != 1 {
		t.Fatalf("c: %+v, %d emails; want one email, sent", c, f.emailsTo()[f.ids["c@example.com"]])
	}
	// b's request got no answer: it is not sent again, and stays unknown.
	if n := f.emailsTo()[f.ids["b@example.com"]]; n != 0 {
		t.Fatalf("b was asked for %d emails, want 0", n)
	}
}

// A create --verify-email plans three requests per user: the create, the
// verification job, and at least one read of that job (it used to plan two,
// when the job was taken for the email).
func TestCreatePlanCountsTheVerificationRead(t *testing.T) {
	ts := httptest.NewServer(sandbox.New(sandbox.Config{}))
	t.Cleanup(ts.Close)
	in := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(in, []byte("email,password\na@example.com,Correct-Horse-9-Battery\nb@example.com,Correct-Horse-9-Battery\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, verify := range []bool{false, true} {
		spec := Spec{Mode: ModeCreate, Connection: "Username-Password-Authentication", Inputs: []string{in}}
		spec.VerifyEmail = verify
		p, err := DryRun(context.Background(), Env{Connect: testConnect(t, ts.URL)}, spec, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: 2, true: 6}[verify]; p.Requests != want {
			t.Errorf("--verify-email %v: %d requests planned, want %d", verify, p.Requests, want)
		}
	}
}
