package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// memJournal is an in-memory Journal.
type memJournal struct {
	mu      sync.Mutex
	entries []report.Entry
	fail    error
}

func (j *memJournal) Record(e report.Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.fail != nil {
		return j.fail
	}
	j.entries = append(j.entries, e.Members()...) // a chunk line as its records
	return nil
}

func (j *memJournal) all() []report.Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]report.Entry(nil), j.entries...)
}

// finals maps "file:line" to the record's final entries.
func (j *memJournal) finals() map[string][]report.Entry {
	out := map[string][]report.Entry{}
	for _, e := range j.all() {
		if e.Status.IsFinal() {
			k := fmt.Sprintf("%s:%d", e.File, e.Line)
			out[k] = append(out[k], e)
		}
	}
	return out
}

func (j *memJournal) count(st report.Status) int {
	n := 0
	for _, e := range j.all() {
		if e.Status == st {
			n++
		}
	}
	return n
}

// fakeJob is one job of fakeImportAPI: it reads back as `running` until
// polled doneAfter times, then as `final`.
type fakeJob struct {
	running   management.Job
	final     management.Job
	doneAfter int
	polls     int
	errs      *management.JobErrors
	done      bool
}

// fakeImportAPI implements ImportAPI in memory and counts concurrency.
type fakeImportAPI struct {
	mu          sync.Mutex
	n           int
	jobs        map[string]*fakeJob
	requests    []management.ImportRequest
	inflight    int
	maxInflight int
	jobCalls    int
	errCalls    int
	// before, when set, runs first in ImportUsers; a non-nil error is returned.
	before func(call int, r management.ImportRequest) error
	// shape customises a new job.
	shape func(fj *fakeJob, r management.ImportRequest)
	// errsErr, when set, is returned by JobErrors.
	errsErr error
}

func newFakeImportAPI() *fakeImportAPI { return &fakeImportAPI{jobs: map[string]*fakeJob{}} }

func (f *fakeImportAPI) ImportUsers(ctx context.Context, r management.ImportRequest) (*management.Job, error) {
	f.mu.Lock()
	f.n++
	call := f.n
	before := f.before
	f.mu.Unlock()
	if before != nil {
		if err := before(call, r); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r)
	id := fmt.Sprintf("job_%d", call)
	var users []map[string]any
	_ = json.Unmarshal(r.Users, &users)
	fj := &fakeJob{
		running:   management.Job{ID: id, Type: "users_import", Status: management.JobPending},
		final:     management.Job{ID: id, Type: "users_import", Status: management.JobCompleted, Summary: &management.JobSummary{Inserted: len(users), Total: len(users)}},
		doneAfter: 2,
		errs:      &management.JobErrors{Kind: management.JobErrorsNone},
	}
	if f.shape != nil {
		f.shape(fj, r)
	}
	f.jobs[id] = fj
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	j := fj.running
	return &j, nil
}

func (f *fakeImportAPI) Job(ctx context.Context, id string) (*management.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobCalls++
	fj, ok := f.jobs[id]
	if !ok {
		return nil, &management.APIError{StatusCode: 404, Err: "Not Found", Message: "The job does not exist.", ErrorCode: "inexistent_job"}
	}
	fj.polls++
	if fj.polls < fj.doneAfter {
		j := fj.running
		return &j, nil
	}
	if !fj.done {
		fj.done = true
		f.inflight--
	}
	j := fj.final
	return &j, nil
}

func (f *fakeImportAPI) JobErrors(ctx context.Context, id string) (*management.JobErrors, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errCalls++
	if f.errsErr != nil {
		return nil, f.errsErr
	}
	return f.jobs[id].errs, nil
}

// unknownFate stands in for throttle's UnknownFateError.
type unknownFate struct{}

func (unknownFate) Error() string {
	return "POST /api/v2/jobs/users-imports: connection reset after the request was sent"
}
func (unknownFate) UnknownFate() bool { return true }

func jobLimitErr() error {
	return &management.APIError{StatusCode: 429, Err: "Too Many Requests", Message: "There are 2 active import users jobs, please wait until some of them are finished and try again"}
}

// chunk builds chunk seq with one record per email, on file "in.json".
func chunk(seq int, emails ...string) input.Chunk {
	c := input.Chunk{Seq: seq}
	var users []map[string]string
	for i, e := range emails {
		c.Records = append(c.Records, input.ChunkRecord{File: "in.json", Line: seq*100 + i, Email: e})
		users = append(users, map[string]string{"email": e})
	}
	c.Body, _ = json.Marshal(users)
	return c
}

func feed(chunks ...input.Chunk) <-chan input.Chunk {
	ch := make(chan input.Chunk, len(chunks))
	for _, c := range chunks {
		ch <- c
	}
	close(ch)
	return ch
}

func newScheduler(api ImportAPI, j report.Journal, clk clock.Clock) *Scheduler {
	return &Scheduler{API: api, Journal: j, Clock: clk, ConnectionID: "con_AAAAAAAAAAAAAAAA", PollMin: time.Second, PollMax: 8 * time.Second}
}

func runAsync(s *Scheduler, ctx context.Context, ch <-chan input.Chunk) <-chan error {
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ch) }()
	return done
}
