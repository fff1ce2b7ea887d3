package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/a0bulk/a0bulk/importer"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
)

// await polls jobID until it ends, then settles every record of c. With
// waitFirst the first read waits PollMin (a job just submitted is never done
// at once); a resumed job is read at once.
func (s *Scheduler) await(ctx context.Context, c importer.Chunk, jobID string, waitFirst bool) error {
	job, err := s.poll(ctx, jobID, waitFirst)
	if err != nil {
		if management.IsNotFound(err) {
			// Job data is deleted after 24 hours: its outcome is lost.
			s.logf("job %s of chunk %d is gone from the tenant; its records are reported failed", jobID, c.Seq)
			return s.writeAll(c, jobID, report.Failed, "JOB_NOT_FOUND",
				"the import job is no longer known to the tenant (job data is kept 24 hours); check these users in the tenant")
		}
		return err
	}
	return s.settle(ctx, c, job)
}

// poll reads the job until it is done, backing off from PollMin to PollMax,
// or sleeping the tenant's own estimate (time_left_seconds) when it gives one.
func (s *Scheduler) poll(ctx context.Context, jobID string, waitFirst bool) (*management.Job, error) {
	backoff := s.PollMin
	if waitFirst {
		if err := s.sleep(ctx, backoff); err != nil {
			return nil, err
		}
	}
	for {
		job, err := s.API.Job(ctx, jobID)
		if err != nil {
			return nil, fmt.Errorf("reading the job: %w", err)
		}
		if job.Done() {
			return job, nil
		}
		var d time.Duration
		d, backoff = s.nextPoll(job, backoff)
		if err := s.sleep(ctx, d); err != nil {
			return nil, err
		}
	}
}

// nextPoll returns how long to wait before the next read and the next backoff.
func (s *Scheduler) nextPoll(job *management.Job, backoff time.Duration) (time.Duration, time.Duration) {
	next := min(2*backoff, s.PollMax)
	if job.TimeLeftSeconds != nil && *job.TimeLeftSeconds > 0 {
		d := time.Duration(*job.TimeLeftSeconds) * time.Second
		return min(max(d, s.PollMin), s.PollMax), next
	}
	return backoff, next
}

// writeAll gives every record of c the same final line.
func (s *Scheduler) writeAll(c importer.Chunk, jobID string, st report.Status, code, reason string) error {
	for _, r := range c.Records {
		if err := s.write(report.Entry{File: r.File, Line: r.Line, Email: r.Email, Status: st, JobID: jobID, Code: code, Reason: reason, Chunk: c.Seq}); err != nil {
			return err
		}
	}
	return nil
}
