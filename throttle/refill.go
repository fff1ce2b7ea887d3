package throttle

import (
	"math"
	"math/bits"
	"time"
)

// The refill's shape (doc.go, "Refill in steps"). Auth0 adds a per-second
// limit's tokens by milliseconds and a per-minute limit's on a second basis:
// rate/60 at each whole second. The mirror counts on no token before it is
// added under whichever shape the answers leave possible.

const (
	phaseBins = 1000             // the phase of a step within its second, to the millisecond
	grain     = time.Millisecond // a continuous refill adds tokens at most this late
	// After this many changes of shape it stays unknown: answers that
	// contradict every model come from other clients of the bucket.
	maxReshapes = 4
)

type shape int

const (
	// shapeUnknown credits a step per whole second, or, if more, what both
	// a continuous refill and steps of a second (at any phase the answers
	// leave) would have added.
	shapeUnknown shape = iota
	// shapeContinuous credits a refill by milliseconds: a published
	// per-second bucket, or one whose growth fits no phase of steps.
	shapeContinuous
)

func (m *mirror) setShape(s shape) {
	if s != m.shape {
		m.reshaped++
	}
	if m.reshaped >= maxReshapes {
		s = shapeUnknown // the safe one, for good
	}
	m.phases = phaseSet{}
	m.shape = s
	m.bound.stepped = s != shapeContinuous
}

// learnShape updates the refill's shape from o before it joins the anchors.
func (m *mirror) learnShape(o observation, rateLimited bool) {
	if m.reshaped >= maxReshapes {
		return
	}
	if m.shape == shapeContinuous {
		if rateLimited || m.lumpy(o) {
			// Tokens came later than a continuous refill brings them:
			// steps, or other clients.
			m.setShape(shapeUnknown)
		}
		return
	}
	// Growth between two answers less than a second apart puts a step
	// between the first's send and the second's answer.
	for i := len(m.bound.anchors) - 1; i >= 0; i-- {
		a := m.bound.anchors[i]
		if o.at.Sub(a.sent) >= stepUnit {
			break
		}
		if o.lo > a.lo+a.slack {
			m.phases.grew(a.sent, o.at)
		}
	}
	if m.phases.empty() {
		m.setShape(shapeContinuous) // no phase fits: not steps of a second
	}
}

// credit is the refill from a to t the mirror counts on, in units of the
// refill rate (seconds of refill).
func (m *mirror) credit(a, t time.Time) float64 {
	cont := max(0, (t.Sub(a) - grain).Seconds())
	if m.shape == shapeContinuous {
		return cont
	}
	whole := float64(t.Sub(a) / stepUnit)
	return max(whole, min(float64(m.phases.steps(a, t)), cont))
}

// creditReady is the first time the credit from a reaches c.
func (m *mirror) creditReady(a time.Time, c float64) time.Time {
	cont := a.Add(secs(c) + grain)
	if m.shape == shapeContinuous {
		return cont
	}
	steps := m.phases.stepsReady(a, ceilSteps(c))
	return minTime(a.Add(time.Duration(ceilSteps(c))*stepUnit), laterOf(steps, cont))
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// phaseSet is the set of phases (milliseconds past a whole Unix second) at
// which the bucket's steps may fall; all of them until answers show growth.
type phaseSet struct {
	out [(phaseBins + 63) / 64]uint64 // bins ruled out
	// covering arc of the bins left, cached: from lo, w milliseconds long
	lo, w int
	known bool // some growth has narrowed the set
}

// grew records that the refill added tokens between from and to: a step
// fell in that window. Windows of a second or more say nothing.
func (s *phaseSet) grew(from, to time.Time) {
	if to.Sub(from) >= stepUnit-time.Millisecond {
		return
	}
	sec := int64(stepUnit)
	first := int(from.UnixNano() % sec / int64(time.Millisecond))
	last := int((to.UnixNano()%sec + int64(time.Millisecond) - 1) / int64(time.Millisecond))
	// Whether the window crosses a whole second decides the wrap, not its
	// ends' offsets: .0029 to the next second's .0011 holds almost every
	// phase.
	wraps := floorDiv(from.UnixNano(), sec) != floorDiv(to.UnixNano(), sec)
	in := func(i int) bool {
		if wraps {
			return i >= first || i <= last
		}
		return i >= first && i <= last
	}
	for i := range phaseBins {
		if !in(i) {
			s.out[i/64] |= 1 << (i % 64)
		}
	}
	s.known = true
	s.cover()
}

// empty reports whether no phase fits: the refill is not in steps of a
// second.
func (s *phaseSet) empty() bool {
	n := 0
	for _, w := range s.out {
		n += bits.OnesCount64(w)
	}
	return n >= phaseBins
}

func (s *phaseSet) isOut(i int) bool { return s.out[i/64]&(1<<(i%64)) != 0 }

// cover finds the shortest arc that holds every phase left: the complement
// of the longest run of ruled-out bins (circular).
func (s *phaseSet) cover() {
	if s.empty() {
		return
	}
	bestStart, bestLen := 0, 0
	for start := range phaseBins {
		if !s.isOut(start) || s.isOut((start+phaseBins-1)%phaseBins) {
			continue // not the start of a run
		}
		n := 0
		for n < phaseBins && s.isOut((start+n)%phaseBins) {
			n++
		}
		if n > bestLen {
			bestStart, bestLen = start, n
		}
	}
	s.lo = (bestStart + bestLen) % phaseBins
	s.w = phaseBins - bestLen - 1 // from the first bin left to the last, inclusive of its start
}

// steps is how many steps surely fell in (a, t]: whatever the phase, every
// whole second holds one; with the phase narrowed, every step whose whole
// window lies in the interval.
func (s *phaseSet) steps(a, t time.Time) int64 {
	n := int64(t.Sub(a) / stepUnit)
	if s.known {
		lo := int64(s.lo) * int64(time.Millisecond)
		hi := lo + int64(s.w+1)*int64(time.Millisecond) // the end of the last bin
		k := floorDiv(t.UnixNano()-hi, int64(stepUnit)) - floorDiv(a.UnixNano()-lo, int64(stepUnit))
		n = max(n, k)
	}
	return max(n, 0)
}

// stepsReady is the first time by which n steps surely fell after a.
func (s *phaseSet) stepsReady(a time.Time, n int64) time.Time {
	at := a.Add(time.Duration(n) * stepUnit)
	if s.known {
		lo := int64(s.lo) * int64(time.Millisecond)
		hi := lo + int64(s.w+1)*int64(time.Millisecond)
		k := n + floorDiv(a.UnixNano()-lo, int64(stepUnit))
		at = minTime(at, time.Unix(0, k*int64(stepUnit)+hi))
	}
	return at
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// ceilSteps is how many whole steps hold c seconds of refill.
func ceilSteps(c float64) int64 {
	return int64(math.Ceil(c - stepEps))
}
