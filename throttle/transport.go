package throttle

import (
	"bytes"
	"context"
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
	base     http.RoundTripper
	opts     Options
	pacer    *pacer
	refusals *Refusals

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
	ref := o.Refusals
	if ref == nil {
		ref = NewRefusals(o.MaxWait)
	}
	return &Transport{base: base, opts: o, pacer: newPacer(o), refusals: ref}
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
		Buckets:     t.pacer.bucketStats(t.opts.Clock.Now()),
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

// verdict is what a response or transport error means for the request.
type verdict int

const (
	final      verdict = iota // hand the response to the caller
	refused                   // a 429 or a connection failure: wait it out (MaxWait)
	serverFail                // a 5xx a retry may cure (MaxRetries)
)

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
	resendable := !hasBody || req.GetBody != nil // the body can be sent twice
	canRepeat := t.opts.Resendable || idempotent(method)

	var refusals, failures int // retries so far of each kind: their backoff exponents
	for attempt := 0; ; attempt++ {
		ticket, err := t.acquire(ctx, route)
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

		var (
			wait   time.Duration
			status int
			kind   verdict
		)
		if err != nil {
			t.pacer.release(ticket, nil, false)
			var inner *RefusedError
			if errors.As(err, &inner) {
				// A Transport inside this one (the token endpoint's)
				// already waited the run's refusals out.
				return nil, err
			}
			if wrote.Load() && !canRepeat {
				return nil, &UnknownFateError{Method: method, URL: target, Err: err}
			}
			if ctx.Err() != nil {
				if !errors.Is(err, ctx.Err()) {
					err = fmt.Errorf("%w (%w)", ctx.Err(), err)
				}
				return nil, fmt.Errorf("throttle: %s %s: %w", method, target, err)
			}
			if (!wrote.Load() && !isTransportError(err)) || !resendable {
				return nil, fmt.Errorf("throttle: %s %s: %w", method, target, err)
			}
			// The tenant did not answer: before the request was written
			// nothing reached it, and after, repeating it is harmless.
			kind, wait = refused, t.backoff(refusals)
		} else {
			status = resp.StatusCode
			var fate *UnknownFateError
			kind, fate = t.judge(ticket, method, canRepeat, resp)
			if fate != nil {
				drain(resp)
				fate.URL = target
				return nil, fate
			}
			if kind == final || !resendable || (kind == serverFail && failures >= t.opts.MaxRetries) {
				return resp, nil
			}
			var ok bool
			if wait, ok = t.serverWait(resp); !ok {
				n := failures
				if kind == refused {
					n = refusals
				}
				wait = t.backoff(n)
			}
		}

		switch kind {
		case refused:
			left, ok := t.refusals.refused(t.opts.Clock.Now(), wait)
			if !ok {
				return t.giveUp(req, method, resp, err)
			}
			wait = left
			refusals++
		case serverFail:
			failures++
		}
		if resp != nil {
			drain(resp)
		}

		if t.opts.OnRetry != nil {
			t.opts.OnRetry(RetryEvent{Method: method, URL: target, Route: Route(req.URL), Attempt: attempt + 1, Status: status, Err: err, Wait: wait})
		}
		if err := t.hold(ctx, route, wait); err != nil {
			return nil, fmt.Errorf("throttle: waiting to retry %s %s: %w", method, target, err)
		}
	}
}

// acquire waits for the pacer, counting the wait.
func (t *Transport) acquire(ctx context.Context, route string) (*grant, error) {
	held := t.pacer.meter(route)
	held.begin(t.opts.Clock.Now())
	ticket, waited, err := t.pacer.acquire(ctx, route)
	held.end(t.opts.Clock.Now())
	t.addWait(route, waited)
	return ticket, err
}

// hold waits d before a retry, counting the wait.
func (t *Transport) hold(ctx context.Context, route string, d time.Duration) error {
	held := t.pacer.meter(route)
	start := t.opts.Clock.Now()
	held.begin(start)
	err := sleep(ctx, t.opts.Clock, d)
	now := t.opts.Clock.Now()
	held.end(now)
	t.addWait(route, now.Sub(start))
	return err
}

// giveUp ends a request the tenant kept refusing: a *RefusedError once
// the run's MaxWait is spent, or, when refusals are not waited out at
// all, the 429 or the connection error itself.
func (t *Transport) giveUp(req *http.Request, method string, resp *http.Response, err error) (*http.Response, error) {
	if t.refusals.MaxWait() <= 0 {
		if err != nil {
			return nil, fmt.Errorf("throttle: %s %s: %w", method, redactURL(req.URL), err)
		}
		return resp, nil
	}
	e := &RefusedError{For: t.refusals.MaxWait(), Method: method, Route: Route(req.URL), Err: err}
	if resp != nil {
		e.Status = resp.StatusCode
		drain(resp)
	}
	return nil, e
}

// judge classifies a response, releasing its pacer slot: hand it to the
// caller, wait a refusal out, retry a server failure, or report an unknown
// fate. canRepeat: the request may be sent again even if it took effect.
func (t *Transport) judge(ticket *grant, method string, canRepeat bool, resp *http.Response) (verdict, *UnknownFateError) {
	status := resp.StatusCode
	if status != http.StatusTooManyRequests && status < 500 {
		t.pacer.release(ticket, resp.Header, false)
		t.refusals.answered()
		return final, nil
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
		// The tenant answered (the job limit is its scheduling signal).
		t.refusals.answered()
		return final, nil
	case status == http.StatusTooManyRequests:
		// Nothing happened: the rate limit refused it.
		return refused, nil
	// 503 says the tenant did not act. A 502 comes from a gateway that may
	// have passed the request on before it failed, so, like 500 and 504,
	// it is retried only when repeating is harmless.
	case status == http.StatusServiceUnavailable, canRepeat:
		return serverFail, nil
	default:
		return final, &UnknownFateError{Method: method, Err: &StatusError{StatusCode: status}}
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
