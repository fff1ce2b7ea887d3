package cli

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/a0bulk/a0bulk/report"
)

// progress shows a run's advance. The journal feeds it (Observe) — it is
// the only source of counts — and the reader feeds it bytes and records read.
// On a terminal it is a progressbar/v3 bar; elsewhere (cron) a plain line
// every few seconds; with --quiet nothing.
type progress interface {
	RecordRead()
	Observe(report.Entry)
	// Problems names the first records that did not succeed, for the summary.
	Problems() []string
	Stop()
}

type progressCounts struct {
	read, settled, failed, invalid, chunks atomic.Int64
	problems                               problemCollector
}

func (p *progressCounts) Problems() []string { return p.problems.list() }

func (p *progressCounts) RecordRead() { p.read.Add(1) }

func (p *progressCounts) Observe(e report.Entry) {
	p.problems.Observe(e)
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

func (p *progressCounts) line() string {
	return fmt.Sprintf("read %d · settled %d (invalid %d, failed %d) · chunks submitted %d",
		p.read.Load(), p.settled.Load(), p.invalid.Load(), p.failed.Load(), p.chunks.Load())
}

// newProgress picks the display for this run. totalBytes is the size of the
// input files (0 when unknown, e.g. stdin), for the bar's ETA.
func newProgress(s *IOStreams, g globalOptions, what string, totalBytes int64, bytesRead func() int64) progress {
	switch {
	case g.Quiet:
		return &progressCounts{}
	case s.ProgressTTY() && !g.NoProgress:
		return newBarProgress(s.ErrOut, what, totalBytes, bytesRead)
	default:
		return newPlainProgress(s.ErrOut, what, 5*time.Second)
	}
}

// plainProgress writes a line every interval: nothing animated, friendly to
// cron mail and log files.
type plainProgress struct {
	progressCounts
	stop chan struct{}
	once sync.Once
	done sync.WaitGroup
}

func newPlainProgress(w io.Writer, what string, every time.Duration) *plainProgress {
	p := &plainProgress{stop: make(chan struct{})}
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

func (p *plainProgress) Stop() {
	p.once.Do(func() {
		close(p.stop)
		p.done.Wait()
	})
}

// barProgress draws progressbar/v3 on stderr over settled records, the work
// that takes the time. The total is unknown while the input is still being
// read, so it is estimated from the bytes read so far (records per byte times
// the input's size), and exact once reading is done; the ETA follows.
type barProgress struct {
	progressCounts
	bar  *progressbar.ProgressBar
	stop chan struct{}
	once sync.Once
	done sync.WaitGroup
}

func newBarProgress(w io.Writer, what string, totalBytes int64, bytesRead func() int64) *barProgress {
	p := &barProgress{stop: make(chan struct{})}
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
func (p *barProgress) estimateTotal(totalBytes int64, bytesRead func() int64) int64 {
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

func (p *barProgress) Stop() {
	p.once.Do(func() {
		close(p.stop)
		p.done.Wait()
		_ = p.bar.Finish()
	})
}

func (p *progressCounts) Stop() {}
