package jobs

import (
	"time"

	"github.com/a0bulk/a0bulk/management"
)

// Poll bounds for an import run (the cli sets them on its Scheduler).
//
// Without anything better to go on (the run's first jobs), a job is read
// again after a tenth of the time since it was submitted, clamped to
// [ImportPollMin, ImportPollMax]: a job seen done late is late by at most
// ~10% (≈ 5% on average) of its duration, and a slot stays idle only that
// long. The cost is the number of reads per job of duration D:
//
//	polls(D) ≈ D/PollMin                        for D ≤ 10·PollMin
//	polls(D) ≈ 10 + 10·ln(D / (10·PollMin))     after (10 per e-fold of time)
//	         = 10·ln(D/PollMin) − 13
//
// With PollMin 250ms: a 2s job costs 8 reads, 10s 24, 60s 42, 10 min ≈ 68
// (PollMax 30s caps the interval after 5 min). A 1s PollMin would save
// 10·ln 4 ≈ 14 reads per job but leaves a sub-second job's slot idle for
// most of a second; 100ms would add 9 reads per job for little gain.
//
// Once a job of the run has ended, the next ones aim. The time learnt is
// when the last job's last read found it running: a lower bound L of how
// long it took, per record. A job of as many records is expected to take
// E = L, and is read a step before E, then three times a step apart, then
// backing off (doubling, never later than the tenth), a step being E/20
// within 10ms..PollMin. L is at most a step short of the true length, so
// a job of steady length D costs 3 reads (up to 5 for the first aimed
// one, whose L came from the first job's coarser reads) and is seen done
// at most a step (D/20, at most 250ms) late: ≥ 99% slot occupancy for 30s
// jobs, ≥ 95% for 2s jobs.
//
// All reads of a run share a budget (Scheduler.PollRate, burst pollBurst
// per slot, so that the few reads around a job's expected end go a step
// apart): PollShare, 30%, of the rate of the bucket they share with the job
// POSTs (Auth0's "all other endpoints": jobs, tickets …). The run takes
// that rate from the plan the tenant's x-ratelimit-limit matches
// (throttle.EstimateRate): Free 2/s → 0.6 reads/s (36 a minute);
// Essentials/Professional, whose 150/min bucket shows a burst of 10 and is
// taken as 2/s → 36 a minute, 24% of it; Enterprise 16/s → 4.8 reads/s.
// Reads are also Yielding (throttle): a POST waiting for the same bucket
// goes first, so a freed slot gets its next chunk at once. Two jobs of 30s
// need about 8 reads a minute; jobs of 2s need ~3 reads each, 3/s with
// both slots busy, which only Enterprise's budget allows: on Free and
// Essentials such jobs are bound by the bucket anyway (a POST and at
// least one read per job, past Free's 2/s at 1 job/s).
const (
	ImportPollMin = 250 * time.Millisecond
	ImportPollMax = 30 * time.Second
	// PollShare is the share of its bucket's rate job reads may spend. A
	// fifth left Enterprise's 2s jobs 82% of the run with both slots busy
	// (bench: BenchmarkPlans); 30% gives 97%.
	PollShare = 0.3
)

// A job expected to take E is first read a step before E, a step being
// E/nearDivisor within minNearStep..PollMin; then nearSteps times a step
// apart, then backing off (doubling).
const (
	nearDivisor = 20
	minNearStep = 10 * time.Millisecond
	nearSteps   = 3
	// aimShare (percent): a job found done at its first read ended before
	// it; the next aims this much earlier.
	aimShare = 90
)

// minPollRate is the least poll budget: one read per 20s, whatever the
// rate says.
const minPollRate = 0.05

// pollDivisor: the next read comes after elapsed/pollDivisor (see above).
const pollDivisor = 10

// maxAims bounds the reads per job aimed at an extrapolated end
// (pollPlan.aim), so a wrong estimate costs at most this many extra reads.
const maxAims = 2

// pollPlan decides when to read a running job next. It is a pure function
// of the readings it is given (no clock, no I/O), for table tests.
type pollPlan struct {
	min, max time.Duration
	start    time.Time     // submitted (or, for a resumed job, first read)
	expect   time.Duration // how long the job should take (earlier jobs); 0: unknown
	last     time.Time     // the last reading (not done)
	nearEnd  int           // readings since the aim: the end is near

	pendingAt time.Time // the last reading that said pending (progress 0)
	first     reading   // the first reading that said processing
	aims      int       // reads aimed at an extrapolated end so far
}

type reading struct {
	at  time.Time
	pct int
	ok  bool
}

func newPollPlan(start time.Time, min, max time.Duration, submitted bool, expect time.Duration) *pollPlan {
	p := &pollPlan{min: min, max: max, start: start, expect: expect}
	if submitted {
		p.pendingAt = start // the POST answered pending
	}
	return p
}

// firstWait is the wait before a submitted job's first read: PollMin, or most
// of the time it is expected to take.
func (p *pollPlan) firstWait() time.Duration {
	if p.expect <= 0 {
		return p.min
	}
	return max(p.min, p.expect-p.nearStep())
}

// nearStep is the wait between reads near the expected end: a twentieth
// of the job's expected length, within minNearStep..PollMin.
func (p *pollPlan) nearStep() time.Duration {
	return min(p.min, max(p.expect/nearDivisor, minNearStep))
}

// lastRead is when (since start) the job was last read running; 0: never.
func (p *pollPlan) lastRead() time.Duration {
	if p.last.IsZero() {
		return 0
	}
	return p.last.Sub(p.start)
}

// next returns how long to wait before reading job again, job having been
// read (not done) at now.
func (p *pollPlan) next(now time.Time, job *management.Job) time.Duration {
	p.last = now
	d := min(max(now.Sub(p.start)/pollDivisor, p.min), p.max)
	if p.expect > 0 {
		// Past the aim: the end is near, read again soon, then back off
		// (the job is slower than the last one).
		d = min(d, p.nearStep()<<max(0, min(p.nearEnd-nearSteps+1, 16)))
		p.nearEnd++
	}
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

// pollBurst is the poll budget's burst per job slot: the reads of one
// job's end (the aimed read and nearSteps more) go a step apart, not at the
// budget's average rate, which a job of 30s needs only a few times per
// minute.
const pollBurst = nearSteps + 2
