package throttle

import (
	"context"
	"math"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/a0bulk/a0bulk/clock"
)

// Polling of a waiting request; doc.go explains the model.
const (
	minPoll   = 10 * time.Millisecond // while an answer in flight may bring news
	pollShare = 0.25                  // and at most this share of a token late
	maxPoll   = time.Second           // otherwise, look again at least this often
)

// flight is one request let through and not yet answered.
type flight struct {
	sent     time.Time
	consumed int64  // tokens known taken when it left
	answered uint64 // answers received when it left
	others   int    // other requests in flight when it left
}

// pacer decides when a request may be sent. A mirror of the tenant's bucket
// lets a request go whenever the headers show a token for it, and paces at a
// lower bound of the refill rate when they show none; a rate.Limiter holds
// the safe default until the tenant has said anything, and the user's
// ceiling (MaxRate) always.
type pacer struct {
	clk      clock.Clock
	maxRate  float64
	safeRate float64 // the mirror's refill until the bound is trusted

	mu       sync.Mutex
	lim      *rate.Limiter
	inflight map[uint64]flight
	sent     uint64 // ticket of the last request let through
	answered uint64 // answers received, with or without headers

	known bool
	obs   bucketHeaders // the latest answer's headers (Headroom)

	// The mirror: lower bounds of the tokens new sends may take, each
	// growing at the refill rate from its time on (doc.go).
	budget      float64
	budgetAt    time.Time
	resetBudget float64 // from the reset header of an answer that showed none left
	resetAt     time.Time

	consumed int64 // answered requests that took a token
	bound    refillBound
}

func newPacer(o Options) *pacer {
	return &pacer{
		clk:      o.Clock,
		maxRate:  o.MaxRate,
		safeRate: min(o.Rate, DefaultRate),
		lim:      rate.NewLimiter(rate.Limit(o.Rate), o.Burst),
		inflight: map[uint64]flight{},
	}
}

// acquire waits until a request may be sent and counts it as in flight; the
// caller must call release exactly once afterwards with the returned ticket.
// It also returns the time spent waiting.
func (p *pacer) acquire(ctx context.Context) (ticket uint64, waited time.Duration, err error) {
	start := p.clk.Now()
	for {
		now := p.clk.Now()
		ticket, wake, ok := p.tryAcquire(now)
		if ok {
			return ticket, now.Sub(start), nil
		}
		if err := sleep(ctx, p.clk, wake.Sub(now)); err != nil {
			return 0, p.clk.Now().Sub(start), err
		}
	}
}

// tryAcquire lets a request go now if it may, else says when to look again.
func (p *pacer) tryAcquire(now time.Time) (ticket uint64, wake time.Time, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if wake, ok := p.gate(now); !ok {
		return 0, wake, false
	}
	p.budget--
	p.resetBudget--
	p.sent++
	p.inflight[p.sent] = flight{sent: now, consumed: p.consumed, answered: p.answered, others: len(p.inflight)}
	return p.sent, time.Time{}, true
}

// gate reports whether a request may go now, and if not, when to look
// again. Called with mu held.
func (p *pacer) gate(now time.Time) (time.Time, bool) {
	if p.known {
		if wake, ok := p.mirror(now); !ok {
			return wake, false
		}
	}
	if p.known && p.maxRate <= 0 {
		return time.Time{}, true
	}
	// The tenant has said nothing yet (the safe default), or the user set a
	// ceiling.
	if tok := p.lim.TokensAt(now); tok < 1 {
		wake := now.Add(secs((1 - tok) / float64(p.lim.Limit())))
		if !p.known && len(p.inflight) > 0 {
			// The first answer may show a bucket with room to spare.
			wake = minTime(wake, now.Add(minPoll))
		}
		return later(wake, now), false
	}
	p.lim.AllowN(now, 1)
	return time.Time{}, true
}

// mirror reports whether the bucket mirror has a token for one more request,
// and if not, when to look again. Called with mu held.
func (p *pacer) mirror(now time.Time) (time.Time, bool) {
	refill := p.refillRate()
	avail := p.budget + refill*now.Sub(p.budgetAt).Seconds()
	wake := p.budgetAt.Add(secs((1 - p.budget) / refill))
	if !p.resetAt.IsZero() {
		// At the reset time the tenant has added the next whole token.
		if now.Before(p.resetAt) {
			wake = minTime(wake, p.resetAt)
		} else {
			avail = max(avail, p.resetBudget+refill*now.Sub(p.resetAt).Seconds())
			wake = minTime(wake, p.resetAt.Add(secs((1-p.resetBudget)/refill)))
		}
	}
	if min(avail, float64(p.obs.limit)) >= 1 {
		return time.Time{}, true
	}
	wake = minTime(wake, now.Add(maxPoll))
	if len(p.inflight) > 0 {
		// An answer may show tokens the bound did not promise: look soon
		// enough that they wait for us at most a share of a token's time.
		wake = minTime(wake, now.Add(max(minPoll, secs(pollShare/refill))))
	}
	return later(wake, now), false
}

// refillRate is the rate the mirror refills at: the lower bound once it
// rests on a few seconds of observations, and until then at least the safe
// default (no tenant refills slower).
func (p *pacer) refillRate() float64 {
	r := p.bound.rate
	if p.bound.span < estMinSpan {
		r = max(r, p.safeRate)
	}
	return max(r, minRate)
}

// release ends a request started by acquire. h is the response header (nil
// when there was no response); rateLimited is a 429 that took no token.
func (p *pacer) release(ticket uint64, h http.Header, rateLimited bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f, ok := p.inflight[ticket]
	if !ok {
		return
	}
	delete(p.inflight, ticket)
	since := p.answered - f.answered // answered while this one was out
	p.answered++
	if h == nil {
		return
	}
	b, ok := parseBucket(h)
	if !ok {
		return
	}
	now := p.clk.Now()
	took := 0.0
	if !rateLimited {
		p.consumed++
		took = 1
	}
	if p.maxRate > 0 && (!p.known || b.limit != p.obs.limit) {
		// The limiter is now only the user's ceiling.
		p.lim.SetLimitAt(now, rate.Limit(p.maxRate))
		p.lim.SetBurstAt(now, max(1, min(b.limit, int(math.Ceil(p.maxRate)))))
	}
	// Requests that left before this one and were answered took their
	// tokens before it arrived; those in flight alongside it may or may not
	// have, and the floor hides up to one more.
	p.bound.add(observation{
		sent:  f.sent,
		at:    now,
		lo:    float64(b.remaining) + float64(f.consumed) + took,
		slack: 1 + float64(f.others) + float64(p.sent-ticket),
	})
	// Concurrent requests reach the tenant in any order: any of those
	// answered since this one left, and any still in flight, may have
	// arrived after it and taken a token its remaining still shows.
	cand := float64(b.remaining) - float64(len(p.inflight)) - float64(since)
	refill := p.refillRate()
	if p.known {
		cur := p.budget + refill*now.Sub(p.budgetAt).Seconds()
		cand = max(cand, min(cur, float64(b.limit)))
	}
	p.budget, p.budgetAt = cand, now
	if b.remaining == 0 && !b.reset.IsZero() {
		p.resetAt = b.reset
		p.resetBudget = float64(-len(p.inflight)-int(since)) + 1
	}
	p.known = true
	p.obs = b
}

func (p *pacer) currentRate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.known {
		return float64(p.lim.Limit())
	}
	r := p.refillRate()
	if p.maxRate > 0 {
		r = min(r, p.maxRate)
	}
	return r
}

func (p *pacer) headroom() (limit, remaining int, reset time.Time, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.obs.limit, p.obs.remaining, p.obs.reset, p.known
}

// later keeps a wake-up after now: float rounding must not turn a wait
// into a busy loop.
func later(wake, now time.Time) time.Time {
	if !wake.After(now) {
		return now.Add(time.Microsecond)
	}
	return wake
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// secs converts seconds to a Duration, rounding up so a wake-up is never early.
func secs(s float64) time.Duration {
	return time.Duration(math.Ceil(s * float64(time.Second)))
}

// sleep waits d on the clock; cancellation stops it at once.
func sleep(ctx context.Context, clk clock.Clock, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-clk.After(d):
		return nil
	}
}
