package run

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

// killEnv runs an import against a sandbox whose clock stands still until
// told to move, so that jobs stay pending while runs are stopped, and a
// "kill" is a stop at a journal line plus, when needed, the report cut back
// to the line a SIGKILL would have left.
type killEnv struct {
	t     *testing.T
	clk   *stepClock
	sb    *sandbox.Server
	url   string
	spec  Spec
	users int
	// runClock, when set, is the runs' clock (default: the wall clock,
	// waiting only PollMin and Grace, a millisecond each).
	runClock clock.Clock
}

func newKillEnv(t *testing.T, users int) *killEnv {
	dir := t.TempDir()
	clk := &stepClock{at: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	// Jobs end a few minutes after they are created: far from the 2 hours
	// after which a completed job reads expired (and is looked up anyway).
	sb := sandbox.New(sandbox.Config{Clock: clk, JobDelay: time.Minute, TokenLifetime: 100 * 365 * 24 * time.Hour})
	ts := httptest.NewServer(sb)
	t.Cleanup(ts.Close)
	in := filepath.Join(dir, "users.ndjson")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := gen.Users(5, users, f, input.FormatNDJSON, gen.GenOptions{Mode: input.ModeImport}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	spec := Spec{Mode: ModeImport, Connection: "Username-Password-Authentication", Inputs: []string{in}, ReportPath: filepath.Join(dir, "run.ndjson")}
	spec.ChunkBytes, spec.MaxJobs = DefaultChunkBytes, 2 // one chunk
	return &killEnv{t: t, clk: clk, sb: sb, url: ts.URL, spec: spec, users: users}
}

// run runs (resume: continues) the import; with stopStatus set it stops at the
// first journal line of that status, and must stop there.
func (e *killEnv) run(resume bool, stopStatus report.Status) *Summary {
	e.t.Helper()
	sum, err := e.attempt(resume, stopStatus)
	var stopped *StoppedError
	switch {
	case stopStatus != "" && !errors.As(err, &stopped):
		data, _ := os.ReadFile(e.spec.ReportPath)
		e.t.Fatalf("run: %v, want stopped at %s\n%s", err, stopStatus, data)
	case stopStatus == "" && err != nil:
		e.t.Fatalf("run: %v", err)
	}
	return sum
}

// attempt runs (resume: continues) the import, stopping it at the first
// journal line of stopStatus when set, and returns what Run returned.
func (e *killEnv) attempt(resume bool, stopStatus report.Status) (*Summary, error) {
	e.t.Helper()
	spec := e.spec
	if resume {
		var err error
		if spec, err = Recorded(e.spec.ReportPath, ModeImport); err != nil {
			e.t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := Env{Connect: testConnect(e.t, e.url), Clock: e.runClock, PollMin: time.Millisecond, PollRate: 1000, Grace: time.Millisecond}
	if stopStatus != "" {
		stop := &stopAt{status: stopStatus, cancel: cancel}
		env.Progress = func(Task) Progress { return stop }
	}
	return Run(ctx, env, spec)
}

// cutAt truncates the report just before (or, with after, just after) its
// first line containing marker: the report a SIGKILL there would leave.
func (e *killEnv) cutAt(marker string, after bool) {
	e.t.Helper()
	data, err := os.ReadFile(e.spec.ReportPath)
	if err != nil {
		e.t.Fatal(err)
	}
	i := bytes.Index(data, []byte(marker))
	if i < 0 {
		e.t.Fatalf("no %s in the report:\n%s", marker, data)
	}
	end := bytes.LastIndexByte(data[:i], '\n') + 1
	if after {
		end = i + bytes.IndexByte(data[i:], '\n') + 1
	}
	if err := os.WriteFile(e.spec.ReportPath, data[:end], 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// checkAllCreated: every user is in the tenant once, and the report says
// this run created each one (verify --report emails created users only).
func (e *killEnv) checkAllCreated() {
	e.t.Helper()
	rs, err := report.Summarize(e.spec.ReportPath)
	if err != nil {
		e.t.Fatal(err)
	}
	if rs.Records != e.users || rs.InFlight != 0 || len(rs.Duplicates) != 0 || rs.Final[report.Created] != e.users {
		e.t.Fatalf("report: %d records, final %v, %d in flight, duplicates %v; want all %d created", rs.Records, rs.Final, rs.InFlight, rs.Duplicates, e.users)
	}
	if n := len(e.sb.Users()); n != e.users {
		e.t.Fatalf("tenant holds %d users, want %d", n, e.users)
	}
}

// Issue 12 item 4. A run is killed right after its import POST (before the
// submitted line); a resume sends the chunk again and is killed right after
// its own submitted line; a second resume settles that job, which calls
// every user DUPLICATED_USER (the first POST created them). The users are
// this run's: the journal still says they may have reached the tenant
// before, so they are looked up and reported created, not skipped.
func TestSecondResumeRemembersAnEarlierUnansweredPOST(t *testing.T) {
	e := newKillEnv(t, 3)
	e.run(false, report.Submitted)
	e.cutAt(`"status":"submitted"`, false) // killed before the submitted line
	e.run(true, report.Submitted)          // resent; killed after its submitted line
	if rs, _ := report.Summarize(e.spec.ReportPath); rs.ChunksSubmitted != 1 || rs.InFlight != 3 {
		t.Fatalf("after the first resume: %d chunks submitted, %d in flight", rs.ChunksSubmitted, rs.InFlight)
	}
	if st := e.sb.Stats(); st.ImportJobs != 2 {
		t.Fatalf("%d import jobs, want 2 (the lost one and the resend)", st.ImportJobs)
	}
	e.clk.start(10*time.Minute, time.Second) // both jobs are done: the first created every user
	sum := e.run(true, "")
	e.checkAllCreated()
	if sum.Counts["skipped"] != 0 {
		t.Fatalf("summary %+v", sum)
	}
}

// Issue 12 item 8. A resume that settles a chunk some of whose records an
// earlier run already settled compares nothing with the job's summary,
// which counts the whole chunk: no false "summary mismatch" warning.
func TestResumeOfPartlySettledChunkWarnsNothing(t *testing.T) {
	e := newKillEnv(t, 3)
	e.run(false, report.Submitted)
	e.clk.start(10*time.Minute, time.Second)
	e.run(true, "")
	e.cutAt(`"status":"created"`, true) // killed after its first final line
	sum := e.run(true, "")
	e.checkAllCreated()
	for _, w := range sum.Warnings {
		if strings.Contains(w, "summary") {
			t.Fatalf("false warning: %s", w)
		}
	}
}
