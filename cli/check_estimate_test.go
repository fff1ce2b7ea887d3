package cli

import (
	"strings"
	"testing"
	"time"
)

func TestTenantPace(t *testing.T) {
	for _, tc := range []struct {
		name      string
		flag      float64
		limit     int
		ok        bool
		rate      float64
		burst     int
		howSubstr string
	}{
		{"enterprise bucket", 0, 50, true, 16, 50, "Enterprise production"},
		{"free bucket", 0, 2, true, 2, 2, "Free"},
		{"essentials connections bucket", 0, 5, true, 200.0 / 60, 5, "200/min"},
		{"unknown bucket", 0, 40, true, 2, 40, "matches no published plan"},
		{"no headers", 0, 0, false, 2, 0, "no x-ratelimit headers"},
		{"--rate below the plan", 5, 50, true, 5, 0, "--rate 5"},
		{"--rate above the plan is capped by it", 30, 50, true, 16, 50, "below --rate 30"},
		{"--rate without headers", 7, 0, false, 7, 0, "--rate 7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rate, burst, how := tenantPace(tc.flag, tc.limit, tc.ok)
			if rate != tc.rate || burst != tc.burst || !strings.Contains(how, tc.howSubstr) {
				t.Errorf("tenantPace = %v, %d, %q; want %v, %d, …%q…", rate, burst, how, tc.rate, tc.burst, tc.howSubstr)
			}
		})
	}
}

func TestPaceDuration(t *testing.T) {
	for _, tc := range []struct {
		requests, burst int
		rate            float64
		want            time.Duration
	}{
		{1000, 50, 16, 60 * time.Second}, // 950/16 = 59.4s, rounded up
		{10, 50, 16, 0},                  // all within the bucket
		{2000, 20, 200.0 / 60, 594 * time.Second},
		{100, 0, 2, 50 * time.Second},
		{100, 0, 0, 0},
	} {
		if got := paceDuration(tc.requests, tc.rate, tc.burst); got != tc.want {
			t.Errorf("paceDuration(%d, %v, %d) = %v, want %v", tc.requests, tc.rate, tc.burst, got, tc.want)
		}
	}
}
