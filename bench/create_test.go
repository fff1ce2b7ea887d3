package bench

import (
	"path/filepath"
	"testing"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

// BenchmarkCreateRateLimited runs create mode against a sandbox whose token
// bucket is known and reports the requests the tenant granted against the
// most its bucket could grant over the same span (Burst + Rate × span), the
// 429s it answered, and checks that every user was created exactly once.
func BenchmarkCreateRateLimited(b *testing.B) {
	for _, c := range []struct {
		name  string
		rate  float64
		burst int
		users int
	}{
		{"rate50_burst50", 50, 50, 1000},
		// Auth0's Management API on paid plans: bursts of 50, about 16/s.
		{"auth0_rate16_burst50", 16, 50, 400},
	} {
		b.Run(c.name, func(b *testing.B) {
			in := genFile(b, b.TempDir(), c.users, input.FormatNDJSON, gen.GenOptions{Mode: input.ModeCreate})
			var ratio, limited, achieved float64
			runs := 0
			for b.Loop() {
				host, srv, rc := tenant(b, sandbox.Config{Rate: c.rate, Burst: c.burst})
				rep := filepath.Join(b.TempDir(), "report.ndjson")
				a0bulk(b, append(append([]string{"create"}, tenantArgs(host)...), "--input", in, "--report", rep)...)
				got := finals(b, rep)
				total := 0
				for _, n := range got {
					total += n
				}
				if got[report.Created] != c.users || total != c.users || srv.Stats().Users != c.users {
					b.Fatalf("report %v, tenant holds %d users; want %d created: records lost or doubled", got, srv.Stats().Users, c.users)
				}
				rc.mu.Lock()
				span := rc.last.Sub(rc.first)
				allowed := float64(c.burst) + c.rate*span.Seconds()
				ratio += float64(rc.granted) / allowed
				achieved += float64(rc.granted-c.burst) / span.Seconds()
				limited += float64(rc.limited)
				rc.mu.Unlock()
				runs++
			}
			n := float64(runs)
			b.ReportMetric(100*ratio/n, "achieved/allowed_%")
			b.ReportMetric(achieved/n, "req/s_after_burst")
			b.ReportMetric(c.rate, "allowed_req/s")
			b.ReportMetric(limited/n, "429s")
			b.ReportMetric(float64(c.users), "users")
		})
	}
}
