package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

// The real a0bulk migrate (the binary testscript puts on PATH), SIGKILLed
// at report-line counts during its import, as crashtest does to import,
// and resumed with `a0bulk migrate --resume` each time until it ends:
// exit 0, one export job in the source, every source user in the target
// exactly once under its user_id, every record of the report final once.
func TestMigrateBinaryKilledAndResumed(t *testing.T) {
	const users = 240
	dir := t.TempDir()
	src := sandbox.New(sandbox.Config{JobDelay: 20 * time.Millisecond})
	dst := sandbox.New(sandbox.Config{JobDelay: 20 * time.Millisecond, Faults: sandbox.Faults{Seed: 2}})
	env := migrateEnv(t, src, dst)
	for i := range users {
		src.AddUser(management.User{UserID: fmt.Sprintf("auth0|%024x", i+1), Email: fmt.Sprintf("u%d@example.com", i),
			UserMetadata: map[string]any{"n": float64(i)}}, "Username-Password-Authentication")
	}
	reportPath := filepath.Join(dir, "move.ndjson")
	fresh := []string{"migrate", "--from-connection", "Username-Password-Authentication", "--to-connection", "Username-Password-Authentication",
		"--report", reportPath, "--chunk-bytes", "2000"}
	resume := []string{"migrate", "--resume", reportPath}

	// The first kill lands at once: before the journal, or during the
	// export. A run killed before its journal's first line starts afresh.
	for _, after := range []int{0, 3, 10, 25} {
		args := fresh
		if lines(reportPath+".migrate.ndjson") > 0 {
			args = resume
		}
		killed, out := runKilled(t, env, args, reportPath, after)
		if !killed {
			t.Fatalf("the run ended before its report grew by %d lines:\n%s", after, out)
		}
	}
	cmd := exec.Command("a0bulk", resume...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("last resume: %v\n%s", err, out)
	} else if !bytes.Contains(out, []byte("difference: none")) {
		t.Fatalf("last resume printed no proof:\n%s", out)
	}

	if n := src.Stats().ExportJobs; n != 1 {
		t.Errorf("the source ran %d export jobs", n)
	}
	ids := map[string]int{}
	for _, u := range dst.Users() {
		ids[u.UserID]++
	}
	for _, u := range src.Users() {
		if ids[u.UserID] != 1 {
			t.Errorf("%s is in the target %d times", u.UserID, ids[u.UserID])
		}
	}
	if len(dst.Users()) != users {
		t.Errorf("the target holds %d users, want %d", len(dst.Users()), users)
	}
	sum, err := report.Summarize(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records != users || sum.Final[report.Created] != users || len(sum.Duplicates) != 0 || sum.Resumes < 3 {
		t.Errorf("report: %d records, %d created, duplicates %v, %d resumes", sum.Records, sum.Final[report.Created], sum.Duplicates, sum.Resumes)
	}
}

// migrateEnv serves src and dst and returns an environment that reaches
// them as a migrate's source and target, and nothing of the operator's.
func migrateEnv(t *testing.T, src, dst *sandbox.Server) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AUTH0_") && !strings.HasPrefix(kv, "A0BULK_") {
			env = append(env, kv)
		}
	}
	for suffix, srv := range map[string]*sandbox.Server{"_FROM": src, "_TO": dst} {
		hs := httptest.NewServer(srv)
		t.Cleanup(hs.Close)
		env = append(env, "AUTH0_DOMAIN"+suffix+"="+strings.TrimPrefix(hs.URL, "http://"),
			"AUTH0_CLIENT_ID"+suffix+"=kill-client", "AUTH0_CLIENT_SECRET"+suffix+"=kill-secret")
	}
	return env
}

// runKilled runs a0bulk with args and SIGKILLs it once the report at path
// has grown by after lines (polled, as crashtest does); it reports whether
// the kill ended the run, and the run's output.
func runKilled(t *testing.T, env, args []string, path string, after int) (bool, string) {
	t.Helper()
	base := lines(path)
	cmd := exec.Command("a0bulk", args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(time.Minute)
	for {
		select {
		case err := <-done:
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
					return true, out.String()
				}
			}
			return false, out.String()
		case <-tick.C:
			if lines(path)-base >= after {
				_ = cmd.Process.Signal(syscall.SIGKILL)
			}
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatalf("a0bulk %s did not end:\n%s", strings.Join(args, " "), out.String())
		}
	}
}

func lines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("\n"))
}
