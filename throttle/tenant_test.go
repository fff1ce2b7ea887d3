package throttle

import (
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

// fakeTenant is the token bucket of docs/ARCHITECTURE.md ("Sandbox rate
// limit semantics") on a fake clock: capacity burst, refilled continuously
// at rate; a request takes a token or gets 429 with no side effect; every
// response carries the x-ratelimit-* headers. latency delays the answer
// (the token is taken on arrival).
type fakeTenant struct {
	clk     *clock.Fake
	rate    float64
	burst   int
	latency time.Duration
	jitter  time.Duration // added to latency in a fixed cycle of five steps

	mu      sync.Mutex
	tokens  float64
	last    time.Time
	ok      int
	limited int
	firstOK time.Time
	lastOK  time.Time
	grants  []time.Time // when each granted request arrived
	noHeads bool        // answer without x-ratelimit-* headers
}

func newFakeTenant(clk *clock.Fake, rate float64, burst int) *fakeTenant {
	return &fakeTenant{clk: clk, rate: rate, burst: burst, tokens: float64(burst), last: clk.Now()}
}

func (f *fakeTenant) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	f.mu.Lock()
	now := f.clk.Now()
	f.tokens = math.Min(float64(f.burst), f.tokens+f.rate*now.Sub(f.last).Seconds())
	f.last = now
	status, body := http.StatusOK, `{}`
	if f.tokens >= 1-1e-9 { // float dust must not turn a due token into a 429
		f.tokens = max(f.tokens-1, 0)
		f.ok++
		if f.firstOK.IsZero() {
			f.firstOK = now
		}
		f.lastOK = now
		f.grants = append(f.grants, now)
	} else {
		status = http.StatusTooManyRequests
		body = `{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached","errorCode":"too_many_requests"}`
		f.limited++
	}
	next := now // "now" when tokens remain
	if f.tokens < 1 {
		next = now.Add(secs((1 - f.tokens) / f.rate))
	}
	h := http.Header{}
	if !f.noHeads {
		h.Set("X-Ratelimit-Limit", strconv.Itoa(f.burst))
		h.Set("X-Ratelimit-Remaining", strconv.Itoa(int(math.Floor(f.tokens))))
		h.Set("X-Ratelimit-Reset", strconv.FormatInt(ceilUnix(next), 10))
	}
	lat := f.latency + f.jitter*time.Duration((f.ok+f.limited)%5)/4
	f.mu.Unlock()
	if lat > 0 {
		<-f.clk.After(lat)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: req}, nil
}

func ceilUnix(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}

// runPool sends n GETs from callers goroutines that share the work (as a
// worker pool does) and drives the fake clock in lockstep: it advances only
// when every caller is parked on the clock (a finished caller parks on a far
// deadline until the end), so the run depends on no real timing. It returns
// the requests that failed.
func runPool(t *testing.T, clk *clock.Fake, rt http.RoundTripper, callers, n int) (failed int) {
	t.Helper()
	var finished, failures, taken atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for int(taken.Add(1)) <= n {
				req, _ := http.NewRequest(http.MethodGet, "https://tenant.test/api/v2/users", nil)
				resp, err := rt.RoundTrip(req)
				if err != nil {
					failures.Add(1)
					continue
				}
				if resp.StatusCode != http.StatusOK {
					failures.Add(1)
				}
				drain(resp)
			}
			finished.Add(1)
			select {
			case <-stop:
			case <-clk.After(1000 * time.Hour):
			}
		}()
	}
	if !clk.Simulate(callers, func() bool { return int(finished.Load()) == callers }, 10_000_000) {
		t.Fatal("the pool never finished")
	}
	close(stop)
	wg.Wait()
	return int(failures.Load())
}
