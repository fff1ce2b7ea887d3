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

	stdoutTTY bool
	stderrTTY bool
}

// System returns the process's standard streams.
func System() *IOStreams {
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
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

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
