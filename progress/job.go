package progress

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

// JobState is what a read of a job says.
type JobState struct {
	ID      string
	Status  string
	Percent *int // percentage_done, when the tenant gives it
	Left    *int // time_left_seconds, when the tenant gives it
}

// JobWatch shows `jobs wait`: on a terminal one line redrawn in place (the
// job, its status and percentage, the time left and the time waited so
// far); elsewhere a plain line whenever the status or percentage changes.
type JobWatch struct {
	clk   clock.Clock
	start time.Time
	line  *Line     // nil: plain lines
	w     io.Writer // plain lines, when line is nil
	quiet bool
	tick  ticker

	mu    sync.Mutex
	state JobState
	shown string // the last plain line's status and percentage
}

// JobOptions say how to show a job.
type JobOptions struct {
	Quiet bool
	Bar   bool       // a person is watching: redraw in place
	Width func() int // the terminal's width, read at every redraw
	Clock clock.Clock
}

// WatchJob starts showing a job's wait on w.
func WatchJob(w io.Writer, o JobOptions) *JobWatch {
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	j := &JobWatch{clk: o.Clock, start: o.Clock.Now(), w: w, quiet: o.Quiet}
	if o.Quiet || !o.Bar {
		return j
	}
	j.line = NewLine(w, o.Width)
	// Redrawn each second, so that the time waited moves between reads.
	j.tick.run(func() <-chan time.Time { return j.clk.After(time.Second) }, nil, j.draw)
	return j
}

func (j *JobWatch) draw() {
	j.mu.Lock()
	st := j.state
	j.mu.Unlock()
	if st.ID == "" {
		return
	}
	waited := j.clk.Now().Sub(j.start)
	j.line.Draw(func(cols int) string { return layout(st.ID, jobItems(st, waited), jobSteps, cols) })
}

// Show is told of each read of the job.
func (j *JobWatch) Show(st JobState) {
	j.mu.Lock()
	j.state = st
	key := st.Status
	if st.Percent != nil {
		key += fmt.Sprintf(" %d", *st.Percent)
	}
	changed := key != j.shown
	j.shown = key
	j.mu.Unlock()
	switch {
	case j.quiet:
	case j.line != nil:
		j.draw()
	case changed:
		_, _ = fmt.Fprintln(j.w, plainLine("a0bulk jobs wait: "+st.ID, jobItems(st, j.clk.Now().Sub(j.start))))
	}
}

// Stop erases the line, if one was drawn.
func (j *JobWatch) Stop() {
	if j.line != nil {
		j.tick.halt(j.line.Clear)
	}
}

// jobSteps degrade a job's line for a narrow terminal.
var jobSteps = []step{{"eta", "shorten"}, {"bar", "drop"}, {"waited", "drop"}, {"eta", "drop"}}

// jobItems are the pieces of a job's line, in the order they show.
func jobItems(st JobState, waited time.Duration) []item {
	items := []item{{kind: "status", sep: " ", variants: []string{st.Status}}}
	if st.Percent != nil {
		f := float64(*st.Percent) / 100
		items = append(items, item{kind: "bar", sep: " ", bar: true, of: f}, item{kind: "pct", sep: " ", variants: []string{percent(f)}})
	}
	if st.Left != nil && *st.Left > 0 {
		left := fmtDur(time.Duration(*st.Left) * time.Second)
		items = append(items, item{kind: "eta", sep: " · ", variants: []string{"about " + left + " left", left + " left"}})
	}
	return append(items, item{kind: "waited", sep: " · ", variants: []string{"waited " + fmtDur(waited)}})
}
