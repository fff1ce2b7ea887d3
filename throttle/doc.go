// Package throttle paces HTTP requests to a tenant's rate limit and retries
// the failures a retry can cure, as an http.RoundTripper (rclone's tpslimit
// pattern). It knows no Auth0 types: its Auth0 knowledge is the
// x-ratelimit-* header names, and Auth0's published plan limits (plans.go),
// which turn a bucket size into a planning pace.
//
// # The tenant's bucket
//
// The tenant keeps one token bucket: capacity L, refilled continuously at R
// tokens/s; a request takes a token, and with less than one it gets 429 and
// no side effect. Every response says x-ratelimit-limit (L),
// x-ratelimit-remaining (whole tokens left after this request) and
// x-ratelimit-reset (epoch seconds, rounded up, of the next whole token).
// Neither R nor the fraction of a token is sent; both matter at low rates,
// where a whole token takes half a second.
//
// # Pacing model
//
// Until the first answer with headers, a golang.org/x/time/rate limiter
// holds requests to the safe default (Options.Rate and Burst: DefaultRate,
// DefaultBurst), which is also all a tenant whose answers carry no
// x-ratelimit-* headers ever gets. From then on a mirror of the tenant's
// bucket decides alone: a request goes whenever the mirror holds a token
// for it, so a full bucket of L is spent at once (the tenant grants it) and
// there is no ramp-up. MaxRate (the user's --rate) keeps the limiter on as
// a ceiling (rate MaxRate, burst at most L); adaptation never exceeds it.
// Every wait is on the injected clock, never real time, and stops at once
// when the context ends. Waiting callers look again at the earliest time
// the mirror promises a token and, while answers are in flight (which may
// show more), every max(10ms, 1/(4r)): a shown token waits for us at most a
// quarter of a token's time.
//
// The mirror keeps lower bounds of the tokens new sends may take, each
// growing at the refill bound r from its time on, and takes one from each
// per send. Concurrent requests reach the tenant in any order, so an answer
// is no "latest" state: its remaining may predate the takes of any request
// answered since this one left and of any still in flight. An answer thus
// gives remaining − (those requests), and the mirror keeps the larger of
// that and what it had: both are lower bounds. An answer showing none left
// adds one: at x-ratelimit-reset the tenant has added the next whole token.
// A request answered without headers (a transport error) tells nothing and
// keeps its token spent; the refill brings the budget back.
//
// # The refill bound
//
// Neither R nor the fraction of a token is sent, but the count y = tokens +
// tokens taken so far grows by exactly R·t (less while the bucket is full,
// which only loosens the bound below). Each answer pins y at its arrival
// into an interval: at least lo = remaining + (tokens taken by requests
// answered before it left) + (1 unless a 429), and below lo + slack, where
// slack = 1 (the floor of remaining) + the requests in flight alongside it
// (they may or may not have been counted). Arrival lies between sending and
// answer, so for an earlier answer a and a later one b
//
//	R ≥ (b.lo − a.lo − a.slack) / (time b was answered − time a was sent)
//
// whatever the floor error, the latency and the reordering. r is the best
// such bound from the anchors of the last 60s to the newest answer; it
// needs no fit and cannot overshoot R, so pacing at it sends nothing into
// an empty bucket (unless other clients of the tenant start to take more). An underestimate costs nothing: tokens r does not promise
// stay in the bucket, the next answer shows them and they go at once. Until
// r rests on 3s of answers the mirror refills at least at min(Rate,
// DefaultRate): no Auth0 plan refills slower. Tokens the tenant grants
// other clients lower the bound: r is the rate available to us.
// CurrentRate reports r (or the limiter's rate before any headers).
//
// # Retries
//
// Refusals are waited out, never counted: a 429 (unless Options.Permanent
// says the caller must see it) and a connection failure before the request
// was fully written (httptrace WroteRequest not called), or after it for
// an idempotent method (or any, with Options.Resendable: the token
// request). The tenant did nothing with them, so they are retried until it
// has refused every request of the run for MaxWait (Refusals: any other
// answer to any request stops that clock), and then fail with
// *RefusedError, which says so. 5xx answers are retried at most MaxRetries
// times per request: 503 for every method, the others (and errors after
// the request was written) for idempotent ones only. A POST or PATCH in
// those cases returns *UnknownFateError and is never sent again: the
// caller settles it by reading the tenant back. The wait is Retry-After
// (seconds or HTTP date), else x-ratelimit-reset when ahead, else
// exponential backoff with full jitter (base 250ms, cap 30s); each retry
// then goes through the pacer again. OnRetry sees every retry before its
// wait. A body without GetBody is never resent: the caller gets the answer
// or error as is.
package throttle
