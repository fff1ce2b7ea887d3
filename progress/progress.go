// Package progress shows a run's advance on stderr: a progressbar/v3 bar on
// a terminal, a plain line every few seconds elsewhere (cron mail and log
// files), nothing with --quiet. The run feeds it (run.Progress): records
// read, and every journal entry, the only source of counts, and every
// wait (the tenant's rate limit, an import slot), shown until it ends.
package progress

import (
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

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
	Stop()
}

// Options say what to show and how.
type Options struct {
	Command    string
	TotalBytes int64        // size of the input files; 0 when unknown
	BytesRead  func() int64 // input bytes read so far
	Quiet      bool         // show nothing
	Bar        bool         // a person is watching: draw a bar
}

// New picks the display.
func New(w io.Writer, o Options) Display {
	switch {
	case o.Quiet:
		return &counts{}
	case o.Bar:
		return newBar(w, o.Command, o.TotalBytes, o.BytesRead)
	default:
		return newPlain(w, o.Command, 5*time.Second)
	}
}

type counts struct {
	read, settled, failed, invalid, chunks atomic.Int64

	now  func() time.Time // default time.Now: displays draw on the wall clock
	mu   sync.Mutex
	what string
	till time.Time
}

func (p *counts) RecordRead() { p.read.Add(1) }

func (p *counts) Waiting(what string, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.clock().Before(p.till) && !until.After(p.till) {
		return // a longer wait is showing
	}
	p.what, p.till = what, until
}

func (p *counts) clock() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

// waiting is the wait to show, "" when none: "waiting 12s for the
// tenant's rate limit", seconds rounded up.
func (p *counts) waiting() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	left := p.till.Sub(p.clock())
	if left <= 0 {
		return ""
	}
	secs := time.Duration(math.Ceil(left.Seconds())) * time.Second
	return fmt.Sprintf("waiting %s for %s", secs, p.what)
}

func (p *counts) Observe(e report.Entry) {
	switch {
	case e.Status == report.Submitted:
		p.chunks.Add(1)
	case e.Status.IsFinal():
		p.settled.Add(1)
		switch e.Status {
		case report.Failed:
			p.failed.Add(1)
		case report.Invalid:
			p.invalid.Add(1)
		}
	}
}

func (p *counts) line() string {
	l := fmt.Sprintf("read %d · settled %d (invalid %d, failed %d) · chunks submitted %d",
		p.read.Load(), p.settled.Load(), p.invalid.Load(), p.failed.Load(), p.chunks.Load())
	if w := p.waiting(); w != "" {
		l += " · " + w
	}
	return l
}

// plainDisplay writes a line every interval: nothing animated, friendly to
// cron mail and log files.
type plainDisplay struct {
	counts
	stop chan struct{}
	once sync.Once
	done sync.WaitGroup
}

func newPlain(w io.Writer, what string, every time.Duration) *plainDisplay {
	p := &plainDisplay{stop: make(chan struct{})}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fmt.Fprintf(w, "a0bulk %s: %s\n", what, p.line())
			case <-p.stop:
				return
			}
		}
	}()
	return p
}

func (p *plainDisplay) Stop() {
	p.once.Do(func() {
		close(p.stop)
		p.done.Wait()
	})
}

// barDisplay draws progressbar/v3 on stderr over settled records, the work
// that takes the time. The total is unknown while the input is still being
// read, so it is estimated from the bytes read so far (records per byte times
// the input's size), and exact once reading is done; the ETA follows.
type barDisplay struct {
	counts
	bar  *progressbar.ProgressBar
	stop chan struct{}
	once sync.Once
	done sync.WaitGroup
}

func newBar(w io.Writer, what string, totalBytes int64, bytesRead func() int64) *barDisplay {
	p := &barDisplay{stop: make(chan struct{})}
	p.bar = progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("records"),
		progressbar.OptionShowIts(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				if total := p.estimateTotal(totalBytes, bytesRead); total > 0 {
					p.bar.ChangeMax64(total)
				}
				p.bar.Describe(what + ": " + p.line())
				_ = p.bar.Set64(p.settled.Load())
			case <-p.stop:
				return
			}
		}
	}()
	return p
}

// estimateTotal guesses how many records the input holds; 0 when unknown.
func (p *barDisplay) estimateTotal(totalBytes int64, bytesRead func() int64) int64 {
	read := p.read.Load()
	if totalBytes <= 0 || bytesRead == nil {
		return 0
	}
	n := bytesRead()
	if n <= 0 || read == 0 {
		return 0
	}
	if n >= totalBytes {
		return read
	}
	return read * totalBytes / n
}

func (p *barDisplay) Stop() {
	p.once.Do(func() {
		close(p.stop)
		p.done.Wait()
		_ = p.bar.Finish()
	})
}

func (p *counts) Stop() {}
