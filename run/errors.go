package run

import (
	"errors"
	"fmt"

	"github.com/a0bulk/a0bulk/throttle"
	"github.com/a0bulk/a0bulk/words"
)

// UsageError is a bad flag, argument, configuration or report, found before
// any call to the tenant (the cli maps it to exit 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef builds a *UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// IncompleteError: the run finished, but some records are invalid or failed.
type IncompleteError struct{ Invalid, Failed int }

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("run completed, but %s did not succeed: %d invalid, %d failed (see the report)", words.Count(e.Invalid+e.Failed, "record"), e.Invalid, e.Failed)
}

// StoppedError: the run's context ended (a signal) after the journal was
// flushed. Cause is the context's cause (the cli's signal), Resume what
// finishes the run.
type StoppedError struct {
	Cause  error
	Resume string
}

func (e *StoppedError) Error() string {
	msg := "stopped"
	if e.Cause != nil {
		msg = e.Cause.Error()
	}
	if e.Resume != "" {
		msg += "; resume with: " + e.Resume
	}
	return msg
}

func (e *StoppedError) Unwrap() error { return e.Cause }

// RefusedError: the tenant refused every request for --max-wait (429s,
// connection failures), so the run stopped; nothing it was refusing took
// effect, and Resume finishes the run. Err is the error as it came.
type RefusedError struct {
	Refused *throttle.RefusedError
	Resume  string
	Err     error
}

func (e *RefusedError) Error() string {
	return e.Refused.Error() + "; resume with: " + e.Resume
}

func (e *RefusedError) Unwrap() error { return e.Err }

// refusedStop is err as a *RefusedError with the resume hint when the
// tenant's refusals stopped the run, else err.
func refusedStop(err error, resume string) error {
	var r *throttle.RefusedError
	if !errors.As(err, &r) {
		return err
	}
	return &RefusedError{Refused: r, Resume: resume, Err: err}
}
