package sandbox

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// tokens is a bucket's arithmetic: stepped (a plan's published limits) or
// continuous (a custom --rate bucket).
type tokens interface {
	refill(now time.Time)              // add what arrived up to now
	whole() int                        // whole tokens in the bucket
	take()                             // spend one (callers check whole() >= 1)
	spend()                            // another client spends every whole token
	nextToken(now time.Time) time.Time // when whole() next grows (callers refilled to now)
}

// stepped is Auth0's refill: every step (1s for a per-minute limit, 1ms for
// a per-second one; steps fall on whole seconds or milliseconds of the
// tenant's clock) adds Rate/stepsPerPer tokens. Tokens are counted in units
// of 1/stepsPerPer so the sum over Per is exactly Rate: 200/minute adds
// 3⅓ tokens a second and exactly 200 a minute, with no rounding drift.
type stepped struct {
	step  time.Duration
	unit  int64 // units per token: steps per Per
	add   int64 // units added per step: Rate
	cap   int64 // Burst * unit
	units int64
	at    int64 // index of the last step applied
}

func newStepped(l Limit, now time.Time) *stepped {
	step := l.step()
	unit := int64(l.Per / step)
	cap := int64(l.Burst) * unit
	return &stepped{step: step, unit: unit, add: int64(l.Rate), cap: cap, units: cap, at: stepIndex(now, step)}
}

// stepIndex is the number of whole steps since the epoch (floored).
func stepIndex(t time.Time, step time.Duration) int64 {
	n, d := t.UnixNano(), int64(step)
	q := n / d
	if n%d != 0 && n < 0 {
		q--
	}
	return q
}

func (b *stepped) refill(now time.Time) {
	k := stepIndex(now, b.step)
	if k <= b.at {
		return
	}
	n := k - b.at
	b.at = k
	if missing := b.cap - b.units; n >= (missing+b.add-1)/b.add {
		b.units = b.cap
	} else {
		b.units += n * b.add
	}
}

func (b *stepped) whole() int { return int(b.units / b.unit) }
func (b *stepped) take()      { b.units -= b.unit }
func (b *stepped) spend()     { b.units %= b.unit }

func (b *stepped) nextToken(now time.Time) time.Time {
	if b.units >= b.cap {
		return now
	}
	need := (b.units/b.unit+1)*b.unit - b.units
	n := (need + b.add - 1) / b.add
	return time.Unix(0, (b.at+n)*int64(b.step))
}

// continuous is the custom bucket of Config.Rate/Burst: refilled
// continuously at rate tokens per second.
type continuous struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func (b *continuous) refill(now time.Time) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(b.burst, b.tokens+el*b.rate)
	}
	if now.After(b.last) {
		b.last = now
	}
}

func (b *continuous) whole() int { return int(math.Floor(b.tokens)) }
func (b *continuous) take()      { b.tokens-- }
func (b *continuous) spend()     { b.tokens -= math.Floor(b.tokens) }

func (b *continuous) nextToken(now time.Time) time.Time {
	if b.tokens >= b.burst {
		return now
	}
	wait := (math.Floor(b.tokens) + 1 - b.tokens) / b.rate
	return now.Add(time.Duration(wait * float64(time.Second)))
}

// bucket is one of the tenant's buckets: its tokens, the window in which
// another client spends it (Faults.Drain*), and its counters.
type bucket struct {
	spec      *bucketSpec
	burst     int
	perSecond float64
	tokens    tokens
	last      time.Time
	// Another client spends every whole token in [drainFrom, drainTo).
	drainFrom, drainTo time.Time
	admitted, limited  int
}

// advance refills the bucket up to now, letting the draining client take
// every whole token that was there during its window.
func (b *bucket) advance(now time.Time) {
	if b.drainTo.After(b.drainFrom) && !now.Before(b.drainFrom) && b.last.Before(b.drainTo) {
		end := b.drainTo.Add(-time.Nanosecond)
		if now.Before(end) {
			end = now
		}
		b.tokens.refill(end)
		b.tokens.spend()
	}
	b.tokens.refill(now)
	if now.After(b.last) {
		b.last = now
	}
}

// info is the bucket's headers now (refilled to now).
func (b *bucket) info(now time.Time) limitInfo {
	return limitInfo{limit: b.burst, remaining: b.tokens.whole(), reset: ceilUnix(b.tokens.nextToken(now))}
}

// limitInfo is the outcome of one admission and the headers it produces.
type limitInfo struct {
	ok        bool
	limit     int
	remaining int
	reset     int64  // Unix seconds of the next added token
	message   string // the 429's message when !ok
}

func (l limitInfo) setHeaders(h http.Header) {
	h.Set("x-ratelimit-limit", strconv.Itoa(l.limit))
	h.Set("x-ratelimit-remaining", strconv.Itoa(l.remaining))
	h.Set("x-ratelimit-reset", strconv.FormatInt(l.reset, 10))
}

func ceilUnix(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}
