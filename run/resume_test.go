package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

// Settling a chunk the earlier run saw accepted starts as soon as its last
// record has been read again, before the resume admits any record it must
// send that comes after it.
func TestResumeSettlesAcceptedChunksFirst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.ndjson")
	w, err := report.Create(path, report.RunHeader{Mode: "import", Connection: "db"}, clock.NewFake(time.Unix(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []report.Entry{
		{File: "in", Line: 1, Email: "done@x.io", Status: report.Created},
		{File: "in", Line: 2, Email: "a@x.io", Status: report.Queued, Chunk: 1},
		{File: "in", Line: 3, Email: "b@x.io", Status: report.Queued, Chunk: 1},
		{Status: report.Submitted, Chunk: 1, JobID: "job_1"},
		{File: "in", Line: 4, Email: "c@x.io", Status: report.Queued, Chunk: 2}, // never acknowledged
	} {
		if err := w.Record(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := report.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p := newResumePlan(st)
	var events []string
	p.settle = func(c input.Chunk, jobID string, partial bool) {
		var lines []string
		for _, r := range c.Records {
			lines = append(lines, fmt.Sprint(r.Line))
		}
		events = append(events, fmt.Sprintf("settle %s [%s]", jobID, strings.Join(lines, " ")))
	}
	for i, email := range []string{"done@x.io", "a@x.io", "b@x.io", "c@x.io", "new@x.io"} {
		rec := input.Record{File: "in", Line: i + 1, User: input.User{Email: email}}
		if send, _ := p.admit(&rec); send {
			events = append(events, fmt.Sprintf("send %d", rec.Line))
		}
	}
	want := "settle job_1 [2 3] | send 4 | send 5"
	if got := strings.Join(events, " | "); got != want {
		t.Fatalf("events %q, want %q", got, want)
	}
	_, maybe4 := p.maybeSent(report.Key{File: "in", Line: 4})
	_, maybe5 := p.maybeSent(report.Key{File: "in", Line: 5})
	if p.nextChunk != 3 || !maybe4 || maybe5 {
		t.Fatalf("next chunk %d; maybe sent: 4 %v, 5 %v", p.nextChunk, maybe4, maybe5)
	}
}

// stepClock is a tenant's clock that stands still until start, then
// jumps and moves on by step at each reading: jobs end after a few reads,
// without any wall-clock wait.
type stepClock struct {
	mu   sync.Mutex
	at   time.Time
	step time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = c.at.Add(c.step)
	return c.at
}

func (c *stepClock) After(d time.Duration) <-chan time.Time {
	panic("the sandbox never waits")
}

func (c *stepClock) start(jump, step time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at, c.step = c.at.Add(jump), step
}

// stopAt cancels its run when the journal first shows an entry of status.
type stopAt struct {
	status report.Status
	cancel context.CancelFunc
	once   sync.Once
}

func (s *stopAt) RecordRead()               {}
func (s *stopAt) Waiting(string, time.Time) {}
func (s *stopAt) Stop()                     {}
func (s *stopAt) Observe(e report.Entry) {
	if e.Status == s.status {
		s.once.Do(s.cancel)
	}
}

// An import or create stopped mid-run (a signal) resumes, through the core
// and without argv, from what its report recorded: every record ends with
// exactly one final line, and the tenant holds each valid user once.
func TestStoppedRunResumesExactly(t *testing.T) {
	for _, tc := range []struct {
		mode   Mode
		format input.Format
		stopAt report.Status
		// minified: the JSON array on one line, as json.dump and jq -c
		// write it: every record shares line 1.
		minified bool
		// legacy: the first run's report is rewritten as versions before
		// ordinals wrote it (records named by file and line alone).
		legacy bool
	}{
		{ModeImport, input.FormatNDJSON, report.Submitted, false, false},
		{ModeCreate, input.FormatCSV, report.Created, false, false},
		{ModeImport, input.FormatJSON, report.Submitted, true, false},
		{ModeCreate, input.FormatJSON, report.Created, true, false},
		{ModeImport, input.FormatNDJSON, report.Submitted, false, true},
		{ModeCreate, input.FormatCSV, report.Created, false, true},
	} {
		name := string(tc.mode) + "/" + string(tc.format)
		if tc.minified {
			name += "/minified"
		}
		if tc.legacy {
			name += "/legacy"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			// The tenant's clock stands still during the first run, so the
			// import jobs it submits are still running when it stops: the
			// resume must settle them by reading them.
			tenantClock := &stepClock{at: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
			sb := sandbox.New(sandbox.Config{Clock: tenantClock, JobDelay: time.Hour, TokenLifetime: 100 * 365 * 24 * time.Hour})
			ts := httptest.NewServer(sb)
			t.Cleanup(ts.Close)
			in := filepath.Join(dir, "users."+string(tc.format))
			f, err := os.Create(in)
			if err != nil {
				t.Fatal(err)
			}
			genMode := input.ModeImport
			if tc.mode == ModeCreate {
				genMode = input.ModeCreate
			}
			if err := gen.Users(7, 200, f, tc.format, gen.GenOptions{Mode: genMode, InvalidRate: 0.05}); err != nil {
				t.Fatal(err)
			}
			f.Close()
			if tc.minified {
				minify(t, in)
			}

			spec := Spec{Mode: tc.mode, Connection: "Username-Password-Authentication", Inputs: []string{in}, ReportPath: filepath.Join(dir, "run.ndjson")}
			spec.ChunkBytes, spec.MaxJobs, spec.Concurrency, spec.RandomPassword = 4000, 2, 4, true
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stop := &stopAt{status: tc.stopAt, cancel: cancel}
			env := Env{Connect: testConnect(t, ts.URL), PollMin: time.Millisecond, PollRate: 1000, Grace: time.Millisecond,
				Progress: func(Task) Progress { return stop }}
			sum, err := Run(ctx, env, spec)
			var stopped *StoppedError
			if !errors.As(err, &stopped) || sum == nil || sum.Resume != stopped.Resume || !strings.Contains(stopped.Resume, "--resume "+spec.ReportPath) {
				t.Fatalf("first run: %v, summary %+v; want stopped with the resume command", err, sum)
			}

			// Stopped: the summary and the report both say so, and how far
			// it got, never "N records" as if that were all.
			if sum.Progress.State != report.StateIncomplete || sum.Progress.Outcome != report.EndStopped {
				t.Fatalf("stopped run's progress %+v", sum.Progress)
			}
			first, err := report.Summarize(spec.ReportPath)
			if err != nil || first.Progress.State != report.StateIncomplete || first.End == nil || first.End.Outcome != report.EndStopped {
				t.Fatalf("stopped run's report: %+v, end %+v (%v)", first.Progress, first.End, err)
			}
			if tc.mode == ModeImport && (first.ChunksSubmitted == 0 || first.InFlight == 0) {
				t.Fatalf("first run left %d chunks submitted, %d records in flight: nothing to settle", first.ChunksSubmitted, first.InFlight)
			}
			if tc.legacy {
				unordinal(t, spec.ReportPath)
			}
			tenantClock.start(3*time.Hour, 30*time.Minute) // the first run's jobs are done now, and later ones end soon

			resumed, err := Recorded(spec.ReportPath, tc.mode)
			if err != nil {
				t.Fatal(err)
			}
			if resumed.ChunkBytes != spec.ChunkBytes || resumed.Concurrency != spec.Concurrency || !resumed.RandomPassword || resumed.Inputs[0] != in {
				t.Fatalf("recorded spec %+v lost the first run's settings", resumed)
			}
			sum, err = Run(context.Background(), Env{Connect: testConnect(t, ts.URL), PollMin: time.Millisecond, PollRate: 1000}, resumed)
			var inc *IncompleteError
			if err != nil && !errors.As(err, &inc) {
				t.Fatalf("resume: %v", err)
			}
			rs, err := report.Summarize(spec.ReportPath)
			if err != nil {
				t.Fatal(err)
			}
			if rs.Records != 200 || rs.InFlight != 0 || len(rs.Duplicates) != 0 || rs.Resumes != 1 {
				t.Fatalf("report: %d records, %d in flight, duplicates %v, %d resumes", rs.Records, rs.InFlight, rs.Duplicates, rs.Resumes)
			}
			sent := rs.Records - rs.Final[report.Invalid]
			if n := len(sb.Users()); n != sent || rs.Final[report.Created] != sent {
				t.Fatalf("tenant holds %d users, report says %d created of %d valid", n, rs.Final[report.Created], sent)
			}
			if sum.Records != 200 || sum.Counts["created"] != sent {
				t.Fatalf("summary %+v", sum)
			}
			if p := sum.Progress; p.State != report.StateComplete || p.Final != 200 || p.Records != 200 || rs.Progress != p {
				t.Fatalf("resumed run's progress %+v, report's %+v; want complete, 200 of 200", p, rs.Progress)
			}
		})
	}
}

// minify rewrites the JSON file at path on one line.
func minify(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatal(err)
	}
	if bytes.Count(out.Bytes(), []byte("\n")) != 0 {
		t.Fatal("not minified")
	}
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// unordinal rewrites a report as versions before ordinals wrote it: no
// "keys" in its header, no "record" in its lines.
func unordinal(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "record")
		if _, ok := m["records"]; ok {
			// A chunk's queued line: those releases wrote one per record.
			var e report.Entry
			if err := json.Unmarshal(line, &e); err != nil {
				t.Fatal(err)
			}
			for _, q := range e.Members() {
				enc, _ := json.Marshal(map[string]any{"file": q.File, "line": q.Line, "status": q.Status, "at": q.At, "chunk": q.Chunk})
				out.Write(append(enc, '\n'))
			}
			continue
		}
		if run, ok := m["run"].(map[string]any); ok {
			delete(run, "keys")
		}
		enc, _ := json.Marshal(m)
		out.Write(append(enc, '\n'))
	}
	if bytes.Equal(out.Bytes(), b) {
		t.Fatal("nothing to rewrite")
	}
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}
