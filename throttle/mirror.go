package throttle

import (
	"math"
	"time"
)

const (
	maxTracks = 16   // lower bounds a mirror keeps (doc.go, "One bucket")
	tokenDust = 1e-9 // float rounding must not hold back a token that is due
	stepEps   = 1e-9 // nor turn a whole number of steps into one more
	stepUnit  = time.Second

	lumpyAnchors = 64 // the anchors a pause in a continuous refill is looked for since
)

// flight is one request let through and not yet answered.
type flight struct {
	sent     time.Time
	consumed int64  // tokens known taken when it left
	answered uint64 // answers received when it left
	others   int    // other requests in flight when it left
	adopted  bool   // registered after it left: its answer bounds no refill
}

// track is one lower bound of the bucket's tokens: at least v at `at`,
// growing by the refill credit from then on, never above the bucket's size,
// and one less for every request let through after it was made (sentAt).
type track struct {
	v      float64
	at     time.Time
	sentAt uint64
}

// mirror is the client's model of one of the tenant's buckets (doc.go):
// lower bounds of the tokens new requests may take, fed by the answers that
// carry this bucket's headers, and a lower bound of its refill rate.
type mirror struct {
	key      string
	limit    int
	safeRate float64 // the refill until the bound rests on estMinSpan
	shape    shape   // of the refill (refill.go)
	phases   phaseSet
	reshaped int // changes of shape, bounded (maxReshapes)

	inflight map[uint64]flight
	sent     uint64 // ticket of the last request let through
	answered uint64 // answers received, with or without headers
	consumed int64  // answered requests that took a token
	tracks   []track
	bound    refillBound
	groups   map[group]bool // the route groups whose answers it has had
}

func newMirror(key string, limit int, safeRate float64) *mirror {
	m := &mirror{
		key:      key,
		limit:    limit,
		safeRate: min(safeRate, slowestPublished(limit)),
		inflight: map[uint64]flight{},
		groups:   map[group]bool{},
	}
	if publishedPerSecond(limit) {
		m.shape = shapeContinuous
	}
	m.bound.stepped = m.shape != shapeContinuous
	return m
}

// gate reports whether the mirror holds a token for one more request, and if
// not, when to look again.
func (m *mirror) gate(now time.Time) (time.Time, bool) {
	if len(m.tracks) == 0 {
		// No bound left (answers without headers): tokens are never
		// negative, so the refill from now on is the bound.
		m.tracks = append(m.tracks, track{v: -float64(len(m.inflight)), at: now, sentAt: m.sent})
	}
	r := m.refillRate()
	wake := now.Add(maxPoll)
	for _, tr := range m.tracks {
		if m.value(tr, now, r) >= 1-tokenDust {
			return time.Time{}, true
		}
		if at, ok := m.readyAt(tr, r); ok {
			wake = minTime(wake, at)
		}
	}
	if len(m.inflight) > 0 {
		// An answer may show tokens the bound did not promise: look soon
		// enough that they wait for us at most a share of a token's time.
		wake = minTime(wake, now.Add(max(minPoll, secs(pollShare/r))))
	}
	return later(wake, now), false
}

// take counts a request let through; the caller releases its ticket.
func (m *mirror) take(now time.Time) uint64 {
	m.sent++
	m.inflight[m.sent] = flight{sent: now, consumed: m.consumed, answered: m.answered, others: len(m.inflight)}
	keep := m.tracks[:0]
	for _, tr := range m.tracks {
		if float64(m.limit)-float64(m.sent-tr.sentAt) >= 1-tokenDust {
			keep = append(keep, tr)
		}
	}
	m.tracks = keep
	return m.sent
}

// adopt counts a request that left before the mirror knew it might take
// from this bucket (the mirror is new, or the route's answers showed it
// only now). Nothing is known of what was taken when it left.
func (m *mirror) adopt(sent time.Time) uint64 {
	t := m.take(sent)
	f := m.inflight[t]
	f.consumed, f.answered, f.adopted = 0, 0, true
	m.inflight[t] = f
	return t
}

// release ends a request; b is the bucket its answer showed, nil when the
// answer showed another bucket or none. A request released without headers
// keeps its token spent: it may have taken one.
func (m *mirror) release(ticket uint64, b *bucketHeaders, rateLimited bool, now time.Time) {
	f, ok := m.inflight[ticket]
	if !ok {
		return
	}
	delete(m.inflight, ticket)
	since := m.answered - f.answered // answered while this one was out
	m.answered++
	if b == nil {
		return
	}
	took := 0.0
	if !rateLimited {
		m.consumed++
		took = 1
	}
	m.limit = b.limit
	rem := float64(b.remaining)
	if !f.adopted {
		// Requests that left before this one and were answered took their
		// tokens before it arrived; those in flight alongside it may or may
		// not have, and the floor hides up to one more.
		o := observation{sent: f.sent, at: now, rem: rem,
			lo:    rem + float64(f.consumed) + took,
			slack: 1 + float64(f.others) + float64(m.sent-ticket)}
		m.learnShape(o, rateLimited)
		if rateLimited {
			// Without other clients the mirror never sends into an empty
			// bucket: they now take what the older answers showed ours.
			m.bound.forget(now, estMinSpan)
		}
		m.bound.add(o)
	}
	// Concurrent requests reach the tenant in any order: any of those
	// answered since this one left, and any still in flight, may have
	// arrived after it and taken a token its remaining still shows.
	pending := float64(len(m.inflight)) + float64(since)
	r := m.refillRate()
	if rateLimited {
		// Without other clients no bound lets a request into an empty
		// bucket: one did, so the bounds made before it are wrong.
		m.tracks = m.tracks[:0]
	}
	m.addTrack(track{v: rem - pending, at: now, sentAt: m.sent}, now, r)
	if b.remaining == 0 && !b.reset.IsZero() {
		// At x-ratelimit-reset the tenant has added the next whole token.
		m.addTrack(track{v: 1 - pending, at: b.reset, sentAt: m.sent}, now, r)
	}
}

// lumpy reports whether o shows the refill slower than continuous at the
// proven rate over some stretch since an earlier answer, while the bucket
// was never full: a refill in steps, not by milliseconds.
func (m *mirror) lumpy(o observation) bool {
	r := m.bound.rate
	if r <= 0 {
		return false
	}
	hi := o.lo + o.slack
	// Any stretch is proof; the newest are enough.
	for _, a := range m.bound.anchors[max(0, len(m.bound.anchors)-lumpyAnchors):] {
		// Both arrivals lie outside [a.at, o.sent]; a millisecond of
		// granularity is allowed.
		d := o.sent.Sub(a.at) - time.Millisecond
		growth := hi - a.lo
		if d > 0 && a.rem+1+growth < float64(m.limit) && growth < r*d.Seconds() {
			return true
		}
	}
	return false
}

// value is what tr promises at now (-Inf before it starts).
func (m *mirror) value(tr track, now time.Time, r float64) float64 {
	if now.Before(tr.at) {
		return math.Inf(-1)
	}
	return min(float64(m.limit), tr.v+r*m.credit(tr.at, now)) - float64(m.sent-tr.sentAt)
}

// readyAt is when tr promises one token, if it ever will.
func (m *mirror) readyAt(tr track, r float64) (time.Time, bool) {
	k := float64(m.sent - tr.sentAt)
	if float64(m.limit)-k < 1-tokenDust {
		return time.Time{}, false
	}
	need := 1 + k - tr.v
	if need <= 0 {
		return tr.at, true
	}
	return m.creditReady(tr.at, need/r), true
}

// addTrack keeps n unless another track promises at least as much at every
// time from now on, and drops the tracks n so outdoes.
func (m *mirror) addTrack(n track, now time.Time, r float64) {
	keep := m.tracks[:0]
	for _, tr := range m.tracks {
		if !m.dominates(n, tr, now, r) {
			keep = append(keep, tr)
		}
	}
	m.tracks = keep
	for _, tr := range m.tracks {
		if m.dominates(tr, n, now, r) {
			return
		}
	}
	if len(m.tracks) == maxTracks {
		m.tracks = append(m.tracks[:0], m.tracks[1:]...)
	}
	m.tracks = append(m.tracks, n)
}

// dominates reports whether a promises at least what b does at every time
// from now on (at the refill rate r; a later rate only loosens the bounds).
func (m *mirror) dominates(a, b track, now time.Time, r float64) bool {
	if a.sentAt < b.sentAt || (a.at.After(b.at) && a.at.After(now)) {
		return false
	}
	lag := 0.0
	if d := a.at.Sub(b.at); d > 0 {
		// b's refill is ahead by at most d's worth, in whole steps when
		// the refill may be stepped.
		if m.shape != shapeContinuous {
			d = (d + stepUnit - 1).Truncate(stepUnit)
		}
		lag = r * d.Seconds()
	}
	return a.v+float64(a.sentAt)-lag >= b.v+float64(b.sentAt)
}

// refillRate is the rate the mirror refills at: the lower bound once it
// rests on a few seconds of observations, and until then at least the safe
// rate (no published bucket of this size refills slower).
func (m *mirror) refillRate() float64 {
	r := m.bound.rate
	if m.bound.span < estMinSpan {
		r = max(r, m.safeRate)
	}
	return max(r, minRate)
}
