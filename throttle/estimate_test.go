package throttle

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func TestRefillBound(t *testing.T) {
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	obs := func(sentMs, atMs int, lo, slack float64) observation {
		return observation{sent: at(sentMs), at: at(atMs), lo: lo, slack: slack}
	}
	tests := []struct {
		name string
		in   []observation
		want float64 // the bound after the last observation
	}{
		{"one observation: nothing to bound", []observation{obs(0, 0, 10, 1)}, 0},
		{"isolated pair: the floor costs one token", []observation{obs(0, 0, 10, 1), obs(1000, 1000, 20, 1)}, 9},
		{"the anchor's latency widens the span", []observation{obs(0, 250, 10, 1), obs(1000, 1000, 20, 1)}, 9},
		{"requests alongside the anchor cost a token each", []observation{obs(0, 0, 10, 3), obs(1000, 1000, 20, 1)}, 7},
		{"the tighter anchor wins", []observation{obs(0, 0, 10, 5), obs(500, 500, 14, 1), obs(2000, 2000, 40, 1)}, 25.0 / 1.5},
		{"an older bucket bounds nothing", []observation{obs(0, 0, 10, 1), obs(1000, 1000, 8, 1)}, 0},
		{"anchors past the window are dropped", []observation{obs(0, 0, 0, 1), obs(121000, 121000, 30, 1), obs(122000, 122000, 40, 1)}, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b refillBound
			for _, o := range tt.in {
				b.add(o)
			}
			if math.Abs(b.rate-tt.want) > 1e-9 {
				t.Errorf("bound %v, want %v", b.rate, tt.want)
			}
		})
	}
}

// Whatever the floor error, the latency and the requests in flight hide,
// the bound never passes the true refill rate, and a minute of observations
// brings it within 5% of it (worst at low rates, where one token is a large share).
func TestRefillBoundNeverOvershoots(t *testing.T) {
	for _, rate := range []float64{2, 3.3, 16, 50} {
		rng := rand.New(rand.NewPCG(7, uint64(rate*10)))
		var b refillBound
		tm := t0
		for range 1200 {
			tm = tm.Add(50 * time.Millisecond)
			lat := time.Duration(rng.IntN(300)) * time.Millisecond
			arrive := tm.Add(lat / 2)
			y := rate * arrive.Sub(t0).Seconds() // tokens + taken at arrival
			others := float64(rng.IntN(4))
			// The floor hides a fraction; requests alongside, up to others.
			lo := math.Floor(y) - float64(rng.IntN(int(others)+1))
			b.add(observation{sent: tm, at: tm.Add(lat), lo: lo, slack: 1 + others})
			if b.rate > rate {
				t.Fatalf("rate %v: bound %v passed the truth at %v", rate, b.rate, tm.Sub(t0))
			}
		}
		if b.rate < 0.95*rate {
			t.Errorf("rate %v: bound %v after a minute, want within 5%%", rate, b.rate)
		}
	}
}
