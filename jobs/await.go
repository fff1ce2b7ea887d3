package jobs

import (
	"context"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/management"
)

// JobReader reads a job back (GET /jobs/{id}).
type JobReader interface {
	Job(ctx context.Context, id string) (*management.Job, error)
}

// Await reads job id, which the caller has just submitted, until it is
// done, and returns it. It waits on the import scheduler's schedule
// (pollPlan, poll_schedule.go): first pollMin, then a tenth of the time
// since submission clamped to [pollMin, pollMax], sooner when the job's
// time_left_seconds or percentage_done says it ends sooner. So a job
// seen done late is late by about a tenth of its length, and a long job
// costs about ten reads per e-fold of its length. show, when set, sees
// every read. Zero bounds are ImportPollMin and ImportPollMax; a nil clk
// is the wall clock. It returns the API's error as is, and ctx's when ctx
// ends while waiting.
func Await(ctx context.Context, api JobReader, id string, clk clock.Clock, pollMin, pollMax time.Duration, show func(*management.Job)) (*management.Job, error) {
	if clk == nil {
		clk = clock.Real{}
	}
	if pollMin <= 0 {
		pollMin = ImportPollMin
	}
	if pollMax <= 0 {
		pollMax = ImportPollMax
	}
	plan := newPollPlan(clk.Now(), pollMin, pollMax, true, 0)
	wait := plan.firstWait()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-clk.After(wait):
		}
		sent := clk.Now()
		job, err := api.Job(ctx, id)
		if err != nil {
			return nil, err
		}
		if show != nil {
			show(job)
		}
		if job.Done() {
			return job, nil
		}
		// As the scheduler does: the wait counts from the request, and at
		// least half of it is kept after a slow answer.
		next := plan.next(sent, job)
		wait = max(next-clk.Now().Sub(sent), next/2)
	}
}
