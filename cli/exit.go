package cli

import (
	"errors"
	"fmt"
	"syscall"
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

// UsageError is a bad flag, argument or configuration, found before any call
// to the tenant.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// IncompleteError: the run finished, but some records are invalid or failed.
type IncompleteError struct{ Invalid, Failed int }

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("run completed with %d invalid and %d failed records (see the report)", e.Invalid, e.Failed)
}

// SignalError: the run was stopped by a signal after flushing its journal.
type SignalError struct {
	Signal     syscall.Signal
	ResumeHint string
}

func (e *SignalError) Error() string {
	msg := fmt.Sprintf("stopped by %v", e.Signal)
	if e.ResumeHint != "" {
		msg += "; resume with: " + e.ResumeHint
	}
	return msg
}

// ExitCode maps an error to the contract's exit code. It is the only place
// that does so.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var usage *UsageError
	var incomplete *IncompleteError
	var sig *SignalError
	switch {
	case errors.As(err, &sig):
		if sig.Signal == syscall.SIGTERM {
			return ExitTerminated
		}
		return ExitInterrupted
	case errors.As(err, &usage):
		return ExitUsage
	case errors.As(err, &incomplete):
		return ExitIncomplete
	}
	// Everything else (tenant unreachable, auth refused, no import slot ever
	// freed, a locked sync state) means the run could not complete.
	return ExitRunFailed
}
