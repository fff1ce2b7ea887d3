package throttle

import (
	"net/http"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

func TestPhaseSet(t *testing.T) {
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	var s phaseSet
	if got := s.steps(ms(300), ms(2299)); got != 1 {
		t.Errorf("unknown phase: %d steps surely in 1.999s, want 1", got)
	}
	s.grew(ms(5200), ms(5450)) // a step between .200 and .450
	s.grew(ms(9350), ms(9600)) // and between .350 and .600
	if s.lo != 350 || s.w != 100 {
		t.Fatalf("phases from %d for %d ms, want 350 for 100", s.lo, s.w)
	}
	// The step of second 11 falls by 11.451 at the latest.
	if got := s.steps(ms(10900), ms(11450)); got != 0 {
		t.Errorf("%d steps by 11.450, want 0", got)
	}
	if got := s.steps(ms(10900), ms(11451)); got != 1 {
		t.Errorf("%d steps by 11.451, want 1", got)
	}
	if got := s.stepsReady(ms(10900), 2); !got.Equal(ms(12451)) {
		t.Errorf("two steps after 10.900 by %v, want 12.451", got.Sub(t0))
	}
	// From 10.349 the step of second 10 is still to come; from 10.351 it
	// may have come.
	if got := s.steps(ms(10349), ms(11451)); got != 2 {
		t.Errorf("%d steps in (10.349, 11.451], want 2", got)
	}
	if got := s.steps(ms(10351), ms(11451)); got != 1 {
		t.Errorf("%d steps in (10.351, 11.451], want 1", got)
	}
	// A window of almost a second that crosses a whole second holds every
	// phase but the few it misses, however close its ends' offsets are.
	var long phaseSet
	long.grew(t0.Add(1002900*time.Microsecond), t0.Add(2001100*time.Microsecond))
	if long.isOut(0) || long.isOut(500) || long.isOut(999) {
		t.Errorf("a window from 1.0029 to 2.0011 ruled out phases it holds: from %d for %d ms", long.lo, long.w)
	}
	// Wrapping past the whole second.
	var w phaseSet
	w.grew(ms(900), ms(1100))
	if w.lo != 900 || w.w != 200 {
		t.Errorf("phases from %d for %d ms, want 900 for 200", w.lo, w.w)
	}
	s.grew(ms(20700), ms(20800)) // disjoint from .350–.450: no phase fits
	if !s.empty() {
		t.Error("disjoint growth windows left a phase")
	}
}

// The unknown shape credits only what both a continuous refill and steps
// at the phases left would have added.
func TestUnknownShapeCreditsTheLesser(t *testing.T) {
	m := newMirror("k", 20, 2) // a per-minute burst: unknown shape
	if m.shape != shapeUnknown {
		t.Fatalf("shape %v", m.shape)
	}
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	m.phases.grew(ms(100), ms(150))
	for _, tt := range []struct {
		from, to int
		want     float64
	}{
		{1000, 1140, 0},        // the step may still be to come
		{1090, 1155, 0.064},    // a step surely, 65ms of continuous refill
		{1500, 2155, 0.654},    // a step, 0.655s less the grain
		{1500, 2501, 1},        // a whole second holds a step at any phase
		{1900, 3155, 1.254},    // two steps, 1.255s continuous
		{3155, 3155 + 1000, 1}, // exactly a second
		{3155, 6154, 2.998},    // three steps, 2.999s continuous
		{3000, 3010, 0},        // no step surely in between
	} {
		if got := m.credit(ms(tt.from), ms(tt.to)); got < tt.want-1e-9 || got > tt.want+1e-9 {
			t.Errorf("credit %d→%d ms = %v, want %v", tt.from, tt.to, got, tt.want)
		}
		if tt.want > 0 {
			if at := m.creditReady(ms(tt.from), tt.want); at.After(ms(tt.to)) {
				t.Errorf("credit %v from %d ready at %v, want by %d ms", tt.want, tt.from, at.Sub(t0), tt.to)
			}
		}
	}
}

// ask lets one request go at `at` and answers it at `at` plus 20ms with
// remaining and a reset at the next whole second.
func ask(m *mirror, at time.Time, remaining int, limited bool) {
	ticket := m.take(at)
	answered := at.Add(20 * time.Millisecond)
	reset := answered.Truncate(time.Second).Add(time.Second)
	m.release(ticket, &bucketHeaders{limit: m.limit, remaining: remaining, reset: reset}, limited, answered)
}

// The refill's shape changes only on proof: a bucket that starts
// continuous (a published per-second burst) leaves it on a 429 or on a
// pause a continuous refill cannot have; one of unknown shape turns
// continuous once no phase of steps fits its growth.
func TestRefillShapeChanges(t *testing.T) {
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	t.Run("a 429 on a continuous refill", func(t *testing.T) {
		m := newMirror("k", 50, 2)
		ask(m, ms(0), 49, false)
		if m.shape != shapeContinuous {
			t.Fatalf("a published per-second burst starts %v", m.shape)
		}
		ask(m, ms(100), 0, true)
		if m.shape != shapeUnknown {
			t.Errorf("after a 429: %v, want unknown", m.shape)
		}
	})
	t.Run("a pause in a continuous refill", func(t *testing.T) {
		m := newMirror("k", 50, 2)
		ask(m, ms(0), 10, false)    // y >= 11
		ask(m, ms(1000), 25, false) // y >= 27: at least 15/s
		if m.shape != shapeContinuous || m.bound.rate < 14 {
			t.Fatalf("shape %v rate %v", m.shape, m.bound.rate)
		}
		ask(m, ms(2000), 26, false) // y < 30: 3 in a second, not 15
		if m.shape != shapeUnknown {
			t.Errorf("after a pause: %v, want unknown", m.shape)
		}
	})
	t.Run("growth at every phase", func(t *testing.T) {
		m := newMirror("k", 20, 2)
		if m.shape != shapeUnknown {
			t.Fatalf("a per-minute burst starts %v", m.shape)
		}
		ask(m, ms(100), 5, false) // y in [6, 7)
		ask(m, ms(500), 7, false) // y >= 9: a step in .100–.520
		if m.shape != shapeUnknown || m.phases.lo != 100 || m.phases.w != 420 {
			t.Fatalf("shape %v, phases from %d for %d", m.shape, m.phases.lo, m.phases.w)
		}
		ask(m, ms(1600), 6, false) // y in [9, 10)
		ask(m, ms(1850), 8, false) // y >= 12: a step in .600–.870, not in .100–.520
		if m.shape != shapeContinuous {
			t.Errorf("growth fits no phase, yet the shape is %v", m.shape)
		}
	})
}

// A bucket whose burst matches a published per-second one starts as a
// continuous refill. If the tenant adds its tokens in whole seconds
// instead, the first answers that show it cost a 429 or two, not a storm.
func TestPerSecondBucketInSteps(t *testing.T) {
	for _, b := range []*simBucket{
		{name: "Global", burst: 50, step: time.Second, unit: 1, add: 16},
		{name: "Global", burst: 2, step: time.Second, unit: 1, add: 2},
	} {
		clk := clock.NewFake(t0)
		tenant := newPlanTenant(clk, func(string, string) []*simBucket { return []*simBucket{b} }, b)
		tenant.jitter = 40 * time.Millisecond
		tr := New(tenant, Options{Clock: clk})
		n := int(150 * b.perSecondRate())
		if failed := runCalls(t, clk, tr, 8, n, func(int) []call { return []call{{http.MethodPost, "/api/v2/users"}} }); failed > 0 {
			t.Errorf("burst %d: %d failed", b.burst, failed)
		}
		share := float64(b.ok) / b.allowance()
		t.Logf("burst %d: ok=%d 429=%d, %.1f%% of the allowance, shape %v", b.burst, b.ok, b.limited, 100*share, tr.pacer.lastM.shape)
		if float64(b.limited) > 0.01*float64(b.ok+b.limited) {
			t.Errorf("burst %d: %d × 429 in %d requests, want <= 1%%", b.burst, b.limited, b.ok+b.limited)
		}
		if share < 0.97 {
			t.Errorf("burst %d: %.1f%% of the allowance, want >= 97%%", b.burst, 100*share)
		}
	}
}
