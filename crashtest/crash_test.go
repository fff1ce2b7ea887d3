package crashtest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
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

const connection = "Username-Password-Authentication"

// crashFaults: every kind of network trouble the client must survive, on
// top of the kills. Decisions are a pure function of the seed and the
// request, so the tenant's behaviour does not depend on timing. resets is
// the fraction of POST/PATCH dropped before, and again after, the tenant
// acts.
func crashFaults(seed int64, resets float64) sandbox.Faults {
	return sandbox.Faults{Seed: seed, ResetAfter: resets, ResetBefore: resets, Error5xx: 0.05}
}

// crashPlan is one mode's crash run.
type crashPlan struct {
	mode     input.Mode
	format   input.Format
	records  int
	kills    int
	seed     uint64
	resets   float64 // see crashFaults
	minLines int     // a kill lands after this many new report lines…
	maxLines int     // …and at most this many
	// meaning are the flags a fresh run is given and a resume reads back
	// from the report; tuning are given to every run (a resume does not
	// remember them).
	meaning func(input, report string) []string
	tuning  []string
}

// maxFailedRuns bounds the runs that end with exit 1 on their own (an
// import POST whose answer was lost stops the run, to be resumed): a loop
// of them would be a bug.
const maxFailedRuns = 25

// crash runs the plan: a fresh run, then resumes, each SIGKILLed at a
// seeded point of progress, until the plan's kills are done; then resumes
// until the run completes; then it proves the end state.
func crash(t *testing.T, p crashPlan) {
	// CRASHTEST_SEED explores other kill schedules, inputs and faults; the
	// fixed seeds keep `make test` reproducible.
	if v := os.Getenv("CRASHTEST_SEED"); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("CRASHTEST_SEED: %v", err)
		}
		p.seed = seed
	}
	t.Logf("seed %d", p.seed)
	dir := t.TempDir()
	tn := startTenant(t, sandbox.Config{JobDelay: 30 * time.Millisecond, Faults: crashFaults(int64(p.seed), p.resets)})
	ext := map[input.Format]string{input.FormatCSV: ".csv", input.FormatNDJSON: ".ndjson", input.FormatJSON: ".json"}[p.format]
	input := filepath.Join(dir, "users"+ext)
	reportPath := filepath.Join(dir, "run.ndjson")
	recs := writeInput(t, input, int64(p.seed), p.records, p.format,
		gen.GenOptions{Mode: p.mode, InvalidRate: 0.02, DuplicateRate: 0.01})
	invalid := 0
	for _, r := range recs {
		if !r.valid {
			invalid++
		}
	}
	if invalid == 0 {
		t.Fatal("the generated input has no invalid record: the final exit code would not be tested")
	}

	rng := rand.New(rand.NewPCG(p.seed, 0xc0ffee))
	cmd := p.mode.String()
	nextArgs := func() []string {
		if hasHeader(reportPath) {
			return append([]string{cmd, "--resume", reportPath}, p.tuning...)
		}
		// Killed before the report had its header: nothing was sent, and
		// a fresh run takes an empty report over.
		return append(append([]string{cmd}, p.meaning(input, reportPath)...), p.tuning...)
	}

	kills, failed, runs := 0, 0, 0
	var last outcome
	for {
		sig, after := os.Signal(nil), 0
		if kills < p.kills {
			sig = syscall.SIGKILL
			// The first kill of every plan lands at once: before the
			// report may even exist.
			if kills > 0 {
				after = p.minLines + rng.IntN(p.maxLines-p.minLines+1)
			}
		}
		last = tn.runBinary(t, dir, reportPath, nextArgs(), sig, after)
		runs++
		switch {
		case last.signaled:
			kills++
			t.Logf("run %d: killed after %d new report lines (aimed at %d)", runs, last.grew, after)
			continue
		case last.exit == 1:
			failed++
			t.Logf("run %d: stopped on its own (exit 1) after %d report lines: %s", runs, last.grew, lastLine(last.stderr))
			if hint := cmd + " --resume " + reportPath; !strings.Contains(last.stdout+last.stderr, hint) {
				t.Errorf("run %d stopped without printing the resume command %q\n%s", runs, hint, last)
			}
			if failed > maxFailedRuns {
				t.Fatalf("%d runs ended with exit 1; the last:\n%s", failed, last)
			}
			continue
		case last.exit == 0 || last.exit == 3:
		default:
			t.Fatalf("unexpected end of run %d:\n%s", runs, last)
		}
		break
	}
	if kills < p.kills {
		t.Fatalf("the run completed after %d kills, the plan wants %d: grow the input or lower the kill points\n%s", kills, p.kills, last)
	}
	if last.exit != 3 {
		t.Errorf("final run: exit %d, want 3 (%d invalid records)\n%s", last.exit, invalid, last)
	}
	st := tn.srv.Stats()
	t.Logf("%d runs: %d SIGKILLs, %d stopped on their own; tenant faults %+v, import jobs %d, POST /users %d",
		runs, kills, failed, st.Faults, st.ImportJobs, st.Requests["POST /api/v2/users"])
	lost := checkOutcome(t, reportPath, recs, tn.srv, p.mode)
	checkSummaryCommand(t, tn, dir, reportPath, len(recs))
	retryFailures(t, tn, dir, reportPath, recs, lost, p.tuning)
}

// checkSummaryCommand: `a0bulk report summary --output json` agrees that
// the run is complete, with every record counted once.
func checkSummaryCommand(t *testing.T, tn *tenant, dir, reportPath string, records int) {
	t.Helper()
	o := tn.runBinary(t, dir, "", []string{"report", "summary", "--output", "json", reportPath}, nil, 0)
	if o.exit != 0 {
		t.Fatalf("report summary:\n%s", o)
	}
	var sum report.Summary
	if err := json.Unmarshal([]byte(o.stdout), &sum); err != nil {
		t.Fatalf("report summary --output json: %v\n%s", err, o)
	}
	total := 0
	for _, n := range sum.Final {
		total += n
	}
	if sum.InFlight != 0 || len(sum.Duplicates) != 0 || sum.Records != records || total != records {
		t.Errorf("report summary: in flight %d, duplicates %d, records %d, counts add up to %d; want 0, 0, %d, %d",
			sum.InFlight, len(sum.Duplicates), sum.Records, total, records, records)
	}
}

func lastLine(s string) string {
	for len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			return s[i+1:]
		}
	}
	return s
}

// TestCrashImport kills bulk-import runs: between queued and submitted,
// while jobs are pending, while their outcomes are being written.
func TestCrashImport(t *testing.T) {
	t.Parallel()
	crash(t, crashPlan{
		mode: input.ModeImport, format: input.FormatNDJSON,
		records: 2000, kills: 12, seed: 20261125,
		// Only ~30 import POSTs: drop more of them, so that runs also stop
		// on a lost answer and resend chunks the tenant already holds.
		resets: 0.08,
		// A chunk of ~30 KB holds ~70 users: its queued line, its
		// submitted line, then 70 final lines; kills land anywhere from
		// mid-chunk to a few chunks later (the tenant's lost answers and
		// the harness's 2 ms poll put some between a queued line and its
		// POST's answer).
		minLines: 20, maxLines: 200,
		meaning: func(input, report string) []string {
			return []string{"--connection", connection, "--input", input, "--report", report}
		},
		tuning: []string{"--chunk-bytes", "30000", "--no-progress"},
	})
}

// TestCrashCreate kills per-user create runs: creates are in flight with
// `sending` lines and no answer at almost any moment.
func TestCrashCreate(t *testing.T) {
	t.Parallel()
	crash(t, crashPlan{
		mode: input.ModeCreate, format: input.FormatCSV,
		records: 2000, kills: 12, seed: 7, resets: 0.03,
		minLines: 20, maxLines: 300,
		meaning: func(input, report string) []string {
			return []string{"--connection", connection, "--input", input, "--report", report}
		},
		// Every run would otherwise start at Auth0's safest pace (2/s) and
		// spend seconds learning the unlimited sandbox's.
		tuning: []string{"--concurrency", strconv.Itoa(8), "--rate", "400", "--no-progress"},
	})
}

// retryFailures is the operator's way out of `failed` records:
// `a0bulk report failures REPORT > retry.ndjson`, then a run on that file.
// It repeats (a few times at most) until no record of the retry fails, and
// then the tenant must hold every valid user exactly once.
func retryFailures(t *testing.T, tn *tenant, dir, reportPath string, recs []inputRecord, lost map[string]bool, tuning []string) {
	t.Helper()
	for round := 1; len(lost) > 0; round++ {
		if round > 3 {
			t.Fatalf("still %d failed records after %d retries", len(lost), round-1)
		}
		t.Logf("retry %d: %d records failed with no answer from the tenant", round, len(lost))
		o := tn.runBinary(t, dir, "", []string{"report", "failures", reportPath}, nil, 0)
		if o.exit != 0 {
			t.Fatalf("report failures:\n%s", o)
		}
		// Only the lost records: the invalid ones are printed too, for the
		// operator to fix, and are not ours to send.
		var keep []string
		for _, line := range strings.Split(strings.TrimSpace(o.stdout), "\n") {
			var u struct{ Email string }
			if err := json.Unmarshal([]byte(line), &u); err != nil {
				t.Fatalf("report failures printed %q: %v", line, err)
			}
			if lost[strings.ToLower(u.Email)] {
				keep = append(keep, line)
			}
		}
		if len(keep) != len(lost) {
			t.Fatalf("report failures printed %d of the %d lost records:\n%s", len(keep), len(lost), o.stdout)
		}
		retry := filepath.Join(dir, fmt.Sprintf("retry%d.ndjson", round))
		if err := os.WriteFile(retry, []byte(strings.Join(keep, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		reportPath = filepath.Join(dir, fmt.Sprintf("retry%d-run.ndjson", round))
		args := append([]string{"create", "--connection", connection, "--input", retry, "--report", reportPath}, tuning...)
		if o = tn.runBinary(t, dir, reportPath, args, nil, 0); o.exit != 0 && o.exit != 3 {
			t.Fatalf("retry run:\n%s", o)
		}
		next := map[string]bool{}
		for _, e := range readFinals(t, reportPath) {
			email := strings.ToLower(e.Email)
			switch {
			case e.Status == report.Failed && e.Code == create.CodeUnknownFate:
				next[email] = true
			case lost[email] && e.Status != report.Created:
				t.Errorf("retry: %s ended %s (%s: %s), want created", email, e.Status, e.Code, e.Reason)
			}
		}
		lost = next
	}
	checkTenant(t, tn.srv, validEmails(recs), nil)
}
