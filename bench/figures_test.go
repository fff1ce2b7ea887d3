package bench

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/a0bulk/a0bulk/sandbox"
)

// planFigures are what one simulated run against a plan preset shows, all
// from the tenant's side (the tape and the sandbox's bucket counters).
type planFigures struct {
	// binding is the bucket whose allowance the run used most: its
	// admitted requests over what it could admit from its first admitted
	// request to its last (Burst + PerSecond × span).
	binding           string
	bindingBurst      int
	bindingPerSecond  float64
	admitted          int
	allowed           float64
	requests          int // Management API requests the tenant answered
	rateLimited       int // of which 429 by a bucket (the rate limit)
	jobLimited        int // of which 429 for the import-job limit
	span              time.Duration
	importJobs        int
	slotsBusy         float64 // share of first-to-last job start with both slots running
	pollBucket        string  // the bucket GET /jobs/{id} is counted in
	polls             int     // GET /jobs/{id} admitted
	pollBucketAllowed float64 // that bucket's allowance over the run
	pollBucketUsed    int     // requests that bucket admitted in the run
}

// used is admitted / allowed of the binding bucket.
func (f planFigures) used() float64 {
	if f.allowed == 0 {
		return 0
	}
	return float64(f.admitted) / f.allowed
}

// figuresOf reads a run's figures from its exchanges and the tenant's
// final bucket counters. Jobs last jobDur in the tenant (pending then
// processing); the /oauth/token bucket is the Authentication API's and is
// left out.
func figuresOf(xs []exchange, buckets map[string]sandbox.BucketStats, jobDur time.Duration) planFigures {
	var f planFigures
	if len(xs) == 0 {
		return f
	}
	f.span = xs[len(xs)-1].at.Sub(xs[0].at)
	first, last := map[string]time.Time{}, map[string]time.Time{}
	admitted := map[string]int{}
	var starts []time.Time
	for _, x := range xs {
		f.requests++
		switch {
		case x.refusedBy != "":
			f.rateLimited++
		case x.status == http.StatusTooManyRequests:
			f.jobLimited++
		}
		for _, name := range x.admittedBy {
			if _, ok := first[name]; !ok {
				first[name] = x.at
			}
			last[name] = x.at
			admitted[name]++
		}
		if x.method == http.MethodPost && x.path == "/api/v2/jobs/users-imports" && x.status == http.StatusAccepted {
			starts = append(starts, x.at)
		}
		if isPoll(x) && len(x.admittedBy) > 0 {
			f.polls++
			if f.pollBucket == "" {
				f.pollBucket = tightest(x.admittedBy, buckets)
			}
		}
	}
	names := make([]string, 0, len(admitted))
	for name := range admitted {
		names = append(names, name)
	}
	slices.Sort(names) // a tie goes to the same bucket every time
	for _, name := range names {
		b := buckets[name]
		allowed := float64(b.Burst) + b.PerSecond*last[name].Sub(first[name]).Seconds()
		if f.binding == "" || float64(admitted[name])/allowed > f.used() {
			f.binding, f.admitted, f.allowed = name, admitted[name], allowed
			f.bindingBurst, f.bindingPerSecond = b.Burst, b.PerSecond
		}
	}
	if f.pollBucket != "" {
		b := buckets[f.pollBucket]
		f.pollBucketAllowed = float64(b.Burst) + b.PerSecond*f.span.Seconds()
		f.pollBucketUsed = admitted[f.pollBucket]
	}
	f.importJobs = len(starts)
	f.slotsBusy = bothBusy(starts, jobDur)
	return f
}

// isPoll: reading a job's status (not its errors).
func isPoll(x exchange) bool {
	rest, ok := strings.CutPrefix(x.path, "/api/v2/jobs/")
	return ok && x.method == http.MethodGet && !strings.Contains(rest, "/")
}

// tightest is the bucket of names with the lowest sustained rate: the one
// that bounds a request counted in several (Enterprise's global and the
// endpoint's).
func tightest(names []string, buckets map[string]sandbox.BucketStats) string {
	return slices.MinFunc(names, func(a, b string) int {
		if c := cmp.Compare(buckets[a].PerSecond, buckets[b].PerSecond); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
}
