package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/a0bulk/a0bulk/progress"
)

// stopGrace is how long requests already sent may finish after a first
// SIGINT/SIGTERM, so that their outcome is in the report (run.Env.Grace).
const stopGrace = 10 * time.Second

// A stop takes up to three signals. The first stops taking new records and
// lets the requests in flight finish (for stopGrace at most), saying how
// many; the second abandons them at once (the run still closes its report,
// which a resume settles: exit 130/143 as for the first); a third exits on
// the spot, for a run stuck where no request is in flight (the report's
// lines are written as they happen, so it stays resumable even then).

// signalState turns SIGINT/SIGTERM into a cancelled context and remembers
// which one arrived, so the exit code can say so (130/143).
type signalState struct {
	got  chan syscall.Signal
	stop func()
}

func signalContext(parent context.Context, s *IOStreams) (context.Context, *signalState) {
	ch := make(chan os.Signal, 3)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	ctx, st := watchSignals(parent, s, ch, os.Exit)
	stop := st.stop
	st.stop = func() {
		signal.Stop(ch)
		stop()
	}
	return ctx, st
}

// watchSignals handles the signals that arrive on ch (exit: os.Exit).
func watchSignals(parent context.Context, s *IOStreams, ch <-chan os.Signal, exit func(int)) (context.Context, *signalState) {
	ctx, cancel := context.WithCancelCause(parent)
	st := &signalState{got: make(chan syscall.Signal, 1)}
	done := make(chan struct{})
	go func() {
		for n := 1; ; n++ {
			var sig syscall.Signal
			select {
			case got := <-ch:
				sig = got.(syscall.Signal)
			case <-done:
				return
			}
			switch n {
			case 1:
				st.got <- sig
				s.note(stoppingNote(sig, s.inFlight()))
				cancel(&SignalError{Signal: sig})
			case 2:
				s.note("a0bulk: stopping now: the requests in flight are abandoned; the report is closed and can be resumed")
				s.abortOnce.Do(func() { close(s.abort) })
			default:
				code := ExitInterrupted
				if sig == syscall.SIGTERM {
					code = ExitTerminated
				}
				fmt.Fprintln(s.ErrOut, "\na0bulk: exiting at once; the report can be resumed")
				exit(code)
				return
			}
		}
	}()
	st.stop = func() {
		close(done)
		cancel(nil)
	}
	return ctx, st
}

// stoppingNote says what a first signal does: "stopping after 3 in-flight
// requests (at most 10s)… (Ctrl-C again to stop now)". f is nil when no run
// is showing its progress.
func stoppingNote(sig syscall.Signal, f *progress.InFlight) string {
	what := ""
	if f != nil {
		switch {
		case f.Jobs > 0 && f.Requests > 0:
			what = fmt.Sprintf(" after %s and %s", inFlight(f.Requests, "request"), inFlight(f.Jobs, "import job"))
		case f.Jobs > 0:
			what = " after " + inFlight(f.Jobs, "import job")
		case f.Requests > 0:
			what = " after " + inFlight(f.Requests, "request")
		}
	}
	if what != "" {
		what += fmt.Sprintf(" (at most %s)", stopGrace)
	}
	again := "Ctrl-C again to stop now"
	if sig == syscall.SIGTERM {
		again = "a second signal stops now"
	}
	return fmt.Sprintf("a0bulk: stopping%s… (%s)", what, again)
}

func inFlight(n int, noun string) string {
	if n == 1 {
		return "1 in-flight " + noun
	}
	return fmt.Sprintf("%d in-flight %ss", n, noun)
}

// inFlight is the live display's work in flight, nil when none shows.
func (s *IOStreams) inFlight() *progress.InFlight {
	d := s.liveDisplay()
	if d == nil {
		return nil
	}
	f := d.InFlight()
	return &f
}

// note prints a line for the operator: above the live display's line when
// one shows, else on stderr.
func (s *IOStreams) note(line string) {
	if d := s.liveDisplay(); d != nil {
		d.Note(line)
		return
	}
	fmt.Fprintln(s.ErrOut, line)
}

func (st *signalState) received() syscall.Signal {
	select {
	case s := <-st.got:
		st.got <- s
		return s
	default:
		return 0
	}
}
