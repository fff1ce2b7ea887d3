package throttle

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

type okTransport struct{}

func (okTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	h := http.Header{}
	h.Set("X-Ratelimit-Limit", "50")
	h.Set("X-Ratelimit-Remaining", "49")
	h.Set("X-Ratelimit-Reset", "1")
	return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(strings.NewReader("{}")), Request: req}, nil
}

// BenchmarkRoundTrip measures the throttle's own overhead per request (a
// bucket that never runs dry, so nothing waits).
func BenchmarkRoundTrip(b *testing.B) {
	tr := New(okTransport{}, Options{Rate: 1e9, Burst: 1 << 30, MaxRate: 1e9})
	req, _ := http.NewRequest(http.MethodGet, "https://tenant.test/api/v2/users", nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := tr.RoundTrip(req)
			if err != nil {
				b.Fatal(err)
			}
			drain(resp)
		}
	})
}

// BenchmarkPlanPacing runs each workload against each plan's simulated
// buckets (plantenant_test.go) for 2.5 simulated minutes and reports what
// `make bench` tables: the binding bucket's grants against what it allows
// (goal ≥ 97%) and the share of requests refused with 429 (goal ≤ 1%).
func BenchmarkPlanPacing(b *testing.B) {
	for _, p := range plans {
		for _, w := range workloads {
			b.Run(p.name+"/"+w.id, func(b *testing.B) {
				var r simResult
				for range b.N {
					r = simulate(b, p, w, 2.5)
				}
				b.ReportMetric(100*r.share, "sent/allowed_%")
				b.ReportMetric(100*float64(r.limited)/float64(r.requests), "429_%")
				b.ReportMetric(float64(r.requests), "requests")
				b.ReportMetric(float64(r.failed), "failed")
				b.ReportMetric(r.simulated.Seconds(), "simulated_s")
			})
		}
	}
}
