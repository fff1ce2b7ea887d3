package bench

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

// importUsers: about 17 full chunks of 500 KB, so both slots turn over
// several times.
const importUsers = 20000

// fastJobDelay: a job is pending, then processing, for this long each, so
// a job takes 2×fastJobDelay in the tenant. Real jobs take longer; fast ones
// expose every bit of the tool's own overhead between jobs.
const fastJobDelay = 250 * time.Millisecond

// BenchmarkImportSandbox imports generated users into a sandbox whose jobs
// take a known time and reports the users/s and the share of the run during
// which both of the tenant's job slots were busy (from the tenant's side: a
// job holds a slot from its POST until it ends, whether or not anyone polls
// it). Two job lengths: 0.5s (fast: the tool's overhead between jobs shows)
// and 4s (closer to real jobs, which the tenant reports in whole seconds).
func BenchmarkImportSandbox(b *testing.B) {
	for _, c := range []struct {
		jobDelay time.Duration
		users    int
	}{
		{fastJobDelay, importUsers},
		{2 * time.Second, importUsers / 2},
	} {
		b.Run(fmt.Sprintf("job=%v", 2*c.jobDelay), func(b *testing.B) {
			in := genFile(b, b.TempDir(), c.users, input.FormatNDJSON, gen.GenOptions{})
			var busy, rate float64
			var jobs, runs int
			for b.Loop() {
				host, srv, rc := tenant(b, sandbox.Config{JobDelay: c.jobDelay})
				rep := filepath.Join(b.TempDir(), "report.ndjson")
				start := time.Now()
				a0bulk(b, append(append([]string{"import"}, tenantArgs(host)...), "--input", in, "--report", rep)...)
				elapsed := time.Since(start)
				got := finals(b, rep)
				if got[report.Created]+got[report.Imported] != c.users || srv.Stats().Users != c.users {
					b.Fatalf("imported %v, tenant holds %d users; want %d: records lost", got, srv.Stats().Users, c.users)
				}
				rc.mu.Lock()
				busy += bothBusy(rc.jobStarts, 2*c.jobDelay)
				jobs += len(rc.jobStarts)
				rc.mu.Unlock()
				rate += float64(c.users) / elapsed.Seconds()
				runs++
			}
			b.ReportMetric(rate/float64(runs), "users/s")
			b.ReportMetric(100*busy/float64(runs), "slots_busy_%")
			b.ReportMetric(float64(jobs)/float64(runs), "jobs")
			b.ReportMetric(float64(2*c.jobDelay)/float64(time.Millisecond), "job_ms")
		})
	}
}

// bothBusy returns the share of time two jobs were running, for jobs of
// length d started at starts, from the first start to the last one: while
// chunks were still waiting for a slot. (After the last start nothing is
// left to fill a slot that frees up, whatever the tool.)
func bothBusy(starts []time.Time, d time.Duration) float64 {
	if len(starts) < 2 {
		return 0
	}
	type ev struct {
		at    time.Time
		delta int
	}
	var evs []ev
	for _, s := range starts {
		evs = append(evs, ev{s, +1}, ev{s.Add(d), -1})
	}
	slices.SortFunc(evs, func(a, b ev) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.delta - b.delta // an end before a start at the same instant
	})
	begin, end := slices.MinFunc(starts, time.Time.Compare), slices.MaxFunc(starts, time.Time.Compare)
	var both time.Duration
	n := 0
	for i, e := range evs {
		if n >= 2 && i > 0 {
			from, to := evs[i-1].at, e.at
			if to.After(end) {
				to = end
			}
			if to.After(from) {
				both += to.Sub(from)
			}
		}
		n += e.delta
	}
	return float64(both) / float64(end.Sub(begin))
}
