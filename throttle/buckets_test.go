package throttle

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

// call is one request of a simulated run.
type call struct{ method, path string }

// runCalls has workers goroutines share n units of work (as a worker pool
// does); unit i is the calls of work(i), made one after another. It drives
// the fake clock in lockstep: it advances only when every worker is parked
// on the clock (a finished worker parks on a far deadline until the end),
// so the run depends on no real timing. It returns the units with a call
// that failed.
func runCalls(tb testing.TB, clk *clock.Fake, rt http.RoundTripper, workers, n int, work func(i int) []call) (failed int) {
	tb.Helper()
	var finished, failures, taken atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(taken.Add(1)) - 1
				if i >= n {
					break
				}
				for _, c := range work(i) {
					if !send(rt, c) {
						failures.Add(1)
						break
					}
				}
			}
			finished.Add(1)
			select {
			case <-stop:
			case <-clk.After(1000 * time.Hour):
			}
		}()
	}
	if !clk.Simulate(workers, func() bool { return int(finished.Load()) == workers }, 10_000_000) {
		tb.Fatal("the pool never finished")
	}
	close(stop)
	wg.Wait()
	return int(failures.Load())
}

func send(rt http.RoundTripper, c call) bool {
	req, err := http.NewRequest(c.method, "https://tenant.test"+(&url.URL{Path: c.path}).EscapedPath(), nil)
	if err != nil {
		return false
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return false
	}
	drain(resp)
	return resp.StatusCode < 300
}

// A workload is what a0bulk sends for one unit of a run: a user, or an
// import job and its polls.
type workload struct {
	id      string // its benchmark name
	name    string
	workers int
	work    func(i int) []call
	// binding is, per plan, the bucket that limits the run and how many of
	// its requests one unit takes.
	binding map[string]bindingBucket
}

type bindingBucket struct {
	bucket  int     // index in the plan's buckets
	perUnit float64 // its requests per unit
}

var workloads = []workload{
	{
		id: "verify", name: "create --verify-email", workers: 8,
		work: func(int) []call {
			return []call{{http.MethodPost, "/api/v2/users"}, {http.MethodPost, "/api/v2/jobs/verification-email"}}
		},
		// Essentials: the verification job is in "all other" (150/min),
		// slower than user writes (200/min).
		binding: map[string]bindingBucket{"free": {0, 2}, "essentials": {3, 1}, "enterprise": {0, 2}},
	},
	{
		id: "upsert", name: "create --upsert", workers: 8,
		work: func(i int) []call {
			calls := []call{{http.MethodPost, "/api/v2/users"}}
			if i%2 == 1 { // half the users exist: 409, look up, update
				calls = append(calls, call{http.MethodGet, "/api/v2/users-by-email"},
					call{http.MethodPatch, fmt.Sprintf("/api/v2/users/auth0|%024x", i)})
			}
			return calls
		},
		binding: map[string]bindingBucket{"free": {0, 2}, "essentials": {0, 1.5}, "enterprise": {0, 2}},
	},
	{
		id: "import", name: "import", workers: 2, // two job slots, each polled until done
		work: func(i int) []call {
			calls := []call{{http.MethodPost, "/api/v2/jobs/users-imports"}}
			for range 8 {
				calls = append(calls, call{http.MethodGet, fmt.Sprintf("/api/v2/jobs/job_%016d", i)})
			}
			return calls
		},
		binding: map[string]bindingBucket{"free": {0, 9}, "essentials": {3, 9}, "enterprise": {0, 9}},
	},
	{
		// Each user joins an organization: on Essentials the members
		// bucket has the burst of the users one (20) but is another; on
		// Enterprise the global bucket holds the call too.
		id: "members", name: "create + organization member", workers: 8,
		work: func(int) []call {
			return []call{{http.MethodPost, "/api/v2/users"}, {http.MethodPost, "/api/v2/organizations/org_4xWh9cA3Qm1FvTzB/members"}}
		},
		binding: map[string]bindingBucket{"free": {0, 2}, "essentials": {4, 1}, "enterprise": {1, 1}},
	},
}

// simResult is one simulated run.
type simResult struct {
	requests, limited, failed int
	binding                   *simBucket
	share                     float64 // of the binding bucket's allowance granted
	simulated                 time.Duration
	stats                     Stats
}

// simulate runs a workload against a plan for about `minutes` of
// simulated time at the binding bucket's rate.
func simulate(tb testing.TB, p plan, w workload, minutes float64) simResult {
	clk := clock.NewFake(t0)
	route, all := p.buckets()
	tenant := newPlanTenant(clk, route, all...)
	tenant.jitter = 40 * time.Millisecond
	tr := New(tenant, Options{Clock: clk, Rand: func() float64 { return 0.5 }})
	bind := w.binding[p.name]
	b := all[bind.bucket]
	units := int(minutes * 60 * b.perSecondRate() / bind.perUnit)
	failed := runCalls(tb, clk, tr, w.workers, units, w.work)
	return simResult{
		requests: tenant.ok + tenant.limited, limited: tenant.limited, failed: failed,
		binding: b, share: float64(b.ok) / b.allowance(), simulated: clk.Now().Sub(t0), stats: tr.Stats(),
	}
}

// Against each plan's buckets, each run keeps its binding bucket busy
// (≥ 97% of what it allows) and almost never hears 429 (≤ 1% of requests).
func TestPacingPerPlan(t *testing.T) {
	for _, p := range plans {
		for _, w := range workloads {
			t.Run(p.name+"/"+w.name, func(t *testing.T) {
				r := simulate(t, p, w, 2.5)
				t.Logf("%d requests in %v, %d × 429, binding bucket %q: %.1f%% of its allowance; buckets %+v",
					r.requests, r.simulated.Round(time.Second), r.limited, r.binding.name, 100*r.share, r.stats.Buckets)
				if r.failed > 0 {
					t.Errorf("%d units failed", r.failed)
				}
				if r.share < 0.97 {
					t.Errorf("granted %.1f%% of the binding bucket's allowance, want >= 97%%", 100*r.share)
				}
				if float64(r.limited) > 0.01*float64(r.requests) {
					t.Errorf("%d × 429 in %d requests, want <= 1%%", r.limited, r.requests)
				}
			})
		}
	}
}
