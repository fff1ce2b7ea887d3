package report

import (
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

// LostPOST bounds when a POST whose answer nobody read may have sent a
// record: a job it became may insert the user until 2 hours after, so a
// resume must not call the user's absence final before. The bound is the
// latest of all such POSTs (the last one's job runs longest), each bounded
// by what followed it for sure: the chunk's submitted line (a resend
// answered), its run's end-of-run line, or the next resume's start (a
// killed run's process is gone once the resume holds the report's lock).
func TestLostPOSTIsBoundedByWhatFollowedIt(t *testing.T) {
	k1, k2 := Key{File: "f", Line: 1}, Key{File: "f", Line: 2}
	q := func(l, c int, at time.Time) Entry { return Entry{File: "f", Line: l, Status: Queued, Chunk: c, At: at} }
	sub := func(c int, at time.Time) Entry { return Entry{Status: Submitted, Chunk: c, JobID: "job_x", At: at} }
	// resume appends to the report at `at`, records es and, with end, an
	// end-of-run line at endAt; it returns the state the resume read.
	resume := func(t *testing.T, path string, at time.Time, es []Entry, endAt time.Time) *State {
		t.Helper()
		clk := clock.NewFake(at)
		w, st, err := Append(path, clk)
		if err != nil {
			t.Fatal(err)
		}
		rec(t, w, es...)
		if !endAt.IsZero() {
			clk.Advance(endAt.Sub(at))
			if err := w.End(End{Outcome: EndStopped}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return st
	}
	lost := func(t *testing.T, st *State, k Key, want time.Time) {
		t.Helper()
		if by, ok := st.LostPOST(k); !ok || !by.Equal(want) {
			t.Fatalf("LostPOST(%s) = %s %v, want %s", k, by, ok, want)
		}
	}

	t.Run("killed after its POST, resent by a resume whose job answered", func(t *testing.T) {
		path, _ := writeReport(t, q(1, 1, t0), q(2, 1, t0))
		if by, ok := mustLoad(t, path).LostPOST(k1); !ok || !by.IsZero() {
			t.Fatalf("a plain Load of a killed run: %s %v, want unknown", by, ok)
		}
		r1 := t0.Add(10 * time.Minute)
		st := resume(t, path, r1, []Entry{q(1, 2, r1), q(2, 2, r1), sub(2, r1.Add(time.Second))}, r1.Add(5*time.Minute))
		lost(t, st, k1, r1) // the killed run ended before the resume began
		st = resume(t, path, t0.Add(3*time.Hour), nil, time.Time{})
		lost(t, st, k2, r1) // the resume's own job answered: no later lost POST
	})
	t.Run("resent after a lost answer, then killed", func(t *testing.T) {
		path, _ := writeReport(t, q(1, 1, t0), q(1, 1, t0.Add(time.Minute)), sub(1, t0.Add(2*time.Minute)))
		st := resume(t, path, t0.Add(time.Hour), nil, time.Time{})
		lost(t, st, k1, t0.Add(2*time.Minute)) // the lost POST came before the resend that answered
	})
	t.Run("a later lost POST wins", func(t *testing.T) {
		path, _ := writeReport(t, q(1, 1, t0))
		r1 := t0.Add(110 * time.Minute)
		resume(t, path, r1, []Entry{q(1, 2, r1)}, time.Time{}) // killed after its POST too
		r2 := t0.Add(130 * time.Minute)
		st := resume(t, path, r2, nil, time.Time{})
		// The first POST's job ended by t0+2h; the second's may run
		// until r2+2h.
		lost(t, st, k1, r2)
	})
	t.Run("a run that ended bounds its POSTs", func(t *testing.T) {
		path, _ := writeReport(t, q(1, 1, t0))
		r1 := t0.Add(time.Minute)
		resume(t, path, r1, []Entry{q(2, 2, r1)}, r1.Add(4*time.Minute)) // stopped: end line
		st := resume(t, path, t0.Add(24*time.Hour), nil, time.Time{})
		lost(t, st, k2, r1.Add(4*time.Minute))
		lost(t, st, k1, r1) // never resent; its run ended before r1
	})
}

func mustLoad(t *testing.T, path string) *State {
	t.Helper()
	st, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
