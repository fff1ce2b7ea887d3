// Package progress shows a run's advance on stderr: a line redrawn in place
// on a terminal, fitted to its width at every redraw; a plain line every
// few seconds elsewhere (cron mail and log files); nothing with --quiet.
// The run feeds it (run.Progress): records read, every journal entry (the
// only source of counts) and every wait (the tenant's rate limit, an import
// slot), shown until it ends.
//
// Until the reader has counted every record the total is unknown, so the
// display measures the input read, in bytes (of its size, when known); once
// all records are counted it switches to records settled of that total, and
// only then gives a time left.
package progress

import (
	"io"
	"sync"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/report"
)

// Display is a run's progress display.
type Display interface {
	RecordRead()
	Observe(report.Entry)
	// Waiting says the run is held back until until, for what: the line
	// says "waiting 12s for " + what ("the tenant's rate limit", "an
	// import slot") until then. Of several waits at once the longest shows.
	Waiting(what string, until time.Time)
	// InFlight is the work sent and not yet answered.
	InFlight() InFlight
	// Note prints a line of its own above the progress line (with --quiet
	// too): what the operator must read, such as how a stop goes on.
	Note(line string)
	Stop()
}

// InFlight is a run's work sent and not yet settled: per-user requests
// (creates, updates, verification emails) and import jobs.
type InFlight struct {
	Requests int
	Jobs     int
}

// Options say what to show and how.
type Options struct {
	Command    string
	TotalBytes int64        // size of the input files; 0 when unknown
	BytesRead  func() int64 // input bytes read so far; nil: not counted
	// ReadDone reports whether the reader has read every record: from then
	// on the records read are the total. nil: never known.
	ReadDone func() bool
	// Done is how many of the records read were final before this run (a
	// resume skips them): they count as done.
	Done  int64
	Quiet bool // show nothing
	Bar   bool // a person is watching: redraw one line in place
	// Width is the terminal's width, read at every redraw (a resized
	// terminal is followed). nil or ≤ 0: 80.
	Width func() int
	// Every is the time between plain lines (default 5s).
	Every time.Duration
	Clock clock.Clock // default clock.Real{}
}

// New picks the display.
func New(w io.Writer, o Options) Display {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Every <= 0 {
		o.Every = 5 * time.Second
	}
	t := newTally(o)
	switch {
	case o.Quiet:
		return &quiet{tally: t, w: w}
	case o.Bar:
		return newLive(w, t, o)
	default:
		return newPlain(w, t, o)
	}
}

// quiet counts (the stop message needs the work in flight) and shows only
// notes.
type quiet struct {
	*tally
	w  io.Writer
	mu sync.Mutex
}

func (q *quiet) Note(line string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, _ = io.WriteString(q.w, line+"\n")
}

func (q *quiet) Stop() {}
