// Package throttle paces HTTP requests to a tenant's rate limit and retries
// the failures a retry can cure, as an http.RoundTripper (rclone's tpslimit
// pattern). It knows no Auth0 types: the x-ratelimit-* header names are its
// only Auth0 knowledge.
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
// Every attempt first waits on a golang.org/x/time/rate limiter (rate r,
// then burst L once L is known), then on a mirror of the tenant's bucket.
// Both wait on the injected clock, never on real time, and stop at once
// when the context ends.
//
// The mirror is a brake that keeps a pool of concurrent callers from
// spending tokens the tenant has not shown: after each response it sets
// budget = remaining - (other requests in flight), assuming none of those
// has been counted yet, and each send takes one from it. The budget grows
// back with the refill estimate (est × time since the response) and, when
// remaining was 0, by one token at x-ratelimit-reset. A request that finds
// less than one token waits for the earliest of those refills (or polls
// at 1/r for a fresher response from another caller). An answer to a request
// sent before the one the mirror last used describes an older bucket and is
// ignored (concurrent answers arrive in any order). The mirror refills at a
// lower bound of the estimate (the least-squares slope minus two standard
// errors, minus 1/span, and at most 98% of it): in steady state requests
// land on whole-token instants, where a refill predicted a hair early is a
// 429.
//
// The pace r comes from the refill estimate. Between two observations
// (time t, remaining m, n = responses so far that took a token)
//
//	m₂ + n₂ = m₁ + n₁ + R·(t₂ − t₁) − (floor error < 1)
//
// holds as long as the bucket never filled up in between (full means refill
// was thrown away). So y = remaining + n is a line of slope R over time;
// the pacer fits it by least squares over the samples of the last 30s since
// the bucket was last seen full (at least 6 samples over 3s), which
// averages out the floor error and the reordering of concurrent responses,
// and sets r = est. Tokens the tenant grants other clients of the same
// tenant simply lower the measured slope: est is the rate available to us.
//
// When a response shows the bucket full (remaining ≥ L−1) the samples
// restart, because we are slower than the tenant allows. If callers were
// held by the limiter in the last second, r grows by ×2 per second of
// continued fullness, so a start at the safe default (2/s) reaches an
// Enterprise tenant's 16/s in about three seconds; an overshoot drains the
// bucket, which starts a fresh estimate, while the mirror keeps the drain
// from turning into 429s. Steady state: r ≈ R, the bucket level stays put,
// and the mirror rarely has to act. MaxRate (the user's --rate) caps r and
// the limiter's burst; adaptation never exceeds it.
//
// # Retries
//
// Retried for every method: a 429 (unless Options.Permanent says the caller
// must see it), 502, 503, and a transport error before the request was fully
// written (httptrace WroteRequest not called). Retried for idempotent methods
// only: other 5xx, and errors after the request was written. A POST or PATCH
// in those cases returns *UnknownFateError and is never sent again: the
// caller settles it by reading the tenant back. The wait is Retry-After
// (seconds or HTTP date), else x-ratelimit-reset when ahead, else exponential
// backoff with full jitter (base 250ms, cap 30s); each retry then goes
// through the pacer again. After MaxRetries the last response (with its body)
// or error is returned. A body without GetBody is never resent.
package throttle
