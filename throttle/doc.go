// Package throttle paces HTTP requests to a tenant's rate limits and retries
// the failures a retry can cure, as an http.RoundTripper (rclone's tpslimit
// pattern). It knows no Auth0 types. Its Auth0 knowledge is the
// x-ratelimit-* header names, the shape of Management API paths and Auth0's
// published endpoint groups (routes.go), and the published plan limits
// (plans.go).
//
// # Buckets
//
// Auth0 keeps token buckets: one global bucket on Free and Enterprise, a
// bucket per endpoint group on Essentials/Professional (users write, users
// read, connections read, organizations…, all other endpoints), and on
// Enterprise also buckets of their own for some organization endpoints,
// checked after the global one. Every answer's x-ratelimit-limit (the
// burst), x-ratelimit-remaining (whole tokens left after it) and
// x-ratelimit-reset (epoch seconds, rounded up, of the next whole token)
// describe the bucket that answered it. No header names the bucket; the
// pacer infers which routes share one:
//
//   - A request's route is its method and path template (PATCH
//     /api/v2/users/{id}); a route's group is Auth0's published group for
//     it. Routes of one group share a bucket on every plan.
//   - Groups whose answers show the same x-ratelimit-limit share a mirror:
//     one global bucket. This holds on Free and Enterprise, and on
//     Essentials for the four basic groups, whose bursts differ (20, 40, 5,
//     10).
//   - Once the tenant shows a bucket per group, each group has its own
//     mirror, whatever the bursts. The proof is two basic groups whose
//     answers show different bursts, or one basic group showing a burst
//     Auth0 publishes only for that group's own bucket and for no global
//     one (users write 20, users read 40, connections 5). On Essentials,
//     organization member writes show the users write burst (20) in a
//     bucket of their own; this proof keeps them apart. A mirror fed by one
//     group becomes that group's; one fed by several is dropped, and those
//     groups start again from their next answers.
//   - Once any answer has shown a bucket, a route whose group has none yet
//     is paced conservatively: one request at a time until an answer shows
//     its bucket. Until the tenant
//     shows a bucket per group, that request also needs a token in every
//     bucket seen, and takes one from each: it may be in the global one.
//     On Free, a verification email's first request does not overdraw the
//     bucket the user creates just emptied.
//   - A group whose answers show two bursts takes from both buckets from
//     then on. For example, an Enterprise organization route shows its own
//     bucket until a global 429 shows the global one.
//
// What stays inferred: two groups that show the same burst no plan
// publishes (a custom limit) are taken to share a bucket. If they have two,
// each one's 429s make its mirror forget what it assumed. Requests in two
// buckets are charged only to the buckets their answers have shown.
//
// # One bucket
//
// A mirror of a bucket keeps lower bounds ("tracks") of the tokens new
// requests may take. A track is at least v tokens at time a, plus the
// refill credited since a (see below), never more than the burst, less one
// for each request let through after it was made. A request goes when some
// track promises a token. The burst is the tenant's to give, so a full
// bucket of L is spent at once, with no ramp-up.
//
// Concurrent requests reach the tenant in any order, so an answer shows no
// "latest" state: its remaining may predate the takes of any request
// answered since this one left and of any still in flight. An answer
// therefore makes the track remaining − (those requests) at its arrival.
// An answer showing none left also makes one at x-ratelimit-reset: by then
// the tenant has added the next whole token. Tracks that another promises
// at least as much as, at every time from now on, are dropped. A request
// answered without this bucket's headers (a transport error, another
// bucket's answer) tells nothing and keeps its token spent. With no track
// left, one starts from zero tokens now: the bucket is never below zero.
// A 429 cannot happen while the mirror is right and no other client takes
// tokens, so it drops every older track and, for the refill bound, every
// anchor older than a few seconds.
//
// # Refill in steps
//
// Auth0 refills a per-second limit "by milliseconds" and a per-minute one
// "on a second basis": rate/60 at each whole second. A mirror that credits
// a continuous refill against steps spends tokens before they are added.
// Against a bucket of 200 a minute it got a 429 for every request granted.
// Each mirror credits no token before it is added under any shape the
// answers leave possible (refill.go):
//
//   - continuous (a burst Auth0 publishes only for per-second buckets: 2,
//     50): the rate times the time since the track, less a millisecond of
//     granularity. A 429, or a stretch in which a continuous refill at the
//     proven rate would have added more than the answers show, changes the
//     shape to unknown.
//   - unknown (every other burst): one step per whole second since the
//     track, which a refill in steps of a second adds at any phase. Or,
//     if more, what both a continuous refill and steps at the phases still
//     possible would have added. Growth between two answers less than a
//     second apart puts a step in that window. Once no phase fits every
//     such window, the refill is not in steps of a second and the shape is
//     continuous.
//
// The shape changes a bounded number of times, then stays unknown. In
// practice the pacer's own rhythm keeps the phases wide, and the unknown
// shape credits whole seconds from each answer. This loses no throughput
// where a bucket holds more than a second of refill plus a round trip;
// every published bucket does, or is per second. For a bucket that holds
// exactly one second, with answers that all come back together, a second's
// tokens go one round trip late (TestPacingReachesTheRefillRate). Nothing
// then tells that refill from a fixed window, against which a continuous
// credit overshoots.
//
// # The refill bound
//
// Neither the refill rate R nor the fraction of a token is sent, but the
// count y = tokens + tokens taken so far grows by the refill (less while
// the bucket is full, which only loosens the bound below). Each answer pins
// y at its arrival into an interval: at least lo = remaining + (tokens
// taken by requests answered before it left) + (1 unless a 429), and below
// lo + slack, where slack = 1 (the floor of remaining) + the requests in
// flight alongside it (they may or may not have been counted). Arrival lies
// between sending and answer. So for an earlier answer a and a later one b,
// with D = time b was answered − time a was sent,
//
//	R ≥ (b.lo − a.lo − a.slack) / D                 (continuous)
//	R ≥ (b.lo − a.lo − a.slack) / (⌊D⌋ + 1 s)       (steps of a second)
//
// whatever the floor error, the latency and the reordering. r is the best
// such bound from the anchors of the last 120 s to the newest answer. It
// needs no fit and cannot overshoot R, so crediting it sends nothing into
// an empty bucket (unless other clients start to take more). An
// underestimate costs nothing: tokens r does not promise stay in the
// bucket, the next answer shows them, and they go at once. Until r rests on
// 3 s of answers, the mirror refills at least at the safe rate:
// min(Options.Rate, DefaultRate, the slowest published bucket of its
// burst). Tokens the tenant grants other clients lower the bound: r is the
// rate available to us. CurrentRate reports r for the bucket of the latest
// answer (or the limiter's rate before any headers).
//
// # Pacing
//
// Until the first answer with headers, a golang.org/x/time/rate limiter
// holds every request to the safe default (Options.Rate and Burst:
// DefaultRate, DefaultBurst). A tenant whose answers carry no x-ratelimit-*
// headers gets that default for good. From then on, the mirrors of its
// route's buckets decide: a request goes when each of them promises a
// token, and takes one from each. Writes and reads of one run thus go in
// parallel, each at its own bucket's pace. MaxRate (the user's --rate)
// keeps the limiter on as a ceiling on the sum of all routes, rate MaxRate
// with a burst of at most a second's worth: requests per second are what
// users mean. Every wait is on the injected clock, never real time, and
// stops at once when the context ends. A waiting caller looks again at the
// earliest time a track promises a token. While answers are in flight
// (which may show more), it also looks every max(10ms, 1/(4r)), so a shown
// token waits at most a quarter of a token's time.
//
// Stats reports per bucket (named by its routes) the requests, rate-limit
// 429s and time waited, pacing and retry waits alike: summed over
// concurrent requests (Waited), and as wall time during which some request
// of it was held back (Held, what a run's summary shows).
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
