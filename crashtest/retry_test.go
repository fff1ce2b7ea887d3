package crashtest

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/create"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

// TestCrashRetryFailedInPlace: a create whose requests lose their answers
// ends with records failed UNKNOWN_FATE; `create --retry-failed REPORT`,
// SIGKILLed at seeded points (between a record's retrying line and its new
// final line, among others) and run again until nothing is failed, ends
// with one report in which every record has exactly one final line, and a
// tenant that holds every valid user exactly once.
func TestCrashRetryFailedInPlace(t *testing.T) {
	t.Parallel()
	const seed = 14
	dir := t.TempDir()
	// Creates dropped before the tenant acts fail (--max-retries 0: no
	// resend); those dropped after it are found by the lookup. No 5xx: with
	// no retries they would stop the run, which other tests cover.
	tn := startTenant(t, sandbox.Config{JobDelay: 30 * time.Millisecond, Faults: sandbox.Faults{Seed: seed, ResetBefore: 0.15, ResetAfter: 0.05}})
	in := filepath.Join(dir, "users.csv")
	reportPath := filepath.Join(dir, "run.ndjson")
	recs := writeInput(t, in, seed, 600, input.FormatCSV, gen.GenOptions{Mode: input.ModeCreate, InvalidRate: 0.02})
	tuning := []string{"--max-retries", "0", "--concurrency", "8", "--rate", "400", "--no-progress"}

	first := tn.runBinary(t, dir, reportPath, append([]string{"create", "--connection", connection, "--input", in, "--report", reportPath}, tuning...), nil, 0)
	if first.exit != 3 || failedCount(t, reportPath) == 0 {
		t.Fatalf("first run: want exit 3 with failed records\n%s", first)
	}
	t.Logf("first run: %d failed", failedCount(t, reportPath))

	rng := rand.New(rand.NewPCG(seed, 0xbeef))
	kills := 0
	for runs := 1; ; runs++ {
		if runs > 20 {
			t.Fatalf("still %d failed records after %d retries", failedCount(t, reportPath), runs-1)
		}
		sig, after := os.Signal(nil), 0
		if kills < 6 {
			sig, after = syscall.SIGKILL, 3+rng.IntN(40)
		}
		o := tn.runBinary(t, dir, reportPath, append([]string{"create", "--retry-failed", reportPath}, tuning...), sig, after)
		switch {
		case o.signaled:
			kills++
			t.Logf("retry %d: killed after %d new report lines", runs, o.grew)
			continue
		case o.exit != 3:
			t.Fatalf("retry %d: want exit 3 (invalid records stay)\n%s", runs, o)
		case !strings.Contains(o.stdout, "invalid records not retried"):
			t.Errorf("retry %d does not say the invalid records are not retried\n%s", runs, o)
		}
		n := failedCount(t, reportPath)
		t.Logf("retry %d: %d failed left", runs, n)
		if n == 0 && kills == 6 {
			break
		}
	}
	if lost := checkOutcome(t, reportPath, recs, tn.srv, input.ModeCreate); len(lost) != 0 {
		t.Errorf("%d records still failed UNKNOWN_FATE", len(lost))
	}
	checkSummaryCommand(t, tn, dir, reportPath, len(recs))
	sum, err := report.Summarize(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Retries < 7 {
		t.Errorf("the report records %d retries, want at least 7", sum.Retries)
	}
}

// failedCount is the number of records whose latest final line is failed
// UNKNOWN_FATE (an unanswered create), the only failures this tenant makes.
func failedCount(t *testing.T, path string) int {
	t.Helper()
	n := 0
	for _, e := range readFinals(t, path) {
		if e.Status == report.Failed {
			if e.Code != create.CodeUnknownFate {
				t.Fatalf("%s failed %s (%s), want only %s", e.Key(), e.Code, e.Reason, create.CodeUnknownFate)
			}
			n++
		}
	}
	return n
}
