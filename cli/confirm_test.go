package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/cli"
	"github.com/a0bulk/a0bulk/sandbox"
)

// ttyRun runs a0bulk with stdin answering answer, on streams that are
// terminals as told.
func ttyRun(t *testing.T, stdinTTY, stderrTTY bool, answer string, args ...string) chkResult {
	t.Helper()
	var out, errOut bytes.Buffer
	s := cli.Test(strings.NewReader(answer), &out, &errOut)
	s.SetTTY(stdinTTY, false, stderrTTY)
	code := cli.Main(append([]string{"a0bulk"}, args...), s)
	return chkResult{code: code, out: out.String(), errOut: errOut.String()}
}

const question = "Continue? [y/N]"

// On a terminal a run that writes asks first, naming the tenant, the
// connection, what it does, its input and its report; y goes on, anything
// else (or no answer) stops it with exit 2 and nothing written to the
// tenant.
func TestConfirmationOnATerminal(t *testing.T) {
	input := filepath.Join("..", "fixtures", "small.csv")
	for _, tc := range []struct {
		answer string
		code   int
	}{
		{"y\n", 3}, // the fixture holds invalid records
		{"YES\n", 3},
		{"n\n", 2},
		{"\n", 2},
		{"", 2}, // end of input
		{"maybe\n", 2},
	} {
		t.Run(strings.TrimSpace(tc.answer), func(t *testing.T) {
			chkCleanEnv(t)
			addr, sb := chkTenant(t, sandbox.Config{JobDelay: -1})
			report := filepath.Join(t.TempDir(), "r.ndjson")
			r := ttyRun(t, true, true, tc.answer, "import", "--input", input, "--domain", addr, "--client-id", "app_1", "--client-secret", "b",
				"--connection", chkDB, "--upsert", "--no-progress", "--report", report)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tc.code, r.errOut)
			}
			for _, want := range []string{
				"about to write to the Auth0 tenant " + addr + " (client app_1)",
				`import      import users with bulk-import jobs into connection "` + chkDB + `"`,
				"input       " + input + " (",
				"existing    overwritten (upsert",
				"emails      none",
				"report      " + report,
				question,
			} {
				if !strings.Contains(r.errOut, want) {
					t.Errorf("the question does not say %q:\n%s", want, r.errOut)
				}
			}
			if tc.code != 2 {
				return
			}
			if !strings.Contains(r.errOut, "not confirmed: nothing was sent to "+addr) {
				t.Errorf("no refusal:\n%s", r.errOut)
			}
			if got := apiRequests(sb); len(got) != 0 {
				t.Errorf("an unconfirmed run called the API: %v", got)
			}
			if _, err := os.Stat(report); !os.IsNotExist(err) {
				t.Errorf("an unconfirmed run wrote its report: %v", err)
			}
		})
	}
}

// Nothing is asked with --yes or A0BULK_YES, off a terminal (stdin or
// stderr not a TTY: cron), or by a dry run; and nothing is refused for want
// of an answer.
func TestNoConfirmation(t *testing.T) {
	input := filepath.Join("..", "fixtures", "small.csv")
	for _, tc := range []struct {
		name                string
		stdinTTY, stderrTTY bool
		env                 string
		args                []string
		code                int
	}{
		{"--yes", true, true, "", []string{"--yes"}, 3},
		{"-y", true, true, "", []string{"-y"}, 3},
		{"A0BULK_YES", true, true, "1", nil, 3},
		{"stdin not a terminal", false, true, "", nil, 3},
		{"stderr not a terminal", true, false, "", nil, 3},
		{"dry run", true, true, "", []string{"--dry-run"}, 3}, // invalid records in the plan
	} {
		t.Run(tc.name, func(t *testing.T) {
			chkCleanEnv(t)
			if tc.env != "" {
				t.Setenv("A0BULK_YES", tc.env)
			}
			addr, _ := chkTenant(t, sandbox.Config{JobDelay: -1})
			args := append([]string{"import", "--input", input, "--domain", addr, "--client-id", "a", "--client-secret", "b",
				"--connection", chkDB, "--no-progress", "--report", filepath.Join(t.TempDir(), "r.ndjson")}, tc.args...)
			r := ttyRun(t, tc.stdinTTY, tc.stderrTTY, "", args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tc.code, r.out, r.errOut)
			}
			if strings.Contains(r.errOut, question) {
				t.Fatalf("asked:\n%s", r.errOut)
			}
		})
	}
}

// Every command that writes asks: create (with what it emails), a resume
// (with what is done), sync (with the counts its guard made) and verify.
func TestConfirmationOfEachCommand(t *testing.T) {
	chkCleanEnv(t)
	addr, _ := chkTenant(t, sandbox.Config{JobDelay: -1})
	dir := t.TempDir()
	createInput := filepath.Join("..", "fixtures", "create.csv")
	creds := []string{"--domain", addr, "--client-id", "a", "--client-secret", "b", "--no-progress"}
	run := func(answer string, args ...string) chkResult {
		t.Helper()
		return ttyRun(t, true, true, answer, append(args, creds...)...)
	}

	// create --verify-email, stopped at the question: nothing to resume yet.
	r := run("n\n", "create", "--input", createInput, "--connection", chkDB, "--verify-email", "--report", filepath.Join(dir, "c0.ndjson"))
	for _, want := range []string{"create users one request each", "existing    skipped (no --upsert)", "emails      a verification email to each created user"} {
		if r.code != 2 || !strings.Contains(r.errOut, want) {
			t.Fatalf("create: exit %d, want 2 and %q:\n%s", r.code, want, r.errOut)
		}
	}
	// A run confirmed, then its resume asks too, saying what is done.
	created := filepath.Join(dir, "c.ndjson")
	if r := run("y\n", "create", "--input", createInput, "--connection", chkDB, "--report", created); r.code == 2 {
		t.Fatalf("create: %s", r.errOut)
	}
	r = run("n\n", "create", "--resume", created)
	if r.code != 2 || !strings.Contains(r.errOut, "resume      "+created+": ") || !strings.Contains(r.errOut, "records already final") {
		t.Fatalf("resume: exit %d\n%s", r.code, r.errOut)
	}
	// sync: the counts its guard made.
	state := filepath.Join(dir, "s.state")
	r = run("n\n", "sync", "--state", state, "--mode", "create", "--random-password", "--input", createInput, "--connection", chkDB, "--report", filepath.Join(dir, "s.ndjson"))
	if r.code != 2 || !strings.Contains(r.errOut, "create new and update changed users") || !strings.Contains(r.errOut, "records     ") {
		t.Fatalf("sync: exit %d\n%s", r.code, r.errOut)
	}
	// verify --report appends to the run's report.
	r = run("n\n", "verify", "--report", created)
	if r.code != 2 || !strings.Contains(r.errOut, "send a verification email") || !strings.Contains(r.errOut, created+" (appended to)") {
		t.Fatalf("verify: exit %d\n%s", r.code, r.errOut)
	}
}
