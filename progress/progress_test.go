package progress

import (
	"bytes"
	"testing"

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
