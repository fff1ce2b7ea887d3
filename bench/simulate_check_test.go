package bench

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/sandbox"
)

func TestFiguresOf(t *testing.T) {
	at := func(s float64) time.Time { return simStart.Add(time.Duration(s * float64(time.Second))) }
	buckets := map[string]sandbox.BucketStats{
		"users_write": {Burst: 20, PerSecond: 200.0 / 60},
		"other":       {Burst: 10, PerSecond: 2.5},
	}
	xs := []exchange{
		{at: at(0), method: "POST", path: "/api/v2/jobs/users-imports", status: http.StatusAccepted, admittedBy: []string{"other"}},
		{at: at(0), method: "POST", path: "/api/v2/users", status: http.StatusCreated, admittedBy: []string{"users_write"}},
		{at: at(1), method: "POST", path: "/api/v2/jobs/users-imports", status: http.StatusAccepted, admittedBy: []string{"other"}},
		{at: at(2), method: "GET", path: "/api/v2/jobs/job_1", status: http.StatusOK, admittedBy: []string{"other"}},
		{at: at(2), method: "GET", path: "/api/v2/jobs/job_1/errors", status: http.StatusNoContent, admittedBy: []string{"other"}},
		{at: at(3), method: "POST", path: "/api/v2/jobs/users-imports", status: http.StatusTooManyRequests},
		{at: at(3), method: "GET", path: "/api/v2/jobs/job_2", status: http.StatusTooManyRequests, refusedBy: "other"},
		{at: at(4), method: "POST", path: "/api/v2/jobs/users-imports", status: http.StatusAccepted, admittedBy: []string{"other"}},
	}
	f := figuresOf(xs, buckets, 2*time.Second)
	// other: 5 admitted from 0s to 4s, allowed 10 + 2.5×4 = 20; users_write
	// 1 of 20.
	if f.binding != "other" || f.admitted != 5 || f.allowed != 20 {
		t.Errorf("binding %s: %d of %v, want other: 5 of 20", f.binding, f.admitted, f.allowed)
	}
	if f.requests != 8 || f.rateLimited != 1 || f.jobLimited != 1 {
		t.Errorf("%d requests, %d rate-limited, %d job-limited; want 8, 1, 1", f.requests, f.rateLimited, f.jobLimited)
	}
	if f.polls != 1 || f.pollBucket != "other" || f.pollBucketAllowed != 20 || f.pollBucketUsed != 5 {
		t.Errorf("polls %d in %s (%v allowed, %d used), want 1 in other (20, 5)", f.polls, f.pollBucket, f.pollBucketAllowed, f.pollBucketUsed)
	}
	// Jobs at 0, 1 and 4 of 2s: both slots busy from 1 to 2, of 0..4.
	if f.importJobs != 3 || f.slotsBusy != 0.25 {
		t.Errorf("%d jobs, both busy %v; want 3, 0.25", f.importJobs, f.slotsBusy)
	}
	if f.span != 4*time.Second {
		t.Errorf("span %v, want 4s", f.span)
	}
}

func TestTightest(t *testing.T) {
	buckets := map[string]sandbox.BucketStats{"global": {PerSecond: 16}, "organizations_write": {PerSecond: 2.5}}
	if got := tightest([]string{"global", "organizations_write"}, buckets); got != "organizations_write" {
		t.Errorf("tightest %s, want organizations_write", got)
	}
}

func TestStopReason(t *testing.T) {
	err := errors.New("create stopped: creating /tmp/x/users.ndjson:10: sending a verification email to a@x: sending verification email to auth0|1: 429 Too Many Requests: Global limit has been reached (too_many_requests)")
	want := "sending verification email to auth0|1: 429 Too Many Requests: Global limit has been reached (too_many_requests)"
	if got := stopReason(err); got != want {
		t.Errorf("stopReason = %q, want %q", got, want)
	}
}
