package cli

import (
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/term"

	"github.com/a0bulk/a0bulk/progress"
)

// IOStreams is the one place that knows whether a person is watching: the
// progress bar, colours and interactive output depend on it, nothing else
// probes the terminal (the gh CLI's pattern). It also holds the run's live
// progress display, which a signal asks what is in flight.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
	// width reads the terminal's width now (stderr's); nil: not a terminal.
	width func() int

	// abort is closed by a second Ctrl-C: the run's grace for requests in
	// flight ends at once (run.Env.Abort).
	abort     chan struct{}
	abortOnce sync.Once

	mu   sync.Mutex
	live progress.Display // the display showing now, nil when none
}

// System returns the process's standard streams.
func System() *IOStreams {
	s := &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		stdinTTY:  isTerminal(os.Stdin),
		stdoutTTY: isTerminal(os.Stdout),
		stderrTTY: isTerminal(os.Stderr),
		abort:     make(chan struct{}),
	}
	if s.stderrTTY {
		// Read at every redraw: a resized terminal (SIGWINCH) is followed
		// without a handler, for the price of one ioctl per redraw.
		s.width = func() int {
			w, _, err := term.GetSize(int(os.Stderr.Fd()))
			if err != nil {
				return 0
			}
			return w
		}
	}
	return s
}

// Test returns streams over the given writers, never a terminal.
func Test(in io.Reader, out, errOut io.Writer) *IOStreams {
	return &IOStreams{In: in, Out: out, ErrOut: errOut, abort: make(chan struct{})}
}

// ProgressTTY reports whether progress (written to stderr) may be animated.
func (s *IOStreams) ProgressTTY() bool { return s.stderrTTY }

// StdoutTTY reports whether results go to a terminal.
func (s *IOStreams) StdoutTTY() bool { return s.stdoutTTY }

// CanPrompt reports whether a person can be asked a question: stdin (the
// answer) and stderr (the question) are both a terminal. Off a terminal
// (cron, a pipe, CI) nothing is ever asked.
func (s *IOStreams) CanPrompt() bool { return s.stdinTTY && s.stderrTTY }

// SetTTY makes test streams act as terminals, or not.
func (s *IOStreams) SetTTY(stdin, stdout, stderr bool) {
	s.stdinTTY, s.stdoutTTY, s.stderrTTY = stdin, stdout, stderr
}

// StdinTTY reports whether stdin is a terminal (a person would type there).
func (s *IOStreams) StdinTTY() bool { return s.stdinTTY }

// TerminalWidth is stderr's width now, 0 when it is not a terminal.
func (s *IOStreams) TerminalWidth() int {
	if s.width == nil {
		return 0
	}
	return s.width()
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// readsStdin reports whether inputs (a run's --input values) read stdin:
// none given, or "-".
func readsStdin(inputs []string) bool {
	if len(inputs) == 0 {
		return true
	}
	for _, in := range inputs {
		if in == "-" {
			return true
		}
	}
	return false
}

// typingUsers tells the operator, when users are to come from stdin and
// stdin is a terminal, that a0bulk now reads what they type: without it a
// forgotten --input looks like a hang. The contract reads stdin when no
// --input is given, so this says so rather than refusing. (A run copies
// stdin in full before its progress shows: no bar is drawn over the typing.)
func (s *IOStreams) typingUsers(inputs []string) {
	if s.stdinTTY && readsStdin(inputs) {
		fmt.Fprintln(s.ErrOut, "a0bulk: reading users from stdin (Ctrl-D to end; --input FILE reads a file)")
	}
}

// showing makes d the live display until it stops.
func (s *IOStreams) showing(d progress.Display) progress.Display {
	s.mu.Lock()
	s.live = d
	s.mu.Unlock()
	return &shown{Display: d, s: s}
}

// shown is a live display that leaves the streams when it stops.
type shown struct {
	progress.Display
	s *IOStreams
}

func (d *shown) Stop() {
	d.Display.Stop()
	d.s.mu.Lock()
	if d.s.live == d.Display {
		d.s.live = nil
	}
	d.s.mu.Unlock()
}

// liveDisplay is the display showing now, nil when none.
func (s *IOStreams) liveDisplay() progress.Display {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live
}
