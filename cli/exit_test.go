package cli

import (
	"syscall"
	"testing"

	"github.com/a0bulk/a0bulk/run"
)

// TestSignalErrorNamesTheSignal: "stopped by terminated" told an operator
// nothing; the signal's name does.
func TestSignalErrorNamesTheSignal(t *testing.T) {
	for sig, want := range map[syscall.Signal]string{
		syscall.SIGTERM: "stopped by SIGTERM",
		syscall.SIGINT:  "stopped by SIGINT (Ctrl-C)",
	} {
		if got := (&SignalError{Signal: sig}).Error(); got != want {
			t.Errorf("%d: %q, want %q", sig, got, want)
		}
		// The core wraps it with the resume hint.
		err := &run.StoppedError{Cause: &SignalError{Signal: sig}, Resume: "a0bulk import --resume r.ndjson"}
		if got := err.Error(); got != want+"; resume with: a0bulk import --resume r.ndjson" {
			t.Errorf("stopped: %q", got)
		}
	}
}
