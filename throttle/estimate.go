package throttle

import "time"

// Tuning of the refill bound; doc.go explains the model.
const (
	estWindow     = 120 * time.Second // anchors older than this are dropped
	estMaxSamples = 512               // anchors kept: at most one per estWindow/estMaxSamples
	estMinSpan    = 3 * time.Second   // a bound over less is not trusted below the safe rate
	minRate       = 0.05              // never pace slower than one request per 20s
	maxSaneRate   = 1000.0
)

// observation is what one answered request says about the tenant's bucket,
// as an interval for y = tokens + tokens taken so far, the count that grows
// by exactly the refill (doc.go).
type observation struct {
	sent, at time.Time // when the request left and when its answer came
	lo       float64   // y at its arrival is at least this
	slack    float64   // and less than lo + slack
	rem      float64   // the remaining it showed: tokens at arrival < rem + 1
}

// refillBound is a lower bound of the tenant's refill rate that no floor
// error, reordering or latency can push above the truth: between two
// observations a (earlier) and b, R ≥ (b.lo − (a.lo + a.slack)) / (b.at −
// a.sent). It keeps earlier observations as anchors and bounds from each to
// the newest.
//
// A bucket refilled in whole-second steps adds up to one step more than
// the time between two observations accounts for (a step may fall at each
// end): with stepped set, the interval counts as the most whole-second steps
// it can hold, floor(seconds) + 1, so the bound holds for steps at any phase
// and for a continuous refill alike.
type refillBound struct {
	anchors []observation
	rate    float64       // best bound to the newest observation; 0 if none
	span    time.Duration // the interval behind rate
	stepped bool
}

// per is the time an interval can hold refills for, in seconds.
func (r *refillBound) per(dt time.Duration) float64 {
	if r.stepped {
		return float64(dt/time.Second + 1)
	}
	return dt.Seconds()
}

// forget drops the anchors older than keep before now: a 429 shows that
// the rate they promised no longer is ours (other clients take a share).
func (r *refillBound) forget(now time.Time, keep time.Duration) {
	drop := 0
	for drop < len(r.anchors) && now.Sub(r.anchors[drop].sent) > keep {
		drop++
	}
	r.anchors = append(r.anchors[:0], r.anchors[drop:]...)
}

func (r *refillBound) add(o observation) {
	r.rate, r.span = 0, 0
	for _, a := range r.anchors {
		dt := o.at.Sub(a.sent)
		if dt <= 0 {
			continue
		}
		if lb := (o.lo - a.lo - a.slack) / r.per(dt); lb > r.rate {
			r.rate, r.span = lb, dt
		}
	}
	r.rate = min(r.rate, maxSaneRate)

	drop := 0
	for drop < len(r.anchors) && o.at.Sub(r.anchors[drop].sent) > estWindow {
		drop++
	}
	r.anchors = append(r.anchors[:0], r.anchors[drop:]...)
	// Anchors close together are worth one: keep whichever promises the
	// tighter bound (the lower top, allowing for the refill in between).
	if n := len(r.anchors); n > 0 {
		last := r.anchors[n-1]
		if gap := o.sent.Sub(last.sent); gap < estWindow/estMaxSamples {
			if o.lo+o.slack-r.rate*gap.Seconds() < last.lo+last.slack {
				r.anchors[n-1] = o
			}
			return
		}
	}
	r.anchors = append(r.anchors, o)
}
