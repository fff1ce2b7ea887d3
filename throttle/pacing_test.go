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
		max429   int
		settles  bool // CurrentRate must end within 3% of the tenant's rate
	}{
		{name: "free plan 2/s burst 2", rate: 2, burst: 2, requests: 800, max429: 3},
		{name: "enterprise 16/s burst 50", rate: 16, burst: 50, requests: 4000, max429: 3, settles: true},
		{name: "non-production 2/s burst 10", rate: 2, burst: 10, requests: 800, max429: 3, settles: true},
		{name: "10/s burst 10 with latency", rate: 10, burst: 10, latency: 80 * time.Millisecond, requests: 3000, max429: 3, settles: true},
		{name: "16/s burst 50 with uneven latency", rate: 16, burst: 50, latency: 30 * time.Millisecond, jitter: 400 * time.Millisecond, requests: 4000, max429: 3, settles: true},
		{name: "2/s burst 10 with uneven latency", rate: 2, burst: 10, latency: 30 * time.Millisecond, jitter: 600 * time.Millisecond, requests: 800, max429: 3, settles: true},
		{name: "start too fast", rate: 5, burst: 10, start: 20, requests: 1500, max429: 3, settles: true},
		{name: "write users 200/min burst 20", rate: 200.0 / 60, burst: 20, requests: 1000, max429: 3, settles: true},
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
			if achieved < 0.95*tt.rate {
				t.Errorf("achieved %.3f/s, want >= 95%% of %.3f/s", achieved, tt.rate)
			}
			if pace := tr.CurrentRate(); tt.settles && math.Abs(pace-tt.rate) > 0.03*tt.rate {
				t.Errorf("pace settled at %.3f/s, want %.3f/s", pace, tt.rate)
			}
			if tenant.limited > tt.max429 {
				t.Errorf("%d 429s, want <= %d", tenant.limited, tt.max429)
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
