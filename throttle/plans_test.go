package throttle_test

import (
	"testing"

	"github.com/a0bulk/a0bulk/throttle"
)

func TestEstimateRate(t *testing.T) {
	for _, tc := range []struct {
		name       string
		flagRate   float64
		limit      int
		ok         bool
		wantRate   float64
		wantSource string
	}{
		{"free plan", 0, 2, true, 2, "the tenant's x-ratelimit-limit of 2 matches Auth0's published Free: burst 2, 2/s"},
		{"essentials read-connections bucket", 0, 5, true, 200.0 / 60,
			"the tenant's x-ratelimit-limit of 5 matches Auth0's published Essentials/Professional (read connections burst 5); write users: burst 20, 200/min"},
		{"enterprise non-production", 0, 10, true, 2, "the tenant's x-ratelimit-limit of 10 matches Auth0's published Enterprise non-production: burst 10, 2/s"},
		{"essentials write-users bucket", 0, 20, true, 200.0 / 60, "the tenant's x-ratelimit-limit of 20 matches Auth0's published Essentials/Professional write users: burst 20, 200/min"},
		{"enterprise production", 0, 50, true, 16, "the tenant's x-ratelimit-limit of 50 matches Auth0's published Enterprise production: burst 50, 16/s"},
		{"unknown bucket", 0, 7, true, 2,
			"the tenant's bucket of 7 matches no published plan; assuming the smallest published rate, 2/s (a0bulk learns the real rate while it runs)"},
		{"no headers", 0, 0, false, 2, "no rate-limit headers seen; assuming Auth0's smallest published rate, 2/s"},
		{"no headers, a stale limit is ignored", 0, 50, false, 2, "no rate-limit headers seen; assuming Auth0's smallest published rate, 2/s"},
		{"--rate below the plan", 1.5, 50, true, 1.5, "--rate"},
		{"--rate equal to the plan", 16, 50, true, 16, "--rate"},
		{"--rate above the plan is not believed", 100, 50, true, 16, "the tenant's x-ratelimit-limit of 50 matches Auth0's published Enterprise production: burst 50, 16/s"},
		{"--rate with an unknown bucket", 100, 7, true, 100, "--rate"},
		{"--rate without headers", 100, 0, false, 100, "--rate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rate, source := throttle.EstimateRate(tc.flagRate, tc.limit, tc.ok)
			if rate != tc.wantRate || source != tc.wantSource {
				t.Errorf("EstimateRate(%v, %d, %v) = %v, %q\nwant %v, %q", tc.flagRate, tc.limit, tc.ok, rate, source, tc.wantRate, tc.wantSource)
			}
		})
	}
}
