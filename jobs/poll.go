package jobs

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/throttle"
)

// await polls jobID until it ends, then settles every record of c. With
// waitFirst the job was just submitted: its first read waits (PollMin, or
// most of what earlier jobs of the run took), and what it took is learnt;
// a resumed job is read at once. partial: see settle.
func (s *Scheduler) await(ctx context.Context, c input.Chunk, jobID string, waitFirst, partial bool) error {
	job, err := s.poll(ctx, jobID, len(c.Records), waitFirst)
	if err != nil {
		if management.IsNotFound(err) {
			// Job data is deleted after 24 hours: its outcome is lost, and
			// only the tenant's users tell what the job did.
			s.logf("job %s of chunk %d is gone from the tenant; its records are settled by looking their users up", jobID, c.Seq)
			return s.settleByLookup(ctx, c, jobID, CodeJobNotFound,
				"the import job is no longer known to the tenant (job data is kept 24 hours)")
		}
		return err
	}
	return s.settle(ctx, c, job, partial)
}

// poll reads the job until it is done, on the schedule of pollPlan
// (poll_schedule.go), each read within the run's poll budget.
func (s *Scheduler) poll(ctx context.Context, jobID string, records int, submitted bool) (*management.Job, error) {
	var expect time.Duration
	if submitted {
		expect = s.expected(records)
	}
	plan := newPollPlan(s.Clock.Now(), s.PollMin, s.PollMax, submitted, expect)
	if submitted {
		if err := s.sleep(ctx, plan.firstWait()); err != nil {
			return nil, err
		}
	}
	for {
		if err := s.pollTurn(ctx); err != nil {
			return nil, err
		}
		sent := s.Clock.Now()
		// A read yields to the job POSTs of its bucket (throttle.Yielding):
		// a slot that frees gets its next chunk sent first.
		job, err := s.API.Job(throttle.Yielding(ctx), jobID)
		if err != nil {
			return nil, fmt.Errorf("reading the job: %w", err)
		}
		if job.Done() {
			if submitted {
				s.learn(records, plan.lastRead(), sent.Sub(plan.start))
			}
			return job, nil
		}
		// The wait counts from the request, not the answer: time on the
		// wire (or in the sandbox finishing another job) would otherwise
		// add to every interval and make reads drift late. At least half
		// the interval is kept, so that a saturated pacer (a slow answer)
		// does not turn into back-to-back reads.
		next := plan.next(sent, job)
		wait := max(next-s.Clock.Now().Sub(sent), next/2)
		if err := s.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// pollTurn waits until the run's poll budget (PollRate) allows one more
// read of a job, shared by all of its jobs.
func (s *Scheduler) pollTurn(ctx context.Context) error {
	if s.PollRate == nil {
		return nil
	}
	now := s.Clock.Now()
	s.mu.Lock()
	if s.polls == nil {
		s.polls = rate.NewLimiter(0, pollBurst*max(s.MaxJobs, 1))
	}
	s.polls.SetLimitAt(now, rate.Limit(max(s.PollRate(), minPollRate)))
	d := s.polls.ReserveN(now, 1).DelayFrom(now)
	s.mu.Unlock()
	if d <= 0 {
		return nil
	}
	return s.sleep(ctx, d)
}

// expected is how long a job of records is expected to take, from what
// the run's earlier jobs took per record; 0 before any ended.
func (s *Scheduler) expected(records int) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perRecord * time.Duration(records)
}

// learn keeps what a job of records took per record: a lower bound, the
// time of its last read that found it running (lastRead, since
// submission; 0 if none), so that the next job's first read comes before
// its end, not after. A job already done at its first read ended by then
// (seen): aimShare of that, to aim earlier next time.
func (s *Scheduler) learn(records int, lastRead, seen time.Duration) {
	if records <= 0 {
		return
	}
	took := lastRead
	if took <= 0 {
		took = seen * aimShare / 100
	}
	s.mu.Lock()
	s.perRecord = took / time.Duration(records)
	s.mu.Unlock()
}
