package throttle

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

const apiURL = "https://tenant.test/api/v2/users?email=a%40b.c"

func get(t *testing.T) *http.Request {
	req, err := http.NewRequest(http.MethodGet, apiURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func post(t *testing.T, body string) *http.Request {
	req, err := http.NewRequest(http.MethodPost, apiURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

var (
	errRefused = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	errReset   = &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
)

func TestRetryWaits(t *testing.T) {
	at := func(d time.Duration) string { return t0.Add(d).Format(http.TimeFormat) }
	epoch := func(d time.Duration) string { return strconv.FormatInt(t0.Add(d).Unix(), 10) }
	tests := []struct {
		name  string
		first step
		want  []time.Duration
	}{
		{"Retry-After seconds", step{status: 429, header: map[string]string{"Retry-After": "7"}}, []time.Duration{7 * time.Second}},
		{"Retry-After date", step{status: 503, header: map[string]string{"Retry-After": at(9 * time.Second)}}, []time.Duration{9 * time.Second}},
		{"Retry-After wins over reset", step{status: 429, header: map[string]string{"Retry-After": "2", "X-Ratelimit-Reset": epoch(5 * time.Second)}}, []time.Duration{2 * time.Second}},
		{"reset ahead", step{status: 429, header: map[string]string{"X-Ratelimit-Reset": epoch(4 * time.Second)}}, []time.Duration{4 * time.Second}},
		{"reset with full headers", step{status: 429, header: map[string]string{"X-Ratelimit-Limit": "10", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": epoch(3 * time.Second)}}, []time.Duration{3 * time.Second}},
		{"reset passed: backoff", step{status: 429, header: map[string]string{"X-Ratelimit-Reset": epoch(-time.Second)}}, []time.Duration{125 * time.Millisecond}},
		{"no hint: backoff", step{status: 502}, []time.Duration{125 * time.Millisecond}},
		{"transport error before write: backoff", step{err: errRefused}, []time.Duration{125 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			s := newStub(t, tt.first, step{status: 200, body: "ok"})
			var events []RetryEvent
			o := fastOptions(clk)
			o.OnRetry = func(e RetryEvent) { events = append(events, e) }
			tr := New(s, o)
			resp, waits, err := drive(t, clk, tr, get(t))
			if err != nil {
				t.Fatal(err)
			}
			if got := readBody(t, resp); got != "ok" {
				t.Errorf("body %q", got)
			}
			if !reflect.DeepEqual(waits, tt.want) {
				t.Errorf("waits %v, want %v", waits, tt.want)
			}
			if len(events) != 1 || events[0].Attempt != 1 || events[0].Wait != tt.want[0] || events[0].Status != tt.first.status ||
				events[0].URL != "https://tenant.test/api/v2/users" || (tt.first.err != nil) != (events[0].Err != nil) {
				t.Errorf("events %+v", events)
			}
			st := tr.Stats()
			if st.Requests != 2 || st.Retries != 1 || st.Waited != tt.want[0] {
				t.Errorf("stats %+v", st)
			}
			if want := int64(0); tt.first.status == 429 {
				if st.RateLimited != 1 {
					t.Errorf("RateLimited = %d, want 1", st.RateLimited)
				}
			} else if st.RateLimited != want {
				t.Errorf("RateLimited = %d, want 0", st.RateLimited)
			}
		})
	}
}

func TestBackoffBoundedAndJittered(t *testing.T) {
	for _, tt := range []struct {
		attempt int
		r       float64
		want    time.Duration
	}{
		{0, 0, 0},
		{0, 0.5, 125 * time.Millisecond},
		{0, 0.999, 249750 * time.Microsecond},
		{1, 0.5, 250 * time.Millisecond},
		{3, 0.5, time.Second},
		{7, 0.5, 15 * time.Second},
		{8, 0.5, 15 * time.Second}, // 64s capped at 30s
		{8, 0.999, 29970 * time.Millisecond},
		{40, 0.999, 29970 * time.Millisecond},
		{1000, 0.25, 7500 * time.Millisecond},
	} {
		tr := New(nil, Options{Rand: func() float64 { return tt.r }})
		if got := tr.backoff(tt.attempt); got != tt.want {
			t.Errorf("backoff(%d) with rand %v = %v, want %v", tt.attempt, tt.r, got, tt.want)
		}
	}
}

func TestMaxRetriesThenLastResponse(t *testing.T) {
	clk := clock.NewFake(t0)
	var steps []step
	for i := range 6 {
		steps = append(steps, step{status: 503, body: "busy " + strconv.Itoa(i)})
	}
	s := newStub(t, steps...)
	o := fastOptions(clk)
	rands := []float64{0.9, 0.1, 0.5, 0.7, 0.3}
	o.Rand = func() float64 { r := rands[0]; rands = rands[1:]; return r }
	tr := New(s, o)
	resp, waits, err := drive(t, clk, tr, get(t))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 503 || readBody(t, resp) != "busy 5" {
		t.Errorf("want the last 503 with its body")
	}
	want := []time.Duration{225 * time.Millisecond, 50 * time.Millisecond, 500 * time.Millisecond, 1400 * time.Millisecond, 1200 * time.Millisecond}
	if !reflect.DeepEqual(waits, want) {
		t.Errorf("waits %v, want %v (full jitter of 250ms·2^n)", waits, want)
	}
}

func TestMaxRetriesOptions(t *testing.T) {
	for _, tt := range []struct {
		maxRetries, calls int
	}{{-1, 1}, {0, 1 + DefaultMaxRetries}, {2, 3}} {
		clk := clock.NewFake(t0)
		steps := make([]step, tt.calls)
		for i := range steps {
			steps[i] = step{status: 503}
		}
		s := newStub(t, steps...)
		o := fastOptions(clk)
		o.MaxRetries = tt.maxRetries
		resp, _, err := drive(t, clk, New(s, o), get(t))
		if err != nil || resp.StatusCode != 503 {
			t.Errorf("MaxRetries %d: %v %v, want the 503", tt.maxRetries, resp, err)
		}
	}
}

func TestPermanentNotRetried(t *testing.T) {
	clk := clock.NewFake(t0)
	const jobLimit = `{"statusCode":429,"error":"Too Many Requests","message":"There are 2 active import users jobs, please wait until some of them are finished and try again"}`
	s := newStub(t, step{status: 429, body: jobLimit})
	o := fastOptions(clk)
	o.Permanent = func(resp *http.Response, body []byte) bool {
		return resp.StatusCode == 429 && bytes.Contains(body, []byte("active import users jobs"))
	}
	resp, waits, err := drive(t, clk, New(s, o), post(t, `{}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := readBody(t, resp); resp.StatusCode != 429 || got != jobLimit {
		t.Errorf("got %d %q, want the job-limit 429 with its whole body", resp.StatusCode, got)
	}
	if len(waits) != 0 {
		t.Errorf("waited %v", waits)
	}
}

func TestPermanentSeesLongBodyAndCallerReadsItAll(t *testing.T) {
	clk := clock.NewFake(t0)
	long := strings.Repeat("x", peekLimit+100)
	s := newStub(t, step{status: 503, body: long})
	o := fastOptions(clk)
	o.Permanent = func(_ *http.Response, body []byte) bool { return len(body) == peekLimit }
	resp, _, err := drive(t, clk, New(s, o), get(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := readBody(t, resp); got != long {
		t.Errorf("body of %d bytes, want %d", len(got), len(long))
	}
}

func TestUnknownFate(t *testing.T) {
	tests := []struct {
		name   string
		method string
		steps  []step
		fate   bool // want *UnknownFateError, else a 2xx after retries
	}{
		{"POST error after write", "POST", []step{{err: errReset, wrote: true}}, true},
		{"PATCH EOF after write", "PATCH", []step{{err: io.ErrUnexpectedEOF, wrote: true}}, true},
		{"POST error before write is retried", "POST", []step{{err: errRefused}, {status: 201}}, false},
		{"POST EOF before write is retried", "POST", []step{{err: io.EOF}, {status: 201}}, false},
		{"GET error after write is retried", "GET", []step{{err: errReset, wrote: true}, {status: 200}}, false},
		{"PUT error after write is retried", "PUT", []step{{err: errReset, wrote: true}, {status: 200}}, false},
		{"POST 500", "POST", []step{{status: 500}}, true},
		{"POST 504", "POST", []step{{status: 504}}, true},
		{"PATCH 500", "PATCH", []step{{status: 500}}, true},
		{"GET 500 is retried", "GET", []step{{status: 500}, {status: 200}}, false},
		{"DELETE 504 is retried", "DELETE", []step{{status: 504}, {status: 204}}, false},
		{"POST 502 is an unknown fate: a gateway may have passed it on", "POST", []step{{status: 502}}, true},
		{"POST 503 is retried", "POST", []step{{status: 503}, {status: 201}}, false},
		{"POST 429 is retried", "POST", []step{{status: 429}, {status: 201}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			s := newStub(t, tt.steps...)
			req, _ := http.NewRequest(tt.method, apiURL, strings.NewReader(`{"email":"a@b.c","password":"s3cret!"}`))
			resp, _, err := drive(t, clk, New(s, fastOptions(clk)), req)
			var fate *UnknownFateError
			if !tt.fate {
				if err != nil || resp.StatusCode >= 300 {
					t.Fatalf("got %v %v, want success after a retry", resp, err)
				}
				return
			}
			if !errors.As(err, &fate) {
				t.Fatalf("err %v, want *UnknownFateError", err)
			}
			if resp != nil {
				t.Errorf("a response came with the error")
			}
			if fate.Method != tt.method || fate.URL != "https://tenant.test/api/v2/users" {
				t.Errorf("fate %+v", fate)
			}
			if last := tt.steps[len(tt.steps)-1]; last.err != nil && !errors.Is(err, last.err) {
				t.Errorf("%v does not wrap the cause %v", err, last.err)
			}
			var se *StatusError
			if last := tt.steps[len(tt.steps)-1]; last.status != 0 && (!errors.As(err, &se) || se.StatusCode != last.status) {
				t.Errorf("%v does not carry status %d", err, last.status)
			}
			if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "a%40b.c") {
				t.Errorf("error leaks the body or the query: %v", err)
			}
			var u interface{ UnknownFate() bool }
			if !errors.As(err, &u) || !u.UnknownFate() {
				t.Errorf("UnknownFate() not reachable through the interface")
			}
		})
	}
}

func TestNotRetried(t *testing.T) {
	clk := clock.NewFake(t0)
	cause := errors.New("unsupported protocol scheme")
	s := newStub(t, step{err: cause})
	_, _, err := drive(t, clk, New(s, fastOptions(clk)), get(t))
	if !errors.Is(err, cause) {
		t.Errorf("err %v, want the cause unretried", err)
	}

	s = newStub(t, step{status: 400, body: "bad"}, step{status: 409})
	tr := New(s, fastOptions(clk))
	for _, want := range []int{400, 409} {
		resp, _, err := drive(t, clk, tr, post(t, "{}"))
		if err != nil || resp.StatusCode != want {
			t.Errorf("got %v %v, want %d as is", resp, err, want)
		}
	}
}

func TestBodyRewound(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newStub(t, step{status: 503}, step{err: errRefused}, step{status: 201})
	const body = `{"email":"a@b.c"}`
	resp, _, err := drive(t, clk, New(s, fastOptions(clk)), post(t, body))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("%v %v", resp, err)
	}
	if want := []string{body, body, body}; !reflect.DeepEqual(s.bodies, want) {
		t.Errorf("server saw %q, want %q", s.bodies, want)
	}
}

func TestBodyWithoutGetBodyNotResent(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newStub(t, step{status: 503})
	req := post(t, "{}")
	req.GetBody = nil
	resp, _, err := drive(t, clk, New(s, fastOptions(clk)), req)
	if err != nil || resp.StatusCode != 503 {
		t.Errorf("got %v %v, want the 503 as is", resp, err)
	}
}

func TestCancelDuringRetryWait(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newStub(t, step{status: 429, header: map[string]string{"Retry-After": "60"}})
	tr := New(s, fastOptions(clk))
	ctx, cancel := context.WithCancel(context.Background())
	req := get(t).WithContext(ctx)
	done := make(chan result, 1)
	go func() {
		resp, err := tr.RoundTrip(req)
		done <- result{resp, err}
	}()
	clk.BlockUntil(1) // parked in the 60s wait
	cancel()
	r := <-done // the clock never moves: only the cancellation can end the wait
	if !errors.Is(r.err, context.Canceled) || r.resp != nil {
		t.Errorf("got %v %v, want context.Canceled", r.resp, r.err)
	}
}

func TestCancelDuringPacingWait(t *testing.T) {
	clk := clock.NewFake(t0)
	s := newStub(t, step{status: 200})
	tr := New(s, Options{Clock: clk, Rate: 0.1, Burst: 1})
	if resp, err := tr.RoundTrip(get(t)); err != nil {
		t.Fatal(err)
	} else {
		drain(resp)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := tr.RoundTrip(post(t, "{}").WithContext(ctx))
		done <- err
	}()
	clk.BlockUntil(1) // the limiter holds the second request for 10s
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	if w := tr.Stats().Waited; w != 0 {
		t.Errorf("Waited %v on a clock that never moved", w)
	}
}

func TestHeadroom(t *testing.T) {
	clk := clock.NewFake(t0)
	reset := t0.Add(2 * time.Second)
	s := newStub(t, step{status: 200, header: map[string]string{
		"X-Ratelimit-Limit": "50", "X-Ratelimit-Remaining": "42", "X-Ratelimit-Reset": strconv.FormatInt(reset.Unix(), 10),
	}})
	tr := New(s, fastOptions(clk))
	if _, _, _, ok := tr.Headroom(); ok {
		t.Error("headroom known before any response")
	}
	resp, _, err := drive(t, clk, tr, get(t))
	if err != nil {
		t.Fatal(err)
	}
	drain(resp)
	limit, remaining, r, ok := tr.Headroom()
	if !ok || limit != 50 || remaining != 42 || !r.Equal(reset) {
		t.Errorf("Headroom() = %d %d %v %v", limit, remaining, r, ok)
	}
}
