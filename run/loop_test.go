package run

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/create"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
)

type memJournal struct {
	mu      sync.Mutex
	entries []report.Entry
}

func (j *memJournal) Record(e report.Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = append(j.entries, e)
	return nil
}

func (j *memJournal) finals() map[string]report.Status {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := map[string]report.Status{}
	for _, e := range j.entries {
		if e.Status.IsFinal() {
			out[e.Email] = e.Status
		}
	}
	return out
}

// importAPI completes every job at once, or refuses every import with err.
type importAPI struct {
	mu   sync.Mutex
	jobs int
	err  error
}

func (a *importAPI) ImportUsers(ctx context.Context, r management.ImportRequest) (*management.Job, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return nil, a.err
	}
	a.jobs++
	return &management.Job{ID: "job_" + strings.Repeat("x", a.jobs), Status: management.JobPending}, nil
}

func (a *importAPI) Job(ctx context.Context, id string) (*management.Job, error) {
	return &management.Job{ID: id, Status: management.JobCompleted}, nil
}

func (a *importAPI) JobErrors(ctx context.Context, id string) (*management.JobErrors, error) {
	return &management.JobErrors{Kind: management.JobErrorsNone}, nil
}

func records(emails ...string) source {
	return func(ctx context.Context, fn func(input.Record) error) error {
		for i, e := range emails {
			rec := input.Record{File: "in.csv", Line: i + 2, User: input.User{Email: e}}
			switch {
			case strings.HasPrefix(e, "bad"):
				rec.Errors = []input.FieldError{{Field: "email", Reason: "not an email address"}}
			case strings.HasPrefix(e, "huge"):
				rec.User.Name = strings.Repeat("n", 2000)
			}
			if err := fn(rec); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestImportSettlesEveryRecordOnce(t *testing.T) {
	j := &memJournal{}
	api := &importAPI{}
	read := 0
	readErr, sendErr := importLoop{
		Source:     records("a@x.io", "bad1", "b@x.io", "huge@x.io", "done@x.io", "c@x.io"),
		Journal:    j,
		Scheduler:  &jobs.Scheduler{API: api, Journal: j, PollMin: time.Millisecond},
		ChunkBytes: 45, // two small users per file
		Admit:      func(r *input.Record) (bool, error) { return r.User.Email != "done@x.io", nil },
		OnRead:     func() { read++ },
	}.Run(context.Background(), context.Background())
	if readErr != nil || sendErr != nil {
		t.Fatalf("Run: %v, %v", readErr, sendErr)
	}
	want := map[string]report.Status{
		"a@x.io": report.Created, "b@x.io": report.Created, "c@x.io": report.Created,
		"bad1": report.Invalid, "huge@x.io": report.Invalid,
	}
	got := j.finals()
	if len(got) != len(want) {
		t.Fatalf("finals = %v, want %v", got, want)
	}
	for email, st := range want {
		if got[email] != st {
			t.Errorf("%s: %s, want %s", email, got[email], st)
		}
	}
	if read != 6 {
		t.Errorf("OnRead saw %d records, want 6", read)
	}
	if api.jobs != 2 {
		t.Errorf("import jobs = %d, want 2 (files of at most 45 bytes)", api.jobs)
	}
}

func TestImportStopsReadingWhenTheSchedulerFails(t *testing.T) {
	j := &memJournal{}
	api := &importAPI{err: &management.APIError{StatusCode: 401, Err: "Unauthorized", Message: "Invalid token"}}
	emails := make([]string, 500)
	for i := range emails {
		emails[i] = strings.Repeat("u", 1+i%7) + "@x.io"
	}
	readErr, sendErr := importLoop{
		Source: records(emails...), Journal: j,
		Scheduler:  &jobs.Scheduler{API: api, Journal: j, PollMin: time.Millisecond},
		ChunkBytes: 40,
	}.Run(context.Background(), context.Background())
	if sendErr == nil || !management.IsUnauthorized(sendErr) {
		t.Fatalf("sendErr = %v, want the 401", sendErr)
	}
	if readErr == nil || !strings.Contains(readErr.Error(), "import stopped") {
		t.Fatalf("readErr = %v, want reading stopped", readErr)
	}
}

// usersAPI creates everyone.
type usersAPI struct{}

func (usersAPI) CreateUser(ctx context.Context, r management.CreateUserRequest) (*management.User, error) {
	return &management.User{UserID: "auth0|" + r.Email, Email: r.Email}, nil
}
func (usersAPI) UpdateUser(ctx context.Context, id string, r management.UpdateUserRequest) (*management.User, error) {
	return nil, errors.New("unexpected update")
}
func (usersAPI) UsersByEmail(ctx context.Context, email string) ([]management.User, error) {
	return nil, errors.New("unexpected lookup")
}

func TestCreateSkipsWhatAdmitSettled(t *testing.T) {
	j := &memJournal{}
	readErr, sendErr := createLoop{
		Source: records("a@x.io", "bad1", "done@x.io"),
		Runner: &create.Runner{API: usersAPI{}, Journal: j, Connection: "db", RandomPassword: true, Concurrency: 2},
		Admit:  func(r *input.Record) (bool, error) { return r.User.Email != "done@x.io", nil },
	}.Run(context.Background(), context.Background())
	if readErr != nil || sendErr != nil {
		t.Fatalf("Run: %v, %v", readErr, sendErr)
	}
	got := j.finals()
	if len(got) != 2 || got["a@x.io"] != report.Created || got["bad1"] != report.Invalid {
		t.Fatalf("finals = %v", got)
	}
}

func TestDescribeNamesEachField(t *testing.T) {
	got := describe([]input.FieldError{{Field: "email", Reason: "missing"}, {Reason: "unreadable"}})
	if got != "email: missing; unreadable" {
		t.Fatalf("Describe = %q", got)
	}
}
