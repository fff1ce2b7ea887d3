package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/progress"
	"github.com/a0bulk/a0bulk/report"
)

// fakeDisplay is a live display with work in flight; its notes are kept.
type fakeDisplay struct {
	inFlight progress.InFlight
	mu       sync.Mutex
	notes    []string
	noted    chan struct{}
}

func (d *fakeDisplay) RecordRead()                 {}
func (d *fakeDisplay) Observe(report.Entry)        {}
func (d *fakeDisplay) Waiting(string, time.Time)   {}
func (d *fakeDisplay) Stop()                       {}
func (d *fakeDisplay) InFlight() progress.InFlight { return d.inFlight }
func (d *fakeDisplay) Note(line string) {
	d.mu.Lock()
	d.notes = append(d.notes, line)
	d.mu.Unlock()
	d.noted <- struct{}{}
}

// The first Ctrl-C stops taking work and says how much is in flight; the
// second abandons it (the run's grace ends: Abort); a third exits at once.
func TestCtrlCThreeTimes(t *testing.T) {
	var errOut bytes.Buffer
	s := Test(nil, &bytes.Buffer{}, &errOut)
	d := &fakeDisplay{inFlight: progress.InFlight{Requests: 3}, noted: make(chan struct{}, 3)}
	shown := s.showing(d)
	ch := make(chan os.Signal, 3)
	exited := make(chan int, 1)
	ctx, st := watchSignals(context.Background(), s, ch, func(code int) { exited <- code })
	defer st.stop()

	ch <- syscall.SIGINT
	<-d.noted
	<-ctx.Done()
	if want := "a0bulk: stopping after 3 in-flight requests (at most 10s)… (Ctrl-C again to stop now)"; d.notes[0] != want {
		t.Errorf("first note %q, want %q", d.notes[0], want)
	}
	if st.received() != syscall.SIGINT {
		t.Error("the signal is not remembered for the exit code")
	}
	select {
	case <-s.abort:
		t.Fatal("one Ctrl-C abandoned the requests in flight")
	default:
	}

	ch <- syscall.SIGINT
	<-d.noted
	<-s.abort // the grace ends
	if !strings.Contains(d.notes[1], "stopping now") || !strings.Contains(d.notes[1], "can be resumed") {
		t.Errorf("second note %q", d.notes[1])
	}

	shown.Stop() // the run ended its display: notes go to stderr again
	ch <- syscall.SIGINT
	if code := <-exited; code != ExitInterrupted {
		t.Errorf("third Ctrl-C exits %d, want %d", code, ExitInterrupted)
	}
	if !strings.Contains(errOut.String(), "exiting at once") {
		t.Errorf("stderr %q", errOut.String())
	}
}

// The note names import jobs for an import, and nothing when nothing is
// in flight or no run shows; SIGTERM has no Ctrl-C to suggest.
func TestStoppingNote(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		f    *progress.InFlight
		want string
	}{
		{syscall.SIGINT, &progress.InFlight{Jobs: 2}, "a0bulk: stopping after 2 in-flight import jobs (at most 10s)… (Ctrl-C again to stop now)"},
		{syscall.SIGINT, &progress.InFlight{Requests: 1}, "a0bulk: stopping after 1 in-flight request (at most 10s)… (Ctrl-C again to stop now)"},
		{syscall.SIGINT, &progress.InFlight{}, "a0bulk: stopping… (Ctrl-C again to stop now)"},
		{syscall.SIGINT, nil, "a0bulk: stopping… (Ctrl-C again to stop now)"},
		{syscall.SIGTERM, &progress.InFlight{Requests: 4, Jobs: 1}, "a0bulk: stopping after 4 in-flight requests and 1 in-flight import job (at most 10s)… (a second signal stops now)"},
	} {
		if got := stoppingNote(tc.sig, tc.f); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}

// With no --input and stdin a terminal, a0bulk says it reads what is typed
// there; with a file, or stdin a pipe, it says nothing.
func TestTypingUsersIsSaid(t *testing.T) {
	for _, tc := range []struct {
		tty    bool
		inputs []string
		said   bool
	}{
		{true, nil, true}, {true, []string{"-"}, true}, {true, []string{"users.csv"}, false}, {false, nil, false},
	} {
		var errOut bytes.Buffer
		s := Test(nil, &bytes.Buffer{}, &errOut)
		s.stdinTTY = tc.tty
		s.typingUsers(tc.inputs)
		if said := strings.Contains(errOut.String(), "reading users from stdin (Ctrl-D to end"); said != tc.said {
			t.Errorf("tty %v, inputs %v: stderr %q", tc.tty, tc.inputs, errOut.String())
		}
	}
}
