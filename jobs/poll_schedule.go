package jobs

import (
	"time"

	"github.com/a0bulk/a0bulk/management"
)

// Poll bounds for an import run (the cli sets them on its Scheduler).
//
// A job is read again after a tenth of the time since it was submitted,
// clamped to [ImportPollMin, ImportPollMax]: a job seen done late is late by
// at most ~10% (≈ 5% on average) of its duration, and a slot stays idle only
// that long. The cost is the number of reads per job of duration D:
//
//	polls(D) ≈ D/PollMin                        for D ≤ 10·PollMin
//	polls(D) ≈ 10 + 10·ln(D / (10·PollMin))     after (10 per e-fold of time)
//	         = 10·ln(D/PollMin) − 13
//
// With PollMin 250ms: a 2s job costs 8 reads, 10s 24, 60s 42, 10 min ≈ 68
// (PollMax 30s caps the interval after 5 min). Per job that is 4 reads/s for
// its first 2.5s, 1/s at 10s, 0.17/s at 60s: with two jobs in flight on a
// tenant allowing 2 requests/s, polling alone is over budget only in the
// first ~10s of a job, where the throttle paces it (no 429, reads a little
// later); jobs of a minute use ~35% of that budget. A 1s PollMin would save
// 10·ln 4 ≈ 14 reads per job but leaves a sub-second job's slot idle for
// most of a second; 100ms would add 9 reads per job for little gain.
const (
	ImportPollMin = 250 * time.Millisecond
	ImportPollMax = 30 * time.Second
)

// pollDivisor: the next read comes after elapsed/pollDivisor (see above).
const pollDivisor = 10

// maxAims bounds the reads per job aimed at an extrapolated end
// (pollPlan.aim), so a wrong estimate costs at most this many extra reads.
const maxAims = 2

// pollPlan decides when to read a running job next. It is a pure function
// of the readings it is given (no clock, no I/O), for table tests.
type pollPlan struct {
	min, max time.Duration
	start    time.Time // submitted (or, for a resumed job, first read)

	pendingAt time.Time // the last reading that said pending (progress 0)
	first     reading   // the first reading that said processing
	aims      int       // reads aimed at an extrapolated end so far
}

type reading struct {
	at  time.Time
	pct int
	ok  bool
}

func newPollPlan(start time.Time, min, max time.Duration, submitted bool) *pollPlan {
	p := &pollPlan{min: min, max: max, start: start}
	if submitted {
		p.pendingAt = start // the POST answered pending
	}
	return p
}

// next returns how long to wait before reading job again, job having been
// read (not done) at now.
func (p *pollPlan) next(now time.Time, job *management.Job) time.Duration {
	d := min(max(now.Sub(p.start)/pollDivisor, p.min), p.max)
	// time_left_seconds is whole seconds rounded up: 1 may mean a few ms, so
	// only larger values bound the wait, and never lengthen it.
	if job.TimeLeftSeconds != nil && *job.TimeLeftSeconds > 1 {
		d = min(d, time.Duration(*job.TimeLeftSeconds)*time.Second)
	}
	if aim, ok := p.aim(now, job); ok && aim < d && p.aims < maxAims {
		p.aims++
		d = aim
	}
	return d
}

// aim extrapolates percentage_done linearly to 100% and returns the wait
// until just after that instant. The rate comes from the first processing
// reading to this one (the longest baseline), or, on the first processing
// reading, from the last pending one (progress 0): the job started after
// it, so that rate is low and the aim late, never early. One percent's
// worth of time is added because the tenant floors percentage_done. The aim
// only ever shortens the wait (next takes the smaller).
func (p *pollPlan) aim(now time.Time, job *management.Job) (time.Duration, bool) {
	switch {
	case job.Status == management.JobPending:
		p.pendingAt = now
		return 0, false
	case job.Status != management.JobProcessing || job.PercentageDone == nil:
		return 0, false
	}
	pct := *job.PercentageDone
	from := p.first
	if !from.ok {
		p.first = reading{at: now, pct: pct, ok: true}
		if p.pendingAt.IsZero() {
			return 0, false
		}
		from = reading{at: p.pendingAt, ok: true}
	}
	done, took := pct-from.pct, now.Sub(from.at)
	if done <= 0 || took <= 0 || pct >= 100 {
		return 0, false
	}
	perPct := took / time.Duration(done)
	return time.Duration(100-pct)*perPct + perPct, true
}
