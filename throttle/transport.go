package throttle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"
)

// Transport paces requests and retries the failures a retry can cure. It is
// safe for concurrent use.
type Transport struct {
	base  http.RoundTripper
	opts  Options
	pacer *pacer

	requests, retries, rateLimited atomic.Int64
	waitMu                         sync.Mutex
	waited                         time.Duration
}

var _ http.RoundTripper = (*Transport)(nil)

// New wraps base (http.DefaultTransport when nil).
func New(base http.RoundTripper, o Options) *Transport {
	if base == nil {
		base = http.DefaultTransport
	}
	o = o.withDefaults()
	return &Transport{base: base, opts: o, pacer: newPacer(o)}
}

// CurrentRate is the pace in requests per second while the tenant's bucket
// is empty: a lower bound of its refill rate (capped by MaxRate), or the
// limiter's rate before any x-ratelimit-* headers (doc.go).
func (t *Transport) CurrentRate() float64 { return t.pacer.currentRate() }

// Headroom is the last x-ratelimit-* triple seen; ok is false before any.
func (t *Transport) Headroom() (limit, remaining int, reset time.Time, ok bool) {
	return t.pacer.headroom()
}

// Stats returns the counters so far.
func (t *Transport) Stats() Stats {
	t.waitMu.Lock()
	waited := t.waited
	t.waitMu.Unlock()
	return Stats{
		Requests:    t.requests.Load(),
		Retries:     t.retries.Load(),
		RateLimited: t.rateLimited.Load(),
		Waited:      waited,
		Buckets:     t.pacer.bucketStats(),
	}
}

// addWait counts d in the total and in route's bucket.
func (t *Transport) addWait(route string, d time.Duration) {
	t.waitMu.Lock()
	t.waited += d
	t.waitMu.Unlock()
	t.pacer.addWait(route, d)
}

// idempotent methods may be sent again even when the first attempt may have
// reached the server.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	target := redactURL(req.URL)
	route := routeKey(req) // which of the tenant's buckets paces it
	hasBody := req.Body != nil && req.Body != http.NoBody
	maxRetries := t.opts.MaxRetries
	if hasBody && req.GetBody == nil {
		maxRetries = 0 // the body cannot be sent twice
	}

	for attempt := 0; ; attempt++ {
		ticket, waited, err := t.pacer.acquire(ctx, route)
		t.addWait(route, waited)
		if err != nil {
			if attempt == 0 && hasBody {
				req.Body.Close() // a RoundTripper always closes the body
			}
			return nil, fmt.Errorf("throttle: waiting to send %s %s: %w", method, target, err)
		}
		r := req
		if attempt > 0 && hasBody {
			body, err := req.GetBody()
			if err != nil {
				t.pacer.release(ticket, nil, false)
				return nil, fmt.Errorf("throttle: rewinding the body of %s %s: %w", method, target, err)
			}
			r = req.WithContext(ctx)
			r.Body = body
		}
		var wrote atomic.Bool
		trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				wrote.Store(true)
			}
		}}
		r = r.WithContext(httptrace.WithClientTrace(ctx, trace))

		t.requests.Add(1)
		if attempt > 0 {
			t.retries.Add(1)
		}
		resp, err := t.base.RoundTrip(r)

		var wait time.Duration
		var status int
		if err != nil {
			t.pacer.release(ticket, nil, false)
			if wrote.Load() && !idempotent(method) {
				return nil, &UnknownFateError{Method: method, URL: target, Err: err}
			}
			if ctx.Err() != nil {
				if !errors.Is(err, ctx.Err()) {
					err = fmt.Errorf("%w (%w)", ctx.Err(), err)
				}
				return nil, fmt.Errorf("throttle: %s %s: %w", method, target, err)
			}
			if (!wrote.Load() && !isTransportError(err)) || attempt >= maxRetries {
				return nil, fmt.Errorf("throttle: %s %s: %w", method, target, err)
			}
			wait = t.backoff(attempt)
		} else {
			status = resp.StatusCode
			retry, fate := t.judge(ticket, method, resp)
			if fate != nil {
				drain(resp)
				fate.URL = target
				return nil, fate
			}
			if !retry || attempt >= maxRetries {
				return resp, nil
			}
			var ok bool
			if wait, ok = t.serverWait(resp); !ok {
				wait = t.backoff(attempt)
			}
			if wait > maxServerWait {
				return resp, nil
			}
			drain(resp)
		}

		if t.opts.OnRetry != nil {
			t.opts.OnRetry(RetryEvent{Method: method, URL: target, Attempt: attempt + 1, Status: status, Err: err, Wait: wait})
		}
		start := t.opts.Clock.Now()
		err = sleep(ctx, t.opts.Clock, wait)
		t.addWait(route, t.opts.Clock.Now().Sub(start))
		if err != nil {
			return nil, fmt.Errorf("throttle: waiting to retry %s %s: %w", method, target, err)
		}
	}
}

// judge classifies a response, releasing its pacer slot: retry it, hand it
// to the caller (retry false, fate nil), or report an unknown fate.
func (t *Transport) judge(ticket *grant, method string, resp *http.Response) (retry bool, fate *UnknownFateError) {
	status := resp.StatusCode
	if status != http.StatusTooManyRequests && status < 500 {
		t.pacer.release(ticket, resp.Header, false)
		return false, nil
	}
	if status == http.StatusTooManyRequests {
		t.rateLimited.Add(1)
	}
	permanent := false
	if t.opts.Permanent != nil {
		body := peekBody(resp)
		permanent = t.opts.Permanent(resp, body)
	}
	t.pacer.release(ticket, resp.Header, status == http.StatusTooManyRequests && !permanent)
	switch {
	case permanent:
		return false, nil
	// 429 and 503 say the tenant did not act. A 502 comes from a gateway
	// that may have passed the request on before it failed, so, like 500
	// and 504, it is retried only when repeating is harmless.
	case status == http.StatusTooManyRequests, status == http.StatusServiceUnavailable:
		return true, nil
	case idempotent(method):
		return true, nil
	default:
		return false, &UnknownFateError{Method: method, Err: &StatusError{StatusCode: status}}
	}
}

// serverWait is the wait the server asked for: Retry-After, else a reset
// time still ahead.
func (t *Transport) serverWait(resp *http.Response) (time.Duration, bool) {
	now := t.opts.Clock.Now()
	if d, ok := parseRetryAfter(resp.Header, now); ok {
		return d, true
	}
	if reset, ok := parseReset(resp.Header); ok && reset.After(now) {
		return reset.Sub(now), true
	}
	return 0, false
}

// backoff is exponential with full jitter: uniform in [0, min(cap, base*2^n)).
func (t *Transport) backoff(attempt int) time.Duration {
	ceiling := float64(backoffCap)
	if attempt < 32 {
		ceiling = math.Min(ceiling, float64(backoffBase)*math.Exp2(float64(attempt)))
	}
	return time.Duration(t.opts.Rand() * ceiling)
}

// peekLimit bounds what Permanent gets to see; error bodies are small.
const peekLimit = 64 << 10

// peekBody reads the start of the body and puts it back, so the caller still
// reads the whole body.
func peekBody(resp *http.Response) []byte {
	if resp.Body == nil || resp.Body == http.NoBody {
		return nil
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, peekLimit))
	var rest io.Reader = resp.Body
	if err != nil {
		rest = errReader{err}
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), rest), resp.Body}
	return head
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// drain lets the connection be reused: a discarded body is read (a little)
// and closed.
func drain(resp *http.Response) {
	if resp.Body == nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, peekLimit))
	resp.Body.Close()
}
