package throttle

import (
	"math"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestPacingReachesTheRefillRate(t *testing.T) {
	tests := []struct {
		name     string
		rate     float64 // tenant refill
		burst    int
		latency  time.Duration
		jitter   time.Duration
		start    float64 // Options.Rate (0: default)
		requests int
		settles  bool    // CurrentRate must end within 3% of the tenant's rate
		share    float64 // of the rate achieved at least; 0 means 97%
	}{
		{name: "free plan 2/s burst 2", rate: 2, burst: 2, requests: 800},
		{name: "50/s burst 50", rate: 50, burst: 50, requests: 5000, settles: true},
		{name: "enterprise 16/s burst 50", rate: 16, burst: 50, requests: 4000, settles: true},
		{name: "non-production 2/s burst 10", rate: 2, burst: 10, requests: 800, settles: true},
		// A bucket that holds one second of refill, answers that all come
		// back together 80ms after they left: nothing tells this refill
		// from a fixed window of 10 at each whole second, against which a
		// continuous credit overshoots (TestSteppedRefill). The mirror
		// credits whole seconds from each answer, so every second's tokens
		// go one round trip late and what the full bucket adds meanwhile
		// is lost: 1/1.08 of the rate. No published bucket is like this
		// (each holds at least 4 s of its refill, or is per second).
		{name: "10/s burst 10 with latency", rate: 10, burst: 10, latency: 80 * time.Millisecond, requests: 3000, share: 0.92},
		{name: "10/s burst 10 with latency and jitter", rate: 10, burst: 10, latency: 20 * time.Millisecond, jitter: 100 * time.Millisecond, requests: 3000, settles: true},
		{name: "16/s burst 50 with uneven latency", rate: 16, burst: 50, latency: 30 * time.Millisecond, jitter: 400 * time.Millisecond, requests: 4000, settles: true},
		{name: "2/s burst 10 with uneven latency", rate: 2, burst: 10, latency: 30 * time.Millisecond, jitter: 600 * time.Millisecond, requests: 800, settles: true},
		{name: "start too fast", rate: 5, burst: 10, start: 20, requests: 1500, settles: true},
		{name: "write users 200/min burst 20", rate: 200.0 / 60, burst: 20, requests: 1000, settles: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			tenant := newFakeTenant(clk, tt.rate, tt.burst)
			tenant.latency, tenant.jitter = tt.latency, tt.jitter
			tr := New(tenant, Options{Clock: clk, Rate: tt.start, Rand: func() float64 { return 0.5 }})
			const callers = 8
			if failed := runPool(t, clk, tr, callers, tt.requests); failed > 0 {
				t.Fatalf("%d requests failed", failed)
			}
			elapsed := tenant.lastOK.Sub(t0).Seconds()
			// The bucket starts full: only what it refilled counts.
			achieved := float64(tenant.ok-tt.burst) / elapsed
			t.Logf("ok=%d 429=%d elapsed=%.1fs achieved=%.3f/s (%.1f%% of %.3f) pace=%.3f", tenant.ok, tenant.limited, elapsed, achieved, 100*achieved/tt.rate, tt.rate, tr.CurrentRate())
			share := tt.share
			if share == 0 {
				share = 0.97
			}
			if achieved < share*tt.rate {
				t.Errorf("achieved %.3f/s, want >= %.0f%% of %.3f/s", achieved, 100*share, tt.rate)
			}
			if pace := tr.CurrentRate(); tt.settles && math.Abs(pace-tt.rate) > 0.03*tt.rate {
				t.Errorf("pace settled at %.3f/s, want %.3f/s", pace, tt.rate)
			}
			// The mirror refills at a bound no floor error or reordering can
			// push past the truth: a 429 here is a bug, not bad luck.
			if tenant.limited > 0 {
				t.Errorf("%d 429s, want none", tenant.limited)
			}
			if st := tr.Stats(); st.RateLimited != int64(tenant.limited) || st.Requests != int64(tenant.ok+tenant.limited) {
				t.Errorf("stats %+v, tenant saw %d ok and %d 429s", st, tenant.ok, tenant.limited)
			}
		})
	}
}

func TestMaxRateCapsAdaptation(t *testing.T) {
	clk := clock.NewFake(t0)
	tenant := newFakeTenant(clk, 10, 10)
	tr := New(tenant, Options{Clock: clk, Rate: 4, MaxRate: 4})
	if failed := runPool(t, clk, tr, 8, 800); failed > 0 {
		t.Fatalf("%d requests failed", failed)
	}
	elapsed := tenant.lastOK.Sub(t0).Seconds()
	// The limiter starts with a burst of 2 (DefaultBurst) and the bucket
	// would have allowed far more: any excess over 4/s is the cap failing.
	achieved := float64(tenant.ok-DefaultBurst) / elapsed
	t.Logf("ok=%d elapsed=%.1fs achieved=%.3f/s pace=%.3f", tenant.ok, elapsed, achieved, tr.CurrentRate())
	if achieved > 4.0001 || achieved < 0.95*4 {
		t.Errorf("achieved %.3f/s, want 4/s (the cap) although the tenant allows 10/s", achieved)
	}
	if got := tr.CurrentRate(); got > 4 {
		t.Errorf("CurrentRate = %v, above MaxRate 4", got)
	}
	if tenant.limited > 0 {
		t.Errorf("%d 429s under a cap well below the tenant's rate", tenant.limited)
	}
}

// A run as short as a real create of a few hundred users, measured as the
// benchmark measures it: what the tenant granted against the most it could
// grant from the first granted request to the last (burst + rate × span).
// The start-up and the end weigh here; in the long runs above they vanish.
func TestShortRunUsesTheWholeAllowance(t *testing.T) {
	tests := []struct {
		name    string
		rate    float64
		burst   int
		n       int
		latency time.Duration
		jitter  time.Duration
	}{
		{"50/s burst 50, 1000 requests", 50, 50, 1000, 2 * time.Millisecond, 0},
		{"16/s burst 50, 400 requests", 16, 50, 400, 2 * time.Millisecond, 0},
		{"50/s burst 50, uneven latency", 50, 50, 1000, 20 * time.Millisecond, 100 * time.Millisecond},
		{"16/s burst 50, slow answers", 16, 50, 400, 150 * time.Millisecond, 200 * time.Millisecond},
		{"2/s burst 10", 2, 10, 100, 50 * time.Millisecond, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			tenant := newFakeTenant(clk, tt.rate, tt.burst)
			tenant.latency, tenant.jitter = tt.latency, tt.jitter
			tr := New(tenant, Options{Clock: clk})
			if failed := runPool(t, clk, tr, 8, tt.n); failed > 0 {
				t.Fatalf("%d requests failed", failed)
			}
			span := tenant.lastOK.Sub(tenant.firstOK).Seconds()
			allowed := float64(tt.burst) + tt.rate*span
			ratio := float64(tenant.ok) / allowed
			t.Logf("ok=%d 429=%d span=%.2fs granted/allowed=%.1f%% pace=%.3f", tenant.ok, tenant.limited, span, 100*ratio, tr.CurrentRate())
			if ratio < 0.97 {
				t.Errorf("granted %.1f%% of the allowance, want >= 97%%", 100*ratio)
			}
			if tenant.limited > 0 {
				t.Errorf("%d 429s: the mirror let a request go without a token", tenant.limited)
			}
		})
	}
}

// The first answer shows a full bucket: the burst is the tenant's to give,
// so the pool spends it at once instead of ramping up from the safe default.
func TestStartSpendsTheBurstAtOnce(t *testing.T) {
	clk := clock.NewFake(t0)
	tenant := newFakeTenant(clk, 16, 50)
	tenant.latency = 50 * time.Millisecond
	tr := New(tenant, Options{Clock: clk})
	if failed := runPool(t, clk, tr, 8, 120); failed > 0 {
		t.Fatalf("%d requests failed", failed)
	}
	// The first two go under the default burst; the answer (50ms later)
	// shows 49 left, and from then on eight at a time: the 50th arrives
	// after 1 + ceil(48/8) round trips.
	if at := tenant.grants[49].Sub(t0); at > 7*tenant.latency+10*time.Millisecond {
		t.Errorf("the 50th request arrived at %v, want the burst spent within %v", at, 7*tenant.latency)
	}
	inFirst := 0
	for _, g := range tenant.grants {
		if g.Before(t0.Add(time.Second)) {
			inFirst++
		}
	}
	// The tenant allows 50 + 16 in the first second. What refilled while
	// eight requests were out is not spent at once (the mirror cannot tell
	// which of them the tenant saw first) and the refill bound is still
	// loose, so a few tokens wait for the next answers: delayed, not lost.
	// Ramping up from 2/s, as the pacer once did, granted 3.
	t.Logf("granted %d in the first second, %d 429s, pace %.3f", inFirst, tenant.limited, tr.CurrentRate())
	if inFirst < 57 {
		t.Errorf("granted %d in the first second, want >= 57 of the 66 allowed", inFirst)
	}
	if tenant.limited > 0 {
		t.Errorf("%d 429s at the start", tenant.limited)
	}
}

// A tenant whose answers carry no x-ratelimit-* headers gets the documented
// safe default (DefaultBurst, then DefaultRate) for good.
func TestNoHeadersKeepsTheSafeDefault(t *testing.T) {
	clk := clock.NewFake(t0)
	tenant := newFakeTenant(clk, 1000, 1000)
	tenant.noHeads = true
	tr := New(tenant, Options{Clock: clk})
	const n = 21
	if failed := runPool(t, clk, tr, 8, n); failed > 0 {
		t.Fatalf("%d requests failed", failed)
	}
	for k, g := range tenant.grants {
		if earliest := t0.Add(time.Duration(max(0, k-DefaultBurst+1)) * time.Second / DefaultRate); g.Before(earliest) {
			t.Errorf("request %d went at %v, before %v", k, g.Sub(t0), earliest.Sub(t0))
		}
	}
	if last := tenant.lastOK.Sub(t0); last > 10*time.Second {
		t.Errorf("the last request went at %v, want 9.5s: the default pace stalled", last)
	}
	if r := tr.CurrentRate(); r != DefaultRate {
		t.Errorf("CurrentRate = %v, want the default %v", r, DefaultRate)
	}
}
