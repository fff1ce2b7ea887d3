package throttle

import (
	"net/http"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

// Auth0 adds a per-minute limit's tokens at whole seconds (rate/60 each),
// and a fixed window adds a second's worth at once. A mirror that assumed a
// continuous refill spent tokens before they were added: against a fixed
// window of 10 a second it got a 429 for most requests (issue 13).
func TestSteppedRefill(t *testing.T) {
	tests := []struct {
		name   string
		bucket *simBucket
		n      int
	}{
		{"write users: 200/min burst 20, steps of 3⅓ a second", perMinute("users_write", 20, 200), 600},
		{"read connections: 50/min burst 5, steps of ⅚ a second", perMinute("connections_read", 5, 50), 200},
		{"fixed window of 10 a second, burst 10", &simBucket{name: "window", burst: 10, step: time.Second, unit: 1, add: 10}, 1500},
		{"steps off the whole second", func() *simBucket {
			b := perMinute("users_write", 20, 200)
			b.phase = 370 * time.Millisecond
			return b
		}(), 600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			b := tt.bucket
			tenant := newPlanTenant(clk, func(string, string) []*simBucket { return []*simBucket{b} }, b)
			tenant.jitter = 40 * time.Millisecond
			tr := New(tenant, Options{Clock: clk, Rand: func() float64 { return 0.5 }})
			failed := runCalls(t, clk, tr, 8, tt.n, func(int) []call { return []call{{http.MethodPost, "/api/v2/users"}} })
			share := float64(b.ok) / b.allowance()
			t.Logf("ok=%d 429=%d in %v: %.1f%% of the allowance, pace %.3f/s", b.ok, b.limited, clk.Now().Sub(t0).Round(time.Second), 100*share, tr.CurrentRate())
			if failed > 0 {
				t.Errorf("%d requests failed", failed)
			}
			if b.limited > 0 {
				t.Errorf("%d × 429: the mirror counted on tokens before they were added", b.limited)
			}
			if share < 0.97 {
				t.Errorf("granted %.1f%% of the allowance, want >= 97%%", 100*share)
			}
		})
	}
}
