package run

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

func verifyEnv(t *testing.T, sb *sandbox.Server) Env {
	ts := httptest.NewServer(sb)
	t.Cleanup(ts.Close)
	return Env{Connect: testConnect(t, ts.URL), PollMin: time.Millisecond, PollRate: 1000}
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// verify --input emails nobody whose email is verified: not when the input
// says so (it used to email all 6 and summarise "verify: 0 records"), nor
// when the tenant does for a user it looks up by email. Each is counted
// and reported verification_skipped EMAIL_VERIFIED.
func TestVerifyInputSkipsVerifiedUsers(t *testing.T) {
	sb := sandbox.New(sandbox.Config{JobDelay: -1})
	env := verifyEnv(t, sb)
	yes := true
	var inputSays, tenantSays strings.Builder
	inputSays.WriteString("email,email_verified\n")
	tenantSays.WriteString("email\n")
	for _, n := range []string{"1", "2", "3", "4", "5", "6"} {
		sb.AddUser(management.User{Email: "u" + n + "@example.com", EmailVerified: &yes}, dbConn)
		inputSays.WriteString("u" + n + "@example.com,true\n")
		tenantSays.WriteString("u" + n + "@example.com\n")
	}
	dir := t.TempDir()
	for name, body := range map[string]string{"input.csv": inputSays.String(), "tenant.csv": tenantSays.String()} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(dir, name+".ndjson")
			sum, err := Verify(context.Background(), env, VerifySpec{Inputs: []string{writeFile(t, dir, name, body)}, ReportPath: out, Concurrency: 2})
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if sum.Records != 6 || *sum.Verified != (VerifyCounts{AlreadyVerified: 6}) {
				t.Fatalf("summary: %d records, %+v; want 6 records, all already verified", sum.Records, *sum.Verified)
			}
			if n := len(sb.Stats().VerificationEmails); n != 0 {
				t.Fatalf("%d verification emails requested, want 0", n)
			}
			for _, e := range lastVerification(t, out) {
				if e.Status != report.VerificationSkipped || e.Code != report.CodeEmailVerified {
					t.Fatalf("line %+v, want verification_skipped EMAIL_VERIFIED", e)
				}
			}
		})
	}
}

// A second verify --report sends nothing and says so: its counts are its
// own run's (it used to repeat "sent 3" from the report's earlier lines).
// Neither verify makes the import's report incomplete.
func TestVerifyReportCountsItsOwnRun(t *testing.T) {
	sb := sandbox.New(sandbox.Config{JobDelay: -1})
	env := verifyEnv(t, sb)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "email,email_verified\na@example.com,false\nb@example.com,false\nc@example.com,false\nd@example.com,true\n")
	spec := Spec{Mode: ModeImport, Connection: dbConn, Inputs: []string{in}, ReportPath: filepath.Join(dir, "imp.ndjson"), Settings: Defaults()}
	if _, err := Run(context.Background(), env, spec); err != nil {
		t.Fatal(err)
	}
	first, err := Verify(context.Background(), env, VerifySpec{FromReport: spec.ReportPath, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if *first.Verified != (VerifyCounts{Sent: 3, AlreadyVerified: 1}) || first.Records != 4 {
		t.Fatalf("first verify: %d records, %+v; want 3 sent, 1 already verified", first.Records, *first.Verified)
	}
	second, err := Verify(context.Background(), env, VerifySpec{FromReport: spec.ReportPath, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if *second.Verified != (VerifyCounts{SentBefore: 3, AlreadyVerified: 1}) || second.Records != 4 {
		t.Fatalf("second verify: %d records, %+v; want none sent, 3 sent before, 1 already verified", second.Records, *second.Verified)
	}
	if n := len(sb.Stats().VerificationEmails); n != 3 {
		t.Fatalf("%d emails requested, want 3", n)
	}
	if second.Progress.State != report.StateComplete || second.Resume != "" {
		t.Fatalf("second verify: %s, resume %q; want the import complete, nothing to resume", second.Progress, second.Resume)
	}
	rs, err := report.Summarize(spec.ReportPath)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Progress.State != report.StateComplete || rs.Resumes != 0 || rs.VerificationSent != 3 || rs.VerificationSkipped != 1 {
		t.Fatalf("report: %s, %d resumes, %d sent, %d skipped; want complete, 0, 3, 1", rs.Progress, rs.Resumes, rs.VerificationSent, rs.VerificationSkipped)
	}
}

// A verify whose emails fail says why in its summary: the top reasons,
// each with its code, count and an example (USER_NOT_FOUND was only in
// the report), and the command that sends them again.
func TestVerifySummaryGivesReasons(t *testing.T) {
	sb := sandbox.New(sandbox.Config{JobDelay: -1})
	env := verifyEnv(t, sb)
	sb.AddUser(management.User{Email: "here@example.com"}, dbConn)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "email\ngone1@example.com\nhere@example.com\ngone2@example.com\ngone3@example.com\n")
	out := filepath.Join(dir, "v.ndjson")
	sum, err := Verify(context.Background(), env, VerifySpec{Inputs: []string{in}, ReportPath: out, Concurrency: 1})
	var inc *IncompleteError
	if !errors.As(err, &inc) || inc.Failed != 3 {
		t.Fatalf("verify: %v, want 3 failed", err)
	}
	if *sum.Verified != (VerifyCounts{Sent: 1, Failed: 3}) {
		t.Fatalf("counts %+v", *sum.Verified)
	}
	want := report.Reason{Status: report.VerificationFailed, Code: jobs.CodeUserNotFound, Count: 3, Example: in + ":2 (record 1): user not found"}
	if len(sum.Reasons) != 1 || sum.Reasons[0] != want {
		t.Fatalf("reasons %+v, want %+v", sum.Reasons, want)
	}
	if !strings.HasPrefix(sum.RetryCommand, "a0bulk verify --report "+out+" (sends the 3 failed emails again)") {
		t.Fatalf("retry command %q", sum.RetryCommand)
	}
}
