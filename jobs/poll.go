package jobs

import (
	"context"
	"fmt"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/management"
)

// await polls jobID until it ends, then settles every record of c. With
// waitFirst the first read waits PollMin (a job just submitted is never done
// at once); a resumed job is read at once. partial: see settle.
func (s *Scheduler) await(ctx context.Context, c input.Chunk, jobID string, waitFirst, partial bool) error {
	job, err := s.poll(ctx, jobID, waitFirst)
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

// poll reads the job until it is done, on the schedule of pollPlan: a
// tenth of the time since submission, within PollMin..PollMax, sooner when
// the tenant's estimate or the job's progress says it ends sooner.
func (s *Scheduler) poll(ctx context.Context, jobID string, waitFirst bool) (*management.Job, error) {
	plan := newPollPlan(s.Clock.Now(), s.PollMin, s.PollMax, waitFirst)
	if waitFirst {
		if err := s.sleep(ctx, s.PollMin); err != nil {
			return nil, err
		}
	}
	for {
		sent := s.Clock.Now()
		job, err := s.API.Job(ctx, jobID)
		if err != nil {
			return nil, fmt.Errorf("reading the job: %w", err)
		}
		if job.Done() {
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
