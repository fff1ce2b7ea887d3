package throttle

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

// Stats has an entry per bucket, named by its routes; the binding bucket
// is where the run waits.
func TestBucketStats(t *testing.T) {
	r := simulate(t, plans[1], workloads[0], 0.5) // essentials, create --verify-email
	bs := r.stats.Buckets
	if len(bs) != 2 {
		t.Fatalf("buckets %+v, want users write and all other", bs)
	}
	verify, users := bs[0], bs[1]
	if verify.Name != "POST /api/v2/jobs/verification-email" || verify.Limit != 10 ||
		users.Name != "POST /api/v2/users" || users.Limit != 20 {
		t.Errorf("buckets %+v", bs)
	}
	if verify.Requests+users.Requests != int64(r.requests) || verify.Requests != users.Requests {
		t.Errorf("requests %d + %d, want %d split evenly", verify.Requests, users.Requests, r.requests)
	}
	// Users are created at the pace of their verification emails, so the
	// wait is for the all-other bucket.
	if verify.Waited <= users.Waited || verify.Waited <= 0 {
		t.Errorf("waited %v on verification emails and %v on users: the binding bucket is all other", verify.Waited, users.Waited)
	}
	if verify.Rate < 2 || verify.Rate > 2.5 || users.Rate <= 0 {
		t.Errorf("rates %v and %v, want the all-other bucket's at most 150/min", verify.Rate, users.Rate)
	}
	if sum := verify.Waited + users.Waited; sum != r.stats.Waited {
		t.Errorf("bucket waits sum to %v, total %v", sum, r.stats.Waited)
	}
}

// A 429 and its retry wait count for the route's bucket; a route whose
// answers carry no headers has an entry without a limit.
func TestBucketStatsCountRetries(t *testing.T) {
	clk := clock.NewFake(t0)
	reset := map[string]string{"X-Ratelimit-Limit": "10", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "1772366403"}
	tr := New(newStub(t, step{status: 429, header: reset}, step{status: 200, header: reset}, step{status: 204}), fastOptions(clk))
	if _, _, err := drive(t, clk, tr, get(t)); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "https://tenant.test/oauth/token", nil)
	if _, _, err := drive(t, clk, tr, req); err != nil {
		t.Fatal(err)
	}
	want := []BucketStats{
		{Name: "GET /api/v2/users", Limit: 10, Rate: tr.pacer.rateOf(tr.pacer.b.groups[groupUsersRead].members[0]), Requests: 2, RateLimited: 1, Waited: 3 * time.Second, Held: 3 * time.Second},
		{Name: "POST /oauth/token", Requests: 1},
	}
	if got := tr.Stats().Buckets; !reflect.DeepEqual(got, want) {
		t.Errorf("buckets\n%+v\nwant\n%+v", got, want)
	}
}

// --rate is what users mean by requests per second: it caps the sum over
// every bucket, not each.
func TestMaxRateCapsTheSum(t *testing.T) {
	clk := clock.NewFake(t0)
	route, all := plans[1].buckets() // essentials: users 200/min and all other 150/min
	tenant := newPlanTenant(clk, route, all...)
	tr := New(tenant, Options{Clock: clk, Rate: 2, MaxRate: 2})
	if failed := runCalls(t, clk, tr, 8, 200, workloads[0].work); failed > 0 {
		t.Fatalf("%d failed", failed)
	}
	elapsed := clk.Now().Sub(t0).Seconds()
	// Either bucket alone allows more than 2/s; both together 5/s.
	if got := float64(tenant.ok-DefaultBurst) / elapsed; got > 2.0001 || got < 0.95*2 {
		t.Errorf("%.3f requests/s over both buckets, want 2 (the cap on the sum)", got)
	}
	if tenant.limited > 0 {
		t.Errorf("%d × 429 under a cap below both buckets", tenant.limited)
	}
}
