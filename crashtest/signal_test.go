package crashtest

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

// TestSignalStopsGracefully: SIGTERM or SIGINT mid-run stops taking new
// records, lets the requests in flight finish, flushes the report, prints
// the resume command and exits 143 or 130; the resume then completes.
func TestSignalStopsGracefully(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		mode     input.Mode
		format   input.Format
		sig      syscall.Signal
		wantExit int
		after    int // report lines before the signal
		tuning   []string
	}{
		{"import SIGTERM", input.ModeImport, input.FormatNDJSON, syscall.SIGTERM, 143, 100,
			[]string{"--chunk-bytes", "30000", "--no-progress"}},
		{"create SIGINT", input.ModeCreate, input.FormatCSV, syscall.SIGINT, 130, 200,
			[]string{"--rate", "400", "--no-progress"}},
		{"create SIGTERM", input.ModeCreate, input.FormatCSV, syscall.SIGTERM, 143, 50,
			[]string{"--rate", "400", "--no-progress"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			// Only faults a retry cures: with no lost answer every request
			// in flight at the signal ends with a final line.
			tn := startTenant(t, sandbox.Config{JobDelay: 30 * time.Millisecond, Faults: sandbox.Faults{Seed: 3, Error5xx: 0.05}})
			input := filepath.Join(dir, "users."+string(tc.format))
			reportPath := filepath.Join(dir, "run.ndjson")
			recs := writeInput(t, input, 11, 1000, tc.format, gen.GenOptions{Mode: tc.mode, InvalidRate: 0.02})
			cmd := tc.mode.String()

			args := append([]string{cmd, "--connection", connection, "--input", input, "--report", reportPath}, tc.tuning...)
			o := tn.runBinary(t, dir, reportPath, args, tc.sig, tc.after)
			if o.signaled || o.exit != tc.wantExit {
				t.Fatalf("want exit %d after %v\n%s", tc.wantExit, tc.sig, o)
			}
			// The signal is named as operators know it, not "terminated".
			if name := map[syscall.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT"}[tc.sig]; !strings.Contains(o.stderr, "stopped by "+name) {
				t.Errorf("stderr does not say %q\n%s", "stopped by "+name, o)
			}
			hint := cmd + " --resume " + reportPath
			if !strings.Contains(o.stdout+o.stderr, hint) {
				t.Errorf("the output does not give the resume command %q\n%s", hint, o)
			}
			st, err := report.Load(reportPath)
			if err != nil {
				t.Fatalf("the stopped run's report does not load: %v", err)
			}
			if st.Torn {
				t.Error("a gracefully stopped run left a torn last line")
			}
			sum, err := report.Summarize(reportPath)
			if err != nil {
				t.Fatal(err)
			}
			if sum.InFlight != 0 {
				t.Errorf("%d records left in flight: requests already sent must finish before exit", sum.InFlight)
			}
			// The report says the run stopped, how far it got, and that it is
			// not finished, even with nothing in flight.
			if sum.Progress.State != report.StateIncomplete || sum.End == nil || sum.End.Outcome != report.EndStopped {
				t.Errorf("the stopped run's report reads %+v (end %+v); want incomplete, stopped", sum.Progress, sum.End)
			}
			if sum.Records >= len(recs) {
				t.Errorf("the stopped run settled all %d records: the signal came too late to test anything", sum.Records)
			}
			t.Logf("stopped after %d of %d records (%d report lines)", sum.Records, len(recs), o.grew)

			o = tn.runBinary(t, dir, reportPath, append([]string{cmd, "--resume", reportPath}, tc.tuning...), nil, 0)
			if o.exit != 3 {
				t.Fatalf("the resume did not complete with exit 3 (invalid records in the input)\n%s", o)
			}
			if lost := checkOutcome(t, reportPath, recs, tn.srv, tc.mode); len(lost) > 0 {
				t.Errorf("records failed without faults that lose answers: %v", lost)
			}
		})
	}
}

// TestKillAtStartThenFresh: a run killed at once leaves no report, an
// empty one, or one with its header; starting afresh (or resuming) must
// then work.
func TestKillAtStartThenFresh(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tn := startTenant(t, sandbox.Config{JobDelay: -1})
	inPath := filepath.Join(dir, "users.csv")
	reportPath := filepath.Join(dir, "run.ndjson")
	recs := writeInput(t, inPath, 5, 50, input.FormatCSV, gen.GenOptions{Mode: input.ModeCreate})
	args := []string{"create", "--connection", connection, "--input", inPath, "--report", reportPath, "--rate", "400", "--no-progress"}
	o := tn.runBinary(t, dir, reportPath, args, syscall.SIGKILL, 0)
	if hasHeader(reportPath) {
		args = []string{"create", "--resume", reportPath, "--rate", "400", "--no-progress"}
	}
	t.Logf("killed at once (signalled %v); next: %s", o.signaled, strings.Join(args[:2], " "))
	if o = tn.runBinary(t, dir, reportPath, args, nil, 0); o.exit != 0 {
		t.Fatalf("want exit 0\n%s", o)
	}
	if lost := checkOutcome(t, reportPath, recs, tn.srv, input.ModeCreate); len(lost) > 0 {
		t.Errorf("records failed without faults: %v", lost)
	}
}

// TestEmptyReportIsTakenOver: a run killed between creating its report and
// writing the header leaves an empty file, which no resume can read; the
// same command run again must start afresh in it rather than refuse it.
func TestEmptyReportIsTakenOver(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tn := startTenant(t, sandbox.Config{JobDelay: -1})
	inPath := filepath.Join(dir, "users.csv")
	reportPath := filepath.Join(dir, "run.ndjson")
	recs := writeInput(t, inPath, 8, 20, input.FormatCSV, gen.GenOptions{Mode: input.ModeCreate})
	if err := os.WriteFile(reportPath, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"create", "--connection", connection, "--input", inPath, "--report", reportPath, "--rate", "400", "--no-progress"}
	if o := tn.runBinary(t, dir, reportPath, args, nil, 0); o.exit != 0 {
		t.Fatalf("want exit 0 in an empty report\n%s", o)
	}
	if lost := checkOutcome(t, reportPath, recs, tn.srv, input.ModeCreate); len(lost) > 0 {
		t.Errorf("records failed without faults: %v", lost)
	}
}
