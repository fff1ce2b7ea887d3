package jobs

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/management"
)

// endsAt is a job that reads processing until its end, then completed.
type endsAt struct {
	clk   *clock.Fake
	start time.Time
	end   time.Duration

	mu    sync.Mutex
	reads []time.Duration // since start
}

func (e *endsAt) Job(ctx context.Context, id string) (*management.Job, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	at := e.clk.Now().Sub(e.start)
	e.reads = append(e.reads, at)
	if at >= e.end {
		return &management.Job{ID: id, Status: management.JobCompleted}, nil
	}
	return &management.Job{ID: id, Status: management.JobProcessing}, nil
}

// Await waits like the import scheduler: first PollMin, then a tenth of
// the time since submission within [PollMin, PollMax]; it sees the end at
// most a tenth late, in about 10·ln(D/PollMin)−13 reads.
func TestAwaitSchedule(t *testing.T) {
	for _, end := range []time.Duration{100 * time.Millisecond, 10 * time.Second, 10 * time.Minute} {
		fc := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
		api := &endsAt{clk: fc, start: fc.Now(), end: end}
		var shown int
		done := make(chan error, 1)
		go func() {
			job, err := Await(context.Background(), api, "job_1", fc, 0, 0, func(*management.Job) { shown++ })
			if err == nil && job.Status != management.JobCompleted {
				err = errors.New("returned before completed: " + job.Status)
			}
			done <- err
		}()
		if err := driveToDeadline(fc, done); err != nil {
			t.Fatal(err)
		}
		reads := api.reads
		if shown != len(reads) {
			t.Errorf("show saw %d of %d reads", shown, len(reads))
		}
		if reads[0] != ImportPollMin {
			t.Errorf("first read at %v, want %v", reads[0], ImportPollMin)
		}
		for i := 1; i < len(reads); i++ {
			gap, want := reads[i]-reads[i-1], min(max(reads[i-1]/pollDivisor, ImportPollMin), ImportPollMax)
			if gap < want || gap > want+time.Millisecond {
				t.Errorf("end %v: read %d %v after the last, want %v", end, i, gap, want)
			}
		}
		last := reads[len(reads)-1]
		if late := last - end; late > max(end/pollDivisor, ImportPollMin)+time.Millisecond {
			t.Errorf("end %v seen at %v: %v late", end, last, late)
		}
		// poll_schedule.go: ≈ 68 reads for a job of 10 minutes.
		if len(reads) > 75 {
			t.Errorf("end %v: %d reads", end, len(reads))
		}
	}
}

// A read's error is returned as is; a cancelled context stops the wait.
func TestAwaitErrorsAndCancel(t *testing.T) {
	fc := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	boom := errors.New("boom")
	stub := &waitStub{clk: fc, replies: []waitReply{{status: management.JobPending, left: -1}, {err: boom}}}
	done := make(chan error, 1)
	go func() {
		_, err := Await(context.Background(), stub, "job_1", fc, time.Second, time.Minute, nil)
		done <- err
	}()
	if err := fc.Drive(time.Second, done); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the read's", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _, err := Await(ctx, stub, "job_1", fc, time.Second, time.Minute, nil); done <- err }()
	fc.BlockUntil(1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want canceled", err)
	}
}
