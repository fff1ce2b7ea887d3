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

// pacer decides when a request may be sent. A mirror per bucket of the
// tenant (mirror.go, buckets.go) lets a request go whenever the headers
// show a token for it in every bucket it takes from; a rate.Limiter holds
// the safe default until the tenant has said anything, and the user's
// ceiling (MaxRate) on the sum of all routes always.
type pacer struct {
	clk     clock.Clock
	maxRate float64

	mu       sync.Mutex
	lim      *rate.Limiter
	inflight int // requests let through and not yet answered

	known bool          // some answer carried x-ratelimit-* headers
	last  bucketHeaders // the latest such answer (Headroom)
	lastM *mirror       // and its bucket (CurrentRate)

	b buckets
}

func newPacer(o Options) *pacer {
	return &pacer{
		clk:     o.Clock,
		maxRate: o.MaxRate,
		lim:     rate.NewLimiter(rate.Limit(o.Rate), o.Burst),
		b:       newBuckets(min(o.Rate, DefaultRate)),
	}
}

// acquire waits until a request of route may be sent and counts it as in
// flight; the caller must call release exactly once afterwards with the
// returned grant. It also returns the time spent waiting.
func (p *pacer) acquire(ctx context.Context, route string) (g *grant, waited time.Duration, err error) {
	start := p.clk.Now()
	yielding := isYielding(ctx)
	var waiting *groupState // set while this urgent request waits
	defer func() {
		if waiting != nil {
			p.mu.Lock()
			waiting.urgent--
			p.mu.Unlock()
		}
	}()
	for {
		now := p.clk.Now()
		g, wake, ok := p.tryAcquireAs(route, now, yielding)
		if ok {
			return g, now.Sub(start), nil
		}
		if !yielding && waiting == nil {
			// Yielding requests of its buckets now let it go first.
			p.mu.Lock()
			waiting = p.b.route(route).group
			waiting.urgent++
			p.mu.Unlock()
		}
		if err := sleep(ctx, p.clk, wake.Sub(now)); err != nil {
			return nil, p.clk.Now().Sub(start), err
		}
	}
}

// tryAcquire lets a request go now if it may, else says when to look again.
func (p *pacer) tryAcquire(route string, now time.Time) (g *grant, wake time.Time, ok bool) {
	return p.tryAcquireAs(route, now, false)
}

// tryAcquireAs is tryAcquire for a request that may be yielding (Yielding):
// it does not go while an urgent request waits for one of its buckets.
func (p *pacer) tryAcquireAs(route string, now time.Time, yielding bool) (g *grant, wake time.Time, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rs := p.b.route(route)
	ms, wait := p.b.gates(rs.group, p.known)
	if wait || (yielding && p.b.urgentWaits(rs.group, ms)) {
		return nil, now.Add(minPoll), false
	}
	for _, m := range ms {
		if wake, ok := m.gate(now); !ok {
			return nil, wake, false
		}
	}
	if !p.known || p.maxRate > 0 {
		// The tenant has said nothing yet (the safe default), or the user
		// set a ceiling.
		if wake, ok := p.limiter(now); !ok {
			return nil, wake, false
		}
	}
	g = &grant{route: rs, sent: now, unresolved: len(rs.group.members) == 0}
	for _, m := range ms {
		g.takes = append(g.takes, take{m, m.take(now)})
	}
	p.b.openGrant(g)
	p.inflight++
	rs.requests++
	return g, time.Time{}, true
}

// limiter takes a token from the limiter, or says when to look again.
func (p *pacer) limiter(now time.Time) (time.Time, bool) {
	if tok := p.lim.TokensAt(now); tok < 1 {
		wake := now.Add(secs((1 - tok) / float64(p.lim.Limit())))
		if !p.known && p.inflight > 0 {
			// The first answer may show a bucket with room to spare.
			wake = minTime(wake, now.Add(minPoll))
		}
		return later(wake, now), false
	}
	p.lim.AllowN(now, 1)
	return time.Time{}, true
}

// release ends a request started by acquire. h is the response header (nil
// when there was no response); rateLimited is a 429 that took no token.
func (p *pacer) release(g *grant, h http.Header, rateLimited bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.b.open[g]; !ok {
		return
	}
	p.b.closeGrant(g)
	p.inflight--
	if rateLimited {
		g.route.limited++
	}
	now := p.clk.Now()
	var b bucketHeaders
	ok := false
	if h != nil {
		b, ok = parseBucket(h)
	}
	if !ok {
		for _, t := range g.takes {
			t.m.release(t.ticket, nil, false, now)
		}
		return
	}
	m := p.b.resolve(g.route.group, b.limit)
	answered := false
	for _, t := range g.takes {
		if t.m == m {
			m.release(t.ticket, &b, rateLimited, now)
			answered = true
		} else {
			t.m.release(t.ticket, nil, false, now)
		}
	}
	if !answered {
		m.release(m.adopt(g.sent), &b, rateLimited, now)
	}
	if p.maxRate > 0 && !p.known {
		// The limiter is now only the user's ceiling.
		p.lim.SetLimitAt(now, rate.Limit(p.maxRate))
		p.lim.SetBurstAt(now, max(1, min(b.limit, int(math.Ceil(p.maxRate)))))
	}
	p.known, p.last, p.lastM = true, b, m
}

// addWait charges d to route's bucket.
func (p *pacer) addWait(route string, d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.b.route(route).waited += d
}

func (p *pacer) rateOf(m *mirror) float64 {
	r := m.refillRate()
	if p.maxRate > 0 {
		r = min(r, p.maxRate)
	}
	return r
}

func (p *pacer) currentRate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.known {
		return float64(p.lim.Limit())
	}
	return p.rateOf(p.lastM)
}

func (p *pacer) headroom() (limit, remaining int, reset time.Time, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last.limit, p.last.remaining, p.last.reset, p.known
}

func (p *pacer) bucketStats(now time.Time) []BucketStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.b.stats(now, p.rateOf)
}

// meter is the wait meter of route's group (BucketStats.Held). Its own
// lock guards it, so it is used outside the pacer's.
func (p *pacer) meter(route string) *waitMeter {
	p.mu.Lock()
	defer p.mu.Unlock()
	return &p.b.route(route).group.held
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
