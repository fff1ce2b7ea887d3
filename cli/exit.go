package cli

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/run"
)

// Exit codes of the contract.
const (
	ExitOK          = 0
	ExitRunFailed   = 1
	ExitUsage       = 2
	ExitIncomplete  = 3
	ExitInterrupted = 130
	ExitTerminated  = 143
)

// usagef is a bad flag, argument or configuration (exit 2), found before
// any call to the tenant.
func usagef(format string, args ...any) error { return run.Usagef(format, args...) }

// SignalError is the signal that stopped a run: the cause of its cancelled
// context (the core wraps it in a *run.StoppedError with the resume hint).
type SignalError struct {
	Signal syscall.Signal
}

// Error names the signal as operators know it ("stopped by SIGTERM"), not
// by the C library's description of it ("terminated").
func (e *SignalError) Error() string { return "stopped by " + signalName(e.Signal) }

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT (Ctrl-C)"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return fmt.Sprintf("signal %d (%v)", int(s), s)
}

// ExitCode maps an error to the contract's exit code. It is the only place
// that does so.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var usage *run.UsageError
	var incomplete *run.IncompleteError
	var sig *SignalError
	var stopped *run.StoppedError
	switch {
	case errors.As(err, &sig):
		if sig.Signal == syscall.SIGTERM {
			return ExitTerminated
		}
		return ExitInterrupted
	case errors.As(err, &stopped):
		return ExitInterrupted
	case errors.As(err, &usage):
		return ExitUsage
	// A --connection the tenant does not have is a configuration error,
	// though only the tenant could tell: nothing was written to it.
	case errors.Is(err, management.ErrConnectionNotFound):
		return ExitUsage
	case errors.As(err, &incomplete):
		return ExitIncomplete
	}
	// Everything else (tenant unreachable, auth refused, no import slot ever
	// freed, a locked sync state, a `jobs wait` whose --timeout passed or
	// whose job failed) means the run could not complete.
	return ExitRunFailed
}
