package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
)

const ms = time.Millisecond

// step is one reading of a job that is not done, and the wait pollPlan
// must choose after it.
type step struct {
	at     time.Duration // since the plan's start
	status string
	pct    int // -1: no percentage_done
	left   int // -1: no time_left_seconds
	want   time.Duration
}

func TestPollPlan(t *testing.T) {
	P, W := management.JobPending, management.JobProcessing
	cases := []struct {
		name      string
		submitted bool // false: a resumed job, first read at start
		steps     []step
	}{
		{"a fresh job is read every PollMin", true, []step{
			{250 * ms, P, -1, -1, 250 * ms},
			{500 * ms, P, -1, -1, 250 * ms},
			{2 * time.Second, P, -1, -1, 250 * ms},
		}},
		{"then a tenth of the time since submission", true, []step{
			{10 * time.Second, P, -1, -1, time.Second},
			{45 * time.Second, P, -1, -1, 4500 * ms},
		}},
		{"never more than PollMax", true, []step{
			{20 * time.Minute, P, -1, -1, 30 * time.Second},
		}},
		{"time_left 1 may mean a few ms: not a second's wait, not a bound", true, []step{
			{100 * ms, W, -1, 1, 250 * ms},
			{30 * time.Second, W, -1, 1, 3 * time.Second},
		}},
		{"a larger time_left bounds the wait", true, []step{
			{60 * time.Second, W, -1, 2, 2 * time.Second},
		}},
		{"and never lengthens it", true, []step{
			{20 * time.Second, W, -1, 3600, 2 * time.Second},
			{10 * time.Second, W, -1, 7, time.Second},
		}},
		{"progress aims at the extrapolated end, at most maxAims times", true, []step{
			// Anchored on the POST's pending: 600ms per percent, the end
			// is 30.6s away; the schedule's 3s is sooner.
			{30 * time.Second, W, 50, -1, 3 * time.Second},
			// From the first processing reading on: still 600ms/%.
			{33 * time.Second, W, 55, -1, 3300 * ms},
			// 5% left: 3s, plus one percent's worth for the flooring.
			{57 * time.Second, W, 95, -1, 3600 * ms},
			// The job slowed down; aim again, the last time.
			{60600 * ms, W, 99, -1, 2 * (30600 * ms / 49)},
			{61850 * ms, W, 99, -1, 6185 * ms},
		}},
		{"the first processing reading rates from the last pending one", true, []step{
			{250 * ms, P, -1, -1, 250 * ms},
			// Started after 250ms: at most 250ms/66 per percent, so the
			// aim may be late but is never early.
			{500 * ms, W, 66, 1, 35 * (250 * ms / 66)},
		}},
		{"a resumed job has no anchor for its first reading", false, []step{
			{0, W, 50, -1, 250 * ms},
			{250 * ms, W, 50, -1, 250 * ms}, // no progress: no rate
			{500 * ms, W, 100, -1, 250 * ms},
		}},
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range cases {
		p := newPollPlan(t0, ImportPollMin, ImportPollMax, c.submitted, 0)
		for i, s := range c.steps {
			job := &management.Job{Status: s.status}
			if s.pct >= 0 {
				job.PercentageDone = &s.pct
			}
			if s.left >= 0 {
				job.TimeLeftSeconds = &s.left
			}
			if got := p.next(t0.Add(s.at), job); got != s.want {
				t.Errorf("%s, step %d (%s %s): wait %s, want %s", c.name, i, s.at, s.status, got, s.want)
			}
		}
	}
}

// linearJob is a tenant whose one import job is pending for pending, then
// processing (percentage_done and time_left_seconds rising and falling
// linearly, as the sandbox reports them) for processing, then completed.
type linearJob struct {
	clk                 *clock.Fake
	pending, processing time.Duration

	mu     sync.Mutex
	start  time.Time
	polls  int
	seenAt time.Time // when a read first said completed
}

func (l *linearJob) ImportUsers(ctx context.Context, r management.ImportRequest) (*management.Job, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.start = l.clk.Now()
	return &management.Job{ID: "job_1", Status: management.JobPending}, nil
}

func (l *linearJob) Job(ctx context.Context, id string) (*management.Job, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.polls++
	now := l.clk.Now()
	in := now.Sub(l.start)
	switch {
	case in < l.pending:
		return &management.Job{ID: id, Status: management.JobPending}, nil
	case in < l.pending+l.processing:
		pct := int(100 * (in - l.pending) / l.processing)
		left := int(math.Ceil((l.pending + l.processing - in).Seconds()))
		return &management.Job{ID: id, Status: management.JobProcessing, PercentageDone: &pct, TimeLeftSeconds: &left}, nil
	}
	if l.seenAt.IsZero() {
		l.seenAt = now
	}
	return &management.Job{ID: id, Status: management.JobCompleted, Summary: &management.JobSummary{Inserted: 1, Total: 1}}, nil
}

func (l *linearJob) JobErrors(ctx context.Context, id string) (*management.JobErrors, error) {
	return &management.JobErrors{Kind: management.JobErrorsNone}, nil
}

// TestPollScheduleAgainstJobs runs the scheduler against jobs of known
// length and bounds how late it sees each one done, and what that costs.
func TestPollScheduleAgainstJobs(t *testing.T) {
	for _, c := range []struct {
		pending, processing time.Duration
		maxLate             time.Duration
		maxPolls            int
	}{
		// Sub-second jobs (the benchmark's): a few ms late, not a second.
		{250 * ms, 250 * ms, 10 * ms, 3},
		// Misaligned with PollMin: the first processing reading rates
		// from the last pending one, so the aim is late, never early.
		{300 * ms, 300 * ms, 40 * ms, 3},
		{2 * time.Second, 2 * time.Second, 25 * ms, 16},
		{2150 * ms, 2150 * ms, 30 * ms, 16},
		// Real jobs: late by about one percent of the processing time, in
		// ≈ 10·ln(D/PollMin) − 13 reads (42 and 65), plus the first and
		// the aimed ones (and PollMax's cap after 5 minutes).
		{20 * time.Second, 40 * time.Second, 500 * ms, 45},
		{time.Minute, 9 * time.Minute, 6 * time.Second, 72},
	} {
		clk := clock.NewFake(t0)
		api := &linearJob{clk: clk, pending: c.pending, processing: c.processing}
		j := &memJournal{}
		s := &Scheduler{API: api, Journal: j, Clock: clk, ConnectionID: "con_AAAAAAAAAAAAAAAA",
			PollMin: ImportPollMin, PollMax: ImportPollMax}
		done := runAsync(s, context.Background(), feed(chunk(1, "a@x")))
		if err := driveToDeadline(clk, done); err != nil {
			t.Fatal(err)
		}
		api.mu.Lock()
		late, polls := api.seenAt.Sub(api.start)-c.pending-c.processing, api.polls
		api.mu.Unlock()
		t.Logf("job %s: seen done %s late after %d reads", c.pending+c.processing, late, polls)
		if late < 0 || late > c.maxLate || polls > c.maxPolls {
			t.Errorf("job %s: seen done %s late after %d reads, want ≤ %s and ≤ %d reads",
				c.pending+c.processing, late, polls, c.maxLate, c.maxPolls)
		}
		if j.count(report.Created) != 1 {
			t.Errorf("journal = %+v", j.all())
		}
	}
}

// driveToDeadline jumps clk to each wait's deadline as soon as the code
// under test waits, until done yields.
func driveToDeadline(clk *clock.Fake, done <-chan error) error {
	for {
		parked := make(chan struct{})
		go func() { clk.BlockUntil(1); close(parked) }()
		select {
		case err := <-done:
			clk.After(time.Hour) // release the BlockUntil goroutine
			return err
		case <-parked:
			if d, ok := clk.NextDeadline(); ok {
				clk.Advance(d.Sub(clk.Now()))
			}
		}
	}
}

// timedJobs is a tenant whose import jobs each take perRecord per record
// from their submission, and that records when each was seen done.
type timedJobs struct {
	clk       *clock.Fake
	perRecord time.Duration

	mu    sync.Mutex
	jobs  []*timedJob
	reads int
}

type timedJob struct {
	end, seen time.Time
	reads     int
}

func (a *timedJobs) ImportUsers(ctx context.Context, r management.ImportRequest) (*management.Job, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var users []json.RawMessage
	if err := json.Unmarshal(r.Users, &users); err != nil {
		return nil, err
	}
	a.jobs = append(a.jobs, &timedJob{end: a.clk.Now().Add(a.perRecord * time.Duration(len(users)))})
	return &management.Job{ID: fmt.Sprintf("job_%d", len(a.jobs)-1), Status: management.JobPending}, nil
}

func (a *timedJobs) Job(ctx context.Context, id string) (*management.Job, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var n int
	fmt.Sscanf(id, "job_%d", &n)
	j := a.jobs[n]
	a.reads++
	j.reads++
	now := a.clk.Now()
	if now.Before(j.end) {
		return &management.Job{ID: id, Status: management.JobProcessing}, nil
	}
	if j.seen.IsZero() {
		j.seen = now
	}
	return &management.Job{ID: id, Status: management.JobCompleted, Summary: &management.JobSummary{Inserted: 1, Total: 1}}, nil
}

func (a *timedJobs) JobErrors(ctx context.Context, id string) (*management.JobErrors, error) {
	return &management.JobErrors{Kind: management.JobErrorsNone}, nil
}

// Once a job of the run has ended, later ones are read just before and
// just after their expected end: each is seen done within a twentieth of
// its length (and PollMin), in 3 reads (5 for the first aimed one).
// The first job is polled as before (a tenth of the time since submission).
func TestLaterJobsAimAtTheEnd(t *testing.T) {
	for _, c := range []struct {
		perRecord time.Duration
		late      time.Duration
	}{
		{3 * time.Second, ImportPollMin}, // 30s jobs: ≥ 99% busy
		{200 * ms, 100 * ms},             // 2s jobs: ≥ 95% busy
	} {
		clk := clock.NewFake(t0)
		api := &timedJobs{clk: clk, perRecord: c.perRecord}
		s := &Scheduler{API: api, Journal: &memJournal{}, Clock: clk, ConnectionID: "con_AAAAAAAAAAAAAAAA", MaxJobs: 1,
			PollMin: ImportPollMin, PollMax: ImportPollMax}
		var chunks []input.Chunk
		for i := range 6 {
			var emails []string
			for k := range 10 {
				emails = append(emails, fmt.Sprintf("u%d-%d@x", i, k))
			}
			chunks = append(chunks, chunk(i+1, emails...))
		}
		if err := driveToDeadline(clk, runAsync(s, context.Background(), feed(chunks...))); err != nil {
			t.Fatal(err)
		}
		for i, j := range api.jobs {
			late := j.seen.Sub(j.end)
			t.Logf("%s jobs, job %d: seen %s late after %d reads", c.perRecord*10, i, late, j.reads)
			reads := 3
			if i == 1 {
				reads = 5 // its bound came from the first job's coarser reads
			}
			if i > 0 && (late < 0 || late > c.late || j.reads > reads) {
				t.Errorf("%s jobs, job %d: seen %s late after %d reads, want ≤ %s and ≤ %d reads", c.perRecord*10, i, late, j.reads, c.late, reads)
			}
		}
	}
}

// Reads of all jobs share the run's budget: PollRate reads a second, in
// bursts of pollBurst per slot (the reads around a job's expected end).
func TestPollBudget(t *testing.T) {
	clk := clock.NewFake(t0)
	s := &Scheduler{Clock: clk, MaxJobs: 2, PollRate: func() float64 { return 0.4 }}
	s.defaults()
	var at []time.Duration
	done := make(chan error, 1)
	go func() {
		for range 2*pollBurst + 2 {
			if err := s.pollTurn(context.Background()); err != nil {
				done <- err
				return
			}
			at = append(at, clk.Now().Sub(t0))
		}
		done <- nil
	}()
	if err := driveToDeadline(clk, done); err != nil {
		t.Fatal(err)
	}
	var want []time.Duration
	for range 2 * pollBurst {
		want = append(want, 0) // the ends of both slots' jobs
	}
	want = append(want, 2500*ms, 5*time.Second)
	if !reflect.DeepEqual(at, want) {
		t.Errorf("reads at %v, want %v", at, want)
	}
}
