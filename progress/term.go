package progress

import (
	"io"
	"sync"
	"time"
)

// redrawEvery is how often a terminal's line is redrawn.
const redrawEvery = 200 * time.Millisecond

// Terminal control: back to the line's start; erase to its end.
const (
	carriageReturn = "\r"
	clearToEOL     = "\x1b[K"
)

// Line is one line of a terminal redrawn in place: "\r", the text (always
// narrower than the terminal, so it never wraps), then erase to the end of
// the line, so that a shorter text leaves nothing of a longer one.
type Line struct {
	mu    sync.Mutex
	w     io.Writer
	width func() int
	last  func(cols int) string // the text drawn last, to draw again after a note
}

// NewLine draws on w, whose width width reads (nil or ≤ 0: 80 columns).
func NewLine(w io.Writer, width func() int) *Line { return &Line{w: w, width: width} }

func (l *Line) cols() int {
	if l.width != nil {
		if c := l.width(); c > 0 {
			return c
		}
	}
	return 80
}

// Draw replaces the line by text, laid out for the terminal's width now.
func (l *Line) Draw(text func(cols int) string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = text
	_, _ = io.WriteString(l.w, carriageReturn+text(l.cols())+clearToEOL)
}

// Note prints line above the redrawn one, which is then drawn again below.
func (l *Line) Note(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.w, carriageReturn+clearToEOL+line+"\n")
	if l.last != nil {
		_, _ = io.WriteString(l.w, carriageReturn+l.last(l.cols())+clearToEOL)
	}
}

// Clear erases the line and leaves the cursor at its start, for what is
// printed next.
func (l *Line) Clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last != nil {
		_, _ = io.WriteString(l.w, carriageReturn+clearToEOL)
	}
	l.last = nil
}

// ticker runs a display's loop until stop: draw at once, then after each
// interval, and on every kick.
type ticker struct {
	stop chan struct{}
	once sync.Once
	done sync.WaitGroup
}

func (t *ticker) run(after func() <-chan time.Time, kick <-chan struct{}, draw func()) {
	t.stop = make(chan struct{})
	t.done.Add(1)
	go func() {
		defer t.done.Done()
		for {
			select {
			case <-after():
				draw()
			case <-kick:
				draw()
			case <-t.stop:
				return
			}
		}
	}()
}

// halt stops the loop and waits for it; it is safe to call twice.
func (t *ticker) halt(last func()) {
	t.once.Do(func() {
		close(t.stop)
		t.done.Wait()
		last()
	})
}

// live redraws the run's line in place on a terminal.
type live struct {
	*tally
	line *Line
	tick ticker
}

func newLive(w io.Writer, t *tally, o Options) *live {
	l := &live{tally: t, line: NewLine(w, o.Width)}
	draw := func() { l.line.Draw(func(cols int) string { return l.snapshot().render(cols) }) }
	draw()
	l.tick.run(func() <-chan time.Time { return t.clk.After(redrawEvery) }, t.kick, draw)
	return l
}

func (l *live) Note(line string) { l.line.Note(line) }

// Stop erases the line: the summary follows on a clean one.
func (l *live) Stop() { l.tick.halt(l.line.Clear) }

// plain writes a line every interval, and one at once when a wait begins:
// nothing animated, friendly to cron mail and log files.
type plain struct {
	*tally
	mu   sync.Mutex
	w    io.Writer
	tick ticker
}

func newPlain(w io.Writer, t *tally, o Options) *plain {
	p := &plain{tally: t, w: w}
	p.tick.run(func() <-chan time.Time { return t.clk.After(o.Every) }, t.kick, func() { p.Note(p.snapshot().plain()) })
	return p
}

func (p *plain) Note(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = io.WriteString(p.w, line+"\n")
}

func (p *plain) Stop() { p.tick.halt(func() {}) }
