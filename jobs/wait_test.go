package jobs

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/management"
)

// waitReply is one answer of waitStub: a job (of this status, with this
// time_left_seconds, -1 for none) or an error.
type waitReply struct {
	status string
	left   int
	err    error
}

// waitStub answers Job with its replies in turn and records when (on the
// fake clock) each read happened.
type waitStub struct {
	clk     *clock.Fake
	replies []waitReply

	mu    sync.Mutex
	reads []time.Time
}

func (w *waitStub) Job(ctx context.Context, id string) (*management.Job, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.reads = append(w.reads, w.clk.Now())
	n := len(w.reads) - 1
	if n >= len(w.replies) {
		return nil, errors.New("read after the last scripted reply")
	}
	r := w.replies[n]
	if r.err != nil {
		return nil, r.err
	}
	job := &management.Job{ID: id, Type: "users_import", Status: r.status}
	if r.left >= 0 {
		left := r.left
		job.TimeLeftSeconds = &left
	}
	return job, nil
}

// gaps are the waits between consecutive reads.
func (w *waitStub) gaps() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []time.Duration
	for i := 1; i < len(w.reads); i++ {
		out = append(out, w.reads[i].Sub(w.reads[i-1]))
	}
	return out
}

type waitResult struct {
	job *management.Job
	err error
}

// runWait runs Wait on a fake clock, jumping the clock to each wait's
// deadline as soon as Wait parks on it, until Wait returns.
func runWait(ctx context.Context, api *waitStub) waitResult {
	clk := api.clk
	done := make(chan waitResult, 1)
	go func() {
		job, err := Wait(ctx, api, "job_1", clk)
		done <- waitResult{job, err}
	}()
	for {
		parked := make(chan struct{})
		go func() { clk.BlockUntil(1); close(parked) }()
		select {
		case r := <-done:
			clk.After(time.Hour) // release the BlockUntil goroutine
			return r
		case <-parked:
			if d, ok := clk.NextDeadline(); ok {
				clk.Advance(d.Sub(clk.Now()))
			}
		}
	}
}

func pending(n int) []waitReply {
	out := make([]waitReply, n)
	for i := range out {
		out[i] = waitReply{status: management.JobPending, left: -1}
	}
	return out
}

func TestWaitBacksOffFrom1sTo30s(t *testing.T) {
	replies := append(pending(8), waitReply{status: management.JobCompleted, left: -1})
	api := &waitStub{clk: clock.NewFake(t0), replies: replies}
	r := runWait(context.Background(), api)
	if r.err != nil || r.job == nil || r.job.Status != management.JobCompleted {
		t.Fatalf("Wait = %+v, %v; want the completed job", r.job, r.err)
	}
	s := time.Second
	want := []time.Duration{1 * s, 2 * s, 4 * s, 8 * s, 16 * s, 30 * s, 30 * s, 30 * s}
	if got := api.gaps(); !slices.Equal(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
}

func TestWaitUsesTimeLeftCappedAt30s(t *testing.T) {
	W := management.JobProcessing
	api := &waitStub{clk: clock.NewFake(t0), replies: []waitReply{
		{status: management.JobPending, left: -1}, // backoff: 1s
		{status: W, left: 5},                      // the job's estimate: 5s
		{status: W, left: 3600},                   // capped: 30s
		{status: W, left: 0},                      // no estimate: the backoff, which kept doubling: 8s
		{status: W, left: -1},                     // 16s
		{status: W, left: 2},                      // 2s
		{status: management.JobCompleted, left: -1},
	}}
	r := runWait(context.Background(), api)
	if r.err != nil || r.job == nil || r.job.Status != management.JobCompleted {
		t.Fatalf("Wait = %+v, %v; want the completed job", r.job, r.err)
	}
	s := time.Second
	want := []time.Duration{1 * s, 5 * s, 30 * s, 8 * s, 16 * s, 2 * s}
	if got := api.gaps(); !slices.Equal(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
}

func TestWaitReturnsTheDoneJob(t *testing.T) {
	for _, status := range []string{management.JobCompleted, management.JobFailed, management.JobExpired} {
		clk := clock.NewFake(t0)
		api := &waitStub{clk: clk, replies: []waitReply{{status: status, left: -1}}}
		job, err := Wait(context.Background(), api, "job_1", clk)
		if err != nil || job == nil || job.Status != status || job.ID != "job_1" {
			t.Errorf("%s: Wait = %+v, %v; want the job", status, job, err)
		}
		if n := clk.Waiters(); n != 0 {
			t.Errorf("%s: %d waits on the clock, want none", status, n)
		}
	}
	// And after a few reads.
	api := &waitStub{clk: clock.NewFake(t0), replies: append(pending(2), waitReply{status: management.JobFailed, left: -1})}
	if r := runWait(context.Background(), api); r.err != nil || r.job == nil || r.job.Status != management.JobFailed {
		t.Errorf("Wait = %+v, %v; want the failed job", r.job, r.err)
	}
	if got := len(api.gaps()); got != 2 {
		t.Errorf("%d waits, want 2", got)
	}
}

// A nil clock is the real one: Wait still waits (here on a context already
// ended, so no time passes) instead of failing on a nil clock.
func TestWaitNilClockIsReal(t *testing.T) {
	api := &waitStub{clk: clock.NewFake(t0), replies: pending(1)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if job, err := Wait(ctx, api, "job_1", nil); !errors.Is(err, context.Canceled) || job != nil {
		t.Fatalf("Wait = %+v, %v; want context.Canceled after one read", job, err)
	}
}

func TestWaitReturnsCtxErrWhenCancelledWhileWaiting(t *testing.T) {
	clk := clock.NewFake(t0)
	api := &waitStub{clk: clk, replies: pending(2)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan waitResult, 1)
	go func() {
		job, err := Wait(ctx, api, "job_1", clk)
		done <- waitResult{job, err}
	}()
	clk.BlockUntil(1) // parked on its first wait
	cancel()
	r := <-done
	if r.job != nil || !errors.Is(r.err, context.Canceled) {
		t.Errorf("Wait = %+v, %v; want nil, context.Canceled", r.job, r.err)
	}
	if got := len(api.reads); got != 1 {
		t.Errorf("%d reads, want 1", got)
	}
}

func TestWaitReturnsTheAPIError(t *testing.T) {
	boom := errors.New("tenant says no")
	api := &waitStub{clk: clock.NewFake(t0), replies: append(pending(2), waitReply{err: boom})}
	r := runWait(context.Background(), api)
	if r.job != nil || r.err != boom {
		t.Errorf("Wait = %+v, %v; want nil, %v", r.job, r.err, boom)
	}
	s := time.Second
	if got, want := api.gaps(), []time.Duration{1 * s, 2 * s}; !slices.Equal(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
	// At once, too.
	clk := clock.NewFake(t0)
	api = &waitStub{clk: clk, replies: []waitReply{{err: boom}}}
	if job, err := Wait(context.Background(), api, "job_1", clk); job != nil || err != boom {
		t.Errorf("Wait = %+v, %v; want nil, %v", job, err, boom)
	}
}
