package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/report"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func key(n int) report.Key { return report.Key{File: "u.csv", Line: n + 1, Record: n} }

func entry(n int, st report.Status, chunk int) report.Entry {
	e := report.At(key(n))
	e.Status, e.Chunk = st, chunk
	return e
}

// The counts come from the journal's entries alone; what is in flight is
// what was sent (or queued in a submitted job) and is not yet final.
func TestTallyFollowsTheJournal(t *testing.T) {
	tl := newTally(Options{Clock: clock.NewFake(t0)})
	for range 3 {
		tl.RecordRead()
	}
	// A create run: two sent, one answered.
	tl.Observe(entry(1, report.Sending, 0))
	tl.Observe(entry(2, report.Sending, 0))
	tl.Observe(entry(1, report.Created, 0))
	tl.Observe(entry(3, report.Invalid, 0))
	if got := tl.InFlight(); got != (InFlight{Requests: 1}) {
		t.Fatalf("in flight %+v, want 1 request", got)
	}
	// An import: chunk 1 (records 10, 11) submitted, chunk 2 queued only;
	// a resend queues 10 again in chunk 1.
	for _, e := range []report.Entry{entry(10, report.Queued, 1), entry(11, report.Queued, 1), {Status: report.Submitted, Chunk: 1, JobID: "job_1"},
		entry(10, report.Queued, 1), entry(12, report.Queued, 2)} {
		tl.Observe(e)
	}
	if got := tl.InFlight(); got != (InFlight{Requests: 1, Jobs: 1}) {
		t.Fatalf("in flight %+v, want 1 request and 1 job", got)
	}
	tl.Observe(entry(10, report.Imported, 1))
	tl.Observe(entry(11, report.Failed, 1))
	if got := tl.InFlight(); got.Jobs != 0 {
		t.Fatalf("in flight %+v after the job settled", got)
	}
	s := tl.snapshot()
	if s.read != 3 || s.settled != 4 || s.failed != 1 || s.invalid != 1 {
		t.Fatalf("snapshot %+v", s)
	}
}

// At 40, 80 and 120 columns every line fits (one column to spare, so the
// terminal never wraps it), and keeps what matters most: how far, and the
// wait.
func TestLineFitsTheTerminal(t *testing.T) {
	cases := map[string]snapshot{
		"bytes": {command: "import", countsBytes: true, bytesRead: 1_250_000, bytes: 4_500_000, read: 1203, settled: 800, failed: 3, invalid: 1, jobs: 2,
			waitWhat: "the tenant to answer again (POST /api/v2/jobs/users-imports got no answer)", waitLeft: 11500 * time.Millisecond, waited: 40 * time.Second},
		"records": {command: "create", countsBytes: true, readAll: true, read: 500, settled: 214, failed: 3, elapsed: 60 * time.Second,
			waitWhat: "the tenant's rate limit", waitLeft: 12 * time.Second, waited: 40 * time.Second},
		"stdin": {command: "sync", countsBytes: true, bytesRead: 1_200_000, read: 900, settled: 100,
			waitWhat: "an import slot", waitLeft: 4 * time.Second},
		"verify": {command: "verify", read: 30, sent: 20, verifyFailed: 1},
	}
	for name, s := range cases {
		for _, cols := range []int{40, 80, 120} {
			line := s.render(cols)
			if w := width(line); w > cols-1 {
				t.Errorf("%s at %d columns: %d wide: %q", name, cols, w, line)
			}
			if strings.ContainsAny(line, "\r\n") {
				t.Errorf("%s at %d columns: a line break in %q", name, cols, line)
			}
			if s.waitWhat != "" && !strings.Contains(line, "waiting "+fmtDur(ceilSeconds(s.waitLeft))) {
				t.Errorf("%s at %d columns: the wait is missing from %q", name, cols, line)
			}
			t.Logf("%-7s %3d |%s|", name, cols, line)
		}
	}
}

// What each width shows, exactly: narrow keeps the percentage and the wait
// (its reason cut short); wider adds the time left, then the bar, the
// record count, the failures and the jobs.
func TestLineAtEachWidth(t *testing.T) {
	s := snapshot{command: "import", countsBytes: true, readAll: true, read: 500, settled: 214, failed: 3, elapsed: 60 * time.Second, jobs: 2,
		waitWhat: "the tenant's rate limit", waitLeft: 11500 * time.Millisecond, waited: 40 * time.Second}
	calm := s
	calm.waitWhat = ""
	for _, tc := range []struct {
		s    snapshot
		cols int
		want string
	}{
		{s, 40, "import 42% · waiting 12s for the tenan…"},
		{s, 80, "import 42% 214/500 · 1m21s left · waiting 12s for the tenant's rate limit"},
		{s, 120, "import ████████████░░░░░░░░░░░░░░░░░░ 42% 214/500 · 1m21s left · failed 3 · waiting 12s for the tenant's rate limit"},
		{calm, 40, "import 42% 214/500 · 1m21s left"},
		{calm, 80, "import ████████░░░░░░░░░░░░ 42% 214/500 · 1m21s left · failed 3 · 2 jobs"},
		{calm, 120, "import ████████████░░░░░░░░░░░░░░░░░░ 42% (214/500 records) · about 1m21s left · failed 3 · 2 import jobs running"},
	} {
		if got := tc.s.render(tc.cols); got != tc.want {
			t.Errorf("at %d columns:\n got %q\nwant %q", tc.cols, got, tc.want)
		}
	}
}

// Until the reader has counted every record, progress is bytes read of the
// input's size, with no record total and no time left; then records.
func TestBytesThenRecords(t *testing.T) {
	var readAll bool
	clk := clock.NewFake(t0)
	tl := newTally(Options{Command: "import", TotalBytes: 1000, BytesRead: func() int64 { return 250 }, ReadDone: func() bool { return readAll }, Clock: clk})
	for range 40 {
		tl.RecordRead()
	}
	for i := range 10 {
		tl.Observe(entry(i, report.Imported, 1))
	}
	clk.Advance(30 * time.Second)
	line := tl.snapshot().render(120)
	if !strings.Contains(line, "input 25% read (250 B of 1.0 KB)") || strings.Contains(line, "records)") || strings.Contains(line, "left") {
		t.Fatalf("while reading: %q; want bytes read, no record total, no time left", line)
	}
	if !strings.Contains(line, "40 records read, 10 settled") {
		t.Errorf("while reading: %q; want the records read and settled", line)
	}
	readAll = true
	line = tl.snapshot().render(120)
	if !strings.Contains(line, "25% (10/40 records)") || !strings.Contains(line, "about 1m30s left") {
		t.Fatalf("once read: %q; want records of the total and the time left", line)
	}
}

// A resumed run counts the records its report already has final as done.
func TestResumeCountsWhatWasDone(t *testing.T) {
	tl := newTally(Options{Command: "import", ReadDone: func() bool { return true }, Done: 30, Clock: clock.NewFake(t0)})
	for range 40 {
		tl.RecordRead()
	}
	tl.Observe(entry(1, report.Imported, 1))
	if line := tl.snapshot().render(120); !strings.Contains(line, "77% (31/40 records)") {
		t.Fatalf("resumed: %q", line)
	}
}

// Stdin has no size: bytes read, no percentage.
func TestStdinHasNoPercentage(t *testing.T) {
	tl := newTally(Options{Command: "import", BytesRead: func() int64 { return 1_200_000 }, ReadDone: func() bool { return false }, Clock: clock.NewFake(t0)})
	line := tl.snapshot().render(120)
	if !strings.HasPrefix(line, "import 1.2 MB of input read") || strings.Contains(line, "%") || strings.Contains(line, "█") {
		t.Fatalf("stdin: %q", line)
	}
}

// Only an import has jobs: create and verify lines never speak of chunks.
func TestOnlyImportsShowJobs(t *testing.T) {
	for _, cmd := range []string{"create", "verify"} {
		tl := newTally(Options{Command: cmd, Clock: clock.NewFake(t0)})
		tl.RecordRead()
		tl.Observe(entry(1, report.Sending, 0))
		if line := tl.snapshot().plain(); strings.Contains(line, "chunk") || strings.Contains(line, "job") {
			t.Errorf("%s: %q", cmd, line)
		}
	}
}

// A wait shows until it ends, in whole seconds rounded up; of two waits at
// once the longer shows; one refused again and again is one wait that has
// lasted "so far"; a later one replaces an ended one.
func TestWaitingShowsUntilItEnds(t *testing.T) {
	clk := clock.NewFake(t0)
	tl := newTally(Options{Command: "create", Clock: clk})
	tl.Waiting("the tenant's rate limit", clk.Now().Add(11500*time.Millisecond))
	tl.Waiting("an import slot", clk.Now().Add(2*time.Second)) // shorter: the rate limit stays
	if got := tl.snapshot().plain(); !strings.HasSuffix(got, " · waiting 12s for the tenant's rate limit") {
		t.Fatalf("line %q", got)
	}
	clk.Advance(12 * time.Second)
	if got := tl.snapshot().plain(); strings.Contains(got, "waiting") {
		t.Errorf("line %q after the wait ended", got)
	}
	tl.Waiting("the tenant's rate limit", clk.Now().Add(3*time.Second)) // within the streak
	if got := tl.snapshot().plain(); !strings.HasSuffix(got, "waiting 3s for the tenant's rate limit (12s so far)") {
		t.Errorf("line %q, want the streak's length", got)
	}
	clk.Advance(time.Minute)
	tl.Waiting("an import slot", clk.Now().Add(4*time.Second))
	if got := tl.snapshot().plain(); !strings.HasSuffix(got, " · waiting 4s for an import slot") {
		t.Errorf("line %q, want the slot wait", got)
	}
}

// syncBuffer is a writer the display's goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// On a terminal each redraw is "\r", a line that fits the width read at
// that redraw, and erase-to-end: never a newline; Stop erases the line.
func TestRedrawInPlace(t *testing.T) {
	clk := clock.NewFake(t0)
	var out syncBuffer
	var mu sync.Mutex
	cols := 120
	d := New(&out, Options{Command: "import", Bar: true, Clock: clk, TotalBytes: 1000, BytesRead: func() int64 { return 500 },
		Width: func() int { mu.Lock(); defer mu.Unlock(); return cols }})
	for i := range 3 {
		clk.BlockUntil(1)
		if i == 1 {
			mu.Lock()
			cols = 40 // the terminal is resized
			mu.Unlock()
		}
		clk.Advance(redrawEvery)
	}
	clk.BlockUntil(1)
	d.Stop()
	got := out.String()
	if strings.Contains(got, "\n") {
		t.Fatalf("a redraw broke the line: %q", got)
	}
	draws := strings.Split(strings.TrimPrefix(got, "\r"), "\r")
	if len(draws) < 4 {
		t.Fatalf("%d draws in %q", len(draws), got)
	}
	for i, d := range draws[:len(draws)-1] {
		if !strings.HasSuffix(d, clearToEOL) {
			t.Errorf("draw %d %q does not erase to the end of the line", i, d)
		}
		limit := 119
		if i >= 2 {
			limit = 39
		}
		if w := width(strings.TrimSuffix(d, clearToEOL)); w > limit {
			t.Errorf("draw %d is %d wide: %q", i, w, d)
		}
	}
	if last := draws[len(draws)-1]; last != clearToEOL {
		t.Errorf("Stop left %q, want the line erased", last)
	}
}

// A note goes on a line of its own above the redrawn one.
func TestNoteAboveTheLine(t *testing.T) {
	var out syncBuffer
	d := New(&out, Options{Command: "create", Bar: true, Clock: clock.NewFake(t0)})
	d.Note("a0bulk: stopping after 3 in-flight requests… (Ctrl-C again to stop now)")
	d.Stop()
	want := "\rcreate 0 records read\x1b[K\r\x1b[Ka0bulk: stopping after 3 in-flight requests… (Ctrl-C again to stop now)\n\rcreate 0 records read\x1b[K\r\x1b[K"
	if got := out.String(); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

// Off a terminal: plain lines, never "\r" or escapes; a wait that begins
// is written at once; Stop is safe twice.
func TestPlainLines(t *testing.T) {
	clk := clock.NewFake(t0)
	var out syncBuffer
	d := New(&out, Options{Command: "import", Clock: clk, Every: 5 * time.Second})
	if _, ok := d.(*plain); !ok {
		t.Fatalf("display %T, want plain lines", d)
	}
	d.RecordRead()
	clk.BlockUntil(1)
	clk.Advance(5 * time.Second)
	clk.BlockUntil(1)
	d.Waiting("an import slot", clk.Now().Add(time.Hour))
	for !strings.Contains(out.String(), "waiting") {
		clk.BlockUntil(1) // the loop is back on the clock once it has drawn
	}
	d.Stop()
	d.Stop()
	want := "a0bulk import: 1 record read\n" +
		"a0bulk import: 1 record read · waiting 1h00m for an import slot\n"
	if got := out.String(); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

// --quiet draws nothing, however the run goes, but notes still show.
func TestQuietWritesOnlyNotes(t *testing.T) {
	var out bytes.Buffer
	d := New(&out, Options{Command: "import", Quiet: true, Bar: true})
	d.RecordRead()
	d.Observe(report.Entry{Status: report.Created})
	d.Waiting("an import slot", time.Now().Add(time.Hour))
	d.Stop()
	if out.Len() != 0 {
		t.Fatalf("quiet display wrote %q", out.String())
	}
	d.Note("stopping")
	if out.String() != "stopping\n" {
		t.Fatalf("note %q", out.String())
	}
}
