package cli

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams is the one place that knows whether a person is watching: the
// progress bar, colours and interactive output depend on it, nothing else
// probes the terminal (the gh CLI's pattern).
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
}

// System returns the process's standard streams.
func System() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		stdinTTY:  isTerminal(os.Stdin),
		stdoutTTY: isTerminal(os.Stdout),
		stderrTTY: isTerminal(os.Stderr),
	}
}

// Test returns streams over the given writers, never a terminal.
func Test(in io.Reader, out, errOut io.Writer) *IOStreams {
	return &IOStreams{In: in, Out: out, ErrOut: errOut}
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

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
