package jobs

import (
	"context"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/management"
)

// Wait backoff bounds: the first wait is waitMin, each next one doubles, up
// to waitMax. A job's own time_left_seconds replaces the backoff's wait,
// capped at waitMax.
const (
	waitMin = time.Second
	waitMax = 30 * time.Second
)

// Wait reads job id until it is done (completed, failed or expired) and
// returns it. Between reads it waits with a backoff from 1s to 30s, or the
// job's own time_left_seconds when it gives one (at most 30s). It returns the
// API's error as is, and ctx.Err() when ctx ends while waiting. A nil clk is
// clock.Real{}.
func Wait(ctx context.Context, api interface {
	Job(ctx context.Context, id string) (*management.Job, error)
}, id string, clk clock.Clock) (*management.Job, error) {
	if clk == nil {
		clk = clock.Real{}
	}
	wait := waitMin
	for {
		job, err := api.Job(ctx, id)
		if err != nil {
			return nil, err
		}
		if job.Done() {
			return job, nil
		}
		next := wait
		if job.TimeLeftSeconds != nil && *job.TimeLeftSeconds > 0 {
			next = min(time.Duration(*job.TimeLeftSeconds)*time.Second, waitMax)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-clk.After(next):
		}
		wait = min(2*wait, waitMax)
	}
}
