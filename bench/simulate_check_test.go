package bench

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/sandbox"
)

// simulate advances the clock only when every goroutine of the run waits:
// a goroutine still computing when another already waits on the clock gets
// its own wait measured from the time it asked, not after the other's
// deadline (a driver that advanced whenever something waited would fire
// the second wait at 1.1s).
func TestSimulateWaitsForWork(t *testing.T) {
	clk := clock.NewFake(simStart)
	var fired time.Duration
	err := simulate(clk, func() error {
		other := make(chan struct{})
		go func() { <-clk.After(time.Second); close(other) }()
		clk.BlockUntil(1)
		spin(20 * time.Millisecond) // real work: no tenant time passes
		<-clk.After(100 * time.Millisecond)
		fired = clk.Now().Sub(simStart)
		<-other
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fired != 100*time.Millisecond {
		t.Errorf("the wait fired %v after the start, want 100ms", fired)
	}
	if got := clk.Now().Sub(simStart); got != time.Second {
		t.Errorf("the run ended %v after the start, want 1s", got)
	}
}

// spin computes for about d of wall time without waiting on anything.
func spin(d time.Duration) {
	end := time.Now().Add(d)
	x := 0
	for time.Now().Before(end) {
		x++
	}
	_ = x
}

func TestSimulateReturnsTheError(t *testing.T) {
	want := errors.New("stopped")
	err := simulate(clock.NewFake(simStart), func() error { return want })
	if !errors.Is(err, want) {
		t.Errorf("err = %v, want %v", err, want)
	}
}

func TestParseStates(t *testing.T) {
	dump := []byte(`goroutine 7 [running]:
main.main()
	/x/main.go:10 +0x1d

goroutine 12 [chan receive, 2 minutes]:
main.f()

goroutine 13 [select, locked to thread]:
main.g()

goroutine 14 [sync.Mutex.Lock]:
goroutine 15 [IO wait]:
`)
	got := parseStates(dump)
	want := map[int64]string{7: "running", 12: "chan receive", 13: "select", 14: "sync.Mutex.Lock", 15: "IO wait"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for id, s := range want {
		if got[id] != s {
			t.Errorf("goroutine %d: %q, want %q", id, got[id], s)
		}
	}
	before := map[int64]string{7: "running"}
	if settled(before, got) {
		t.Errorf("a goroutine waiting for network I/O counted as settled")
	}
	delete(got, 15)
	if !settled(before, got) {
		t.Errorf("channel, select and mutex waits (and an older running goroutine) not settled")
	}
}

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
