package bench

import (
	"testing"
	"time"
)

func TestBothBusy(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	for _, c := range []struct {
		name   string
		starts []time.Time
		want   float64
	}{
		{"back to back in both slots", []time.Time{at(0), at(0), at(100), at(100), at(200)}, 1},
		{"one slot idle half the time", []time.Time{at(0), at(50), at(100), at(150), at(200)}, 0.75},
		{"one at a time", []time.Time{at(0), at(100), at(200)}, 0},
		{"single job", []time.Time{at(0)}, 0},
	} {
		if got := bothBusy(c.starts, 100*time.Millisecond); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
