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
