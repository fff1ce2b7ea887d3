package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/report"
)

// The counts every display shows come from the journal's entries alone.
func TestCountsFollowTheJournal(t *testing.T) {
	c := &counts{}
	for range 3 {
		c.RecordRead()
	}
	for _, st := range []report.Status{report.Queued, report.Submitted, report.Created, report.Failed, report.Invalid, report.Sending} {
		c.Observe(report.Entry{Status: st})
	}
	want := "read 3 · settled 3 (invalid 1, failed 1) · chunks submitted 1"
	if got := c.line(); got != want {
		t.Fatalf("line %q, want %q", got, want)
	}
}

// --quiet draws nothing, however the run goes.
func TestQuietWritesNothing(t *testing.T) {
	var out bytes.Buffer
	d := New(&out, Options{Command: "import", Quiet: true, Bar: true})
	d.RecordRead()
	d.Observe(report.Entry{Status: report.Created})
	d.Stop()
	if out.Len() != 0 {
		t.Fatalf("quiet display wrote %q", out.String())
	}
}

// Off a terminal the display is plain lines; Stop ends its goroutine and
// is safe to call twice (the runs stop it early and again on return).
func TestPlainStopsOnce(t *testing.T) {
	var out bytes.Buffer
	d := New(&out, Options{Command: "import"})
	if _, ok := d.(*plainDisplay); !ok {
		t.Fatalf("display %T, want plain lines", d)
	}
	d.Stop()
	d.Stop()
}

// A wait shows on the line until it ends, in whole seconds rounded up; of
// two waits at once the longer shows, and a later one replaces an ended one.
func TestWaitingShowsUntilItEnds(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	c := &counts{now: func() time.Time { return now }}
	c.Waiting("the tenant's rate limit", now.Add(11500*time.Millisecond))
	c.Waiting("an import slot", now.Add(2*time.Second)) // shorter: the rate limit stays
	want := "read 0 · settled 0 (invalid 0, failed 0) · chunks submitted 0 · waiting 12s for the tenant's rate limit"
	if got := c.line(); got != want {
		t.Fatalf("line %q, want %q", got, want)
	}
	now = now.Add(12 * time.Second)
	if got := c.line(); strings.Contains(got, "waiting") {
		t.Errorf("line %q after the wait ended", got)
	}
	c.Waiting("an import slot", now.Add(4*time.Second))
	if got := c.line(); !strings.HasSuffix(got, " · waiting 4s for an import slot") {
		t.Errorf("line %q, want the slot wait", got)
	}
}

// The plain lines (cron, logs) carry the wait too.
func TestPlainLineShowsTheWait(t *testing.T) {
	lines := make(chanWriter, 1)
	p := newPlain(lines, "import", time.Millisecond)
	p.Waiting("the tenant's rate limit", time.Now().Add(time.Hour))
	var got string
	for !strings.Contains(got, "waiting") { // a line may be drawn before Waiting
		got = <-lines
	}
	p.Stop()
	if want := "a0bulk import: read 0 · settled 0 (invalid 0, failed 0) · chunks submitted 0 · waiting 1h0m0s for the tenant's rate limit\n"; got != want {
		t.Errorf("plain line %q, want %q", got, want)
	}
}

// chanWriter hands each write to the test; it drops what nobody reads.
type chanWriter chan string

func (c chanWriter) Write(b []byte) (int, error) {
	select {
	case c <- string(b):
	default:
	}
	return len(b), nil
}
