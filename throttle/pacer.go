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

// Tuning of the pacer; doc.go explains the model.
const (
	growthPerSecond = 2.0              // pace growth while the bucket stays full under pressure
	pressureWindow  = time.Second      // "callers were held by the limiter" this recently
	estWindow       = 30 * time.Second // samples older than this are dropped
	estMaxSamples   = 512
	estMinSamples   = 6
	estMinSpan      = 3 * time.Second
	minRate         = 0.05 // never pace slower than one request per 20s
	maxSaneRate     = 1000.0
	minPoll         = 10 * time.Millisecond
	maxPoll         = time.Second
	mirrorMargin    = 0.98 // the mirror refills at most this share of the estimate
)

// sample is one point of the refill estimate: y = remaining + consumed.
type sample struct {
	t time.Time
	y float64
}

// pacer decides when a request may be sent: a rate.Limiter paces at the
// estimated refill rate, and a mirror of the tenant's bucket brakes when the
// headers say the bucket is (nearly) empty.
type pacer struct {
	clk      clock.Clock
	maxRate  float64
	startBur int

	mu       sync.Mutex
	lim      *rate.Limiter
	rate     float64
	inflight int    // sent and not yet answered
	sent     uint64 // sequence number of the last request let through

	// The latest observation and the budget derived from it.
	known  bool
	obs    bucketHeaders
	obsAt  time.Time
	obsSeq uint64  // which request the observation answered
	budget float64 // tokens new sends may take, as of obsAt (conservative)

	// Refill estimation.
	consumed    int64   // responses with headers that took a token
	est         float64 // least-squares refill rate: the pace
	estLow      float64 // its lower confidence bound: the mirror's refill
	win         []sample
	satSince    time.Time
	lastGrow    time.Time
	lastLimited time.Time
}

func newPacer(o Options) *pacer {
	return &pacer{
		clk:      o.Clock,
		maxRate:  o.MaxRate,
		startBur: o.Burst,
		lim:      rate.NewLimiter(rate.Limit(o.Rate), o.Burst),
		rate:     o.Rate,
	}
}

// acquire waits until a request may be sent and counts it as in flight; the
// caller must call release exactly once afterwards with the returned ticket.
// It also returns the time spent waiting.
func (p *pacer) acquire(ctx context.Context) (ticket uint64, waited time.Duration, err error) {
	start := p.clk.Now()
	p.mu.Lock()
	res := p.lim.ReserveN(start, 1)
	delay := res.DelayFrom(start)
	if delay > 0 {
		p.lastLimited = start
	}
	p.mu.Unlock()
	if delay > 0 {
		if err := sleep(ctx, p.clk, delay); err != nil {
			res.CancelAt(p.clk.Now())
			return 0, p.clk.Now().Sub(start), err
		}
	}
	for {
		p.mu.Lock()
		now := p.clk.Now()
		wake, ok := p.gate(now)
		if ok {
			p.budget--
			p.inflight++
			p.sent++
			ticket = p.sent
			p.mu.Unlock()
			return ticket, now.Sub(start), nil
		}
		p.mu.Unlock()
		if err := sleep(ctx, p.clk, wake.Sub(now)); err != nil {
			return 0, p.clk.Now().Sub(start), err
		}
	}
}

// gate reports whether the bucket mirror lets a request go now, and if not,
// when to look again. Called with mu held.
func (p *pacer) gate(now time.Time) (time.Time, bool) {
	if !p.known {
		return time.Time{}, true
	}
	avail := p.budget
	if p.estLow > 0 {
		avail += p.estLow * now.Sub(p.obsAt).Seconds()
	}
	// With nothing left, the reset header is the time of the next whole
	// token: by then the tenant has given at least one more.
	var refillAt time.Time
	if p.obs.remaining == 0 {
		refillAt = p.obs.reset
		if refillAt.IsZero() {
			refillAt = p.obsAt.Add(time.Second)
		}
		if !now.Before(refillAt) {
			avail = max(avail, p.budget+1)
		}
	}
	avail = min(avail, float64(p.obs.limit))
	if avail >= 1 {
		return time.Time{}, true
	}
	// Nothing in flight will bring news: trust what the tenant said last
	// (a response without headers, or an error, left the budget stale).
	if p.inflight == 0 && (p.obs.remaining > 0 || !now.Before(refillAt)) {
		return time.Time{}, true
	}
	wake := now.Add(min(max(secs(1/p.rate), minPoll), maxPoll))
	if p.estLow > 0 {
		if at := p.obsAt.Add(secs((1 - p.budget) / p.estLow)); at.After(now) && at.Before(wake) {
			wake = at
		}
	}
	if !refillAt.IsZero() && refillAt.After(now) && refillAt.Before(wake) {
		wake = refillAt
	}
	return wake, false
}

// release ends a request started by acquire. h is the response header (nil
// when there was no response); rateLimited is a 429 that took no token.
func (p *pacer) release(ticket uint64, h http.Header, rateLimited bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	if h == nil {
		return
	}
	b, ok := parseBucket(h)
	if !ok {
		return
	}
	now := p.clk.Now()
	if !rateLimited {
		p.consumed++
	}
	if !p.known || b.limit != p.obs.limit {
		p.lim.SetBurstAt(now, p.burstFor(b.limit))
	}
	p.learn(now, b, rateLimited)
	// Answers to concurrent requests arrive in any order: one to a request
	// sent before the one behind the mirror describes an older bucket.
	if p.known && ticket < p.obsSeq {
		return
	}
	p.known = true
	p.obs = b
	p.obsAt = now
	p.obsSeq = ticket
	// Conservatively, none of the others in flight has been counted yet.
	p.budget = float64(b.remaining - p.inflight)
}

// burstFor: once the bucket size is known the limiter may spend it, except
// that a user-given ceiling also bounds bursts.
func (p *pacer) burstFor(limit int) int {
	if p.maxRate > 0 {
		return max(1, min(limit, int(math.Ceil(p.maxRate))))
	}
	return limit
}

// learn updates the refill estimate and the pace from one observation.
func (p *pacer) learn(now time.Time, b bucketHeaders, rateLimited bool) {
	s := sample{t: now, y: float64(b.remaining) + float64(p.consumed)}
	// remaining >= limit-1 means the bucket was full before this request:
	// refill was wasted, so the samples before it do not fit one line.
	saturated := !rateLimited && b.limit > 1 && b.remaining >= b.limit-1
	if saturated {
		p.win = append(p.win[:0], s)
		if p.satSince.IsZero() {
			p.satSince, p.lastGrow = now, now
			return
		}
		if now.Sub(p.lastLimited) <= pressureWindow {
			dt := now.Sub(p.lastGrow).Seconds()
			p.setRate(now, p.rate*math.Pow(growthPerSecond, dt))
		}
		p.lastGrow = now
		return
	}
	p.satSince = time.Time{}
	p.win = append(p.win, s)
	drop := 0
	for drop < len(p.win)-2 && (len(p.win)-drop > estMaxSamples || now.Sub(p.win[drop].t) > estWindow) {
		drop++
	}
	p.win = append(p.win[:0], p.win[drop:]...)
	if len(p.win) < estMinSamples || now.Sub(p.win[0].t) < estMinSpan {
		return
	}
	if est, se, ok := slope(p.win); ok {
		p.est = max(est, minRate)
		// The mirror must not run ahead of the tenant: a refill predicted a
		// hair early is a 429 when requests land on whole-token instants.
		// A floor error below one token over the span bounds the slope's
		// error by about 1/span, whatever the residuals look like.
		span := now.Sub(p.win[0].t).Seconds()
		p.estLow = max(min(est-2*se, est*mirrorMargin, est-1/span), p.est/2)
		p.setRate(now, p.est)
	}
}

func (p *pacer) setRate(now time.Time, r float64) {
	r = min(max(r, minRate), maxSaneRate)
	if p.maxRate > 0 {
		r = min(r, p.maxRate)
	}
	p.rate = r
	p.lim.SetLimitAt(now, rate.Limit(r))
}

// slope is the least-squares slope of y over t, in units per second, with its
// standard error.
func slope(win []sample) (b, se float64, ok bool) {
	t0 := win[0].t
	n := float64(len(win))
	var st, sy float64
	for _, s := range win {
		st += s.t.Sub(t0).Seconds()
		sy += s.y
	}
	mt, my := st/n, sy/n
	var sxx, sxy float64
	for _, s := range win {
		dt := s.t.Sub(t0).Seconds() - mt
		sxx += dt * dt
		sxy += dt * (s.y - my)
	}
	if sxx == 0 || len(win) < 3 {
		return 0, 0, false
	}
	b = sxy / sxx
	var rss float64
	for _, s := range win {
		r := s.y - my - b*(s.t.Sub(t0).Seconds()-mt)
		rss += r * r
	}
	return b, math.Sqrt(rss / (n - 2) / sxx), true
}

func (p *pacer) currentRate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rate
}

func (p *pacer) headroom() (limit, remaining int, reset time.Time, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.obs.limit, p.obs.remaining, p.obs.reset, p.known
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
