package create

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

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

func (j *memJournal) all() []report.Entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]report.Entry(nil), j.entries...)
}

// finals maps line to the record's final entries.
func (j *memJournal) finals() map[int][]report.Entry {
	out := map[int][]report.Entry{}
	for _, e := range j.all() {
		if e.Status.IsFinal() {
			out[e.Line] = append(out[e.Line], e)
		}
	}
	return out
}

func (j *memJournal) with(st report.Status) []report.Entry {
	var out []report.Entry
	for _, e := range j.all() {
		if e.Status == st {
			out = append(out, e)
		}
	}
	return out
}

// fakeTenant implements API and jobs.VerifyAPI over an in-memory user store.
type fakeTenant struct {
	mu       sync.Mutex
	clk      clock.Clock
	users    map[string]*management.User // by lower-cased email
	creates  []management.CreateUserRequest
	created  map[string]int // real creations per email
	updates  map[string]management.UpdateUserRequest
	lookups  []string
	verified []string
	// jobUser maps verification job → user; failJobs names the users whose
	// verification job ends failed.
	jobUser  map[string]string
	failJobs map[string]bool
	jobReads int
	// hook runs first in CreateUser with the per-email attempt number. It
	// returns the error to answer with and whether the create happens anyway
	// (an answer lost after the tenant acted).
	hook      func(email string, attempt int) (error, bool)
	updateErr error
	// updateErrs: the first updateErrs PATCHes lose their answer (before
	// the tenant acted).
	updateErrs int
	patches    int
	lookupErr  error
	// lag: the first lag lookups miss (users-by-email is eventually consistent).
	lag int
	// gate, when set, holds CreateUser until it yields or ctx ends.
	gate    chan struct{}
	arrived chan struct{}
	calls   int
}

func newTenant(clk clock.Clock) *fakeTenant {
	return &fakeTenant{clk: clk, users: map[string]*management.User{}, created: map[string]int{}, updates: map[string]management.UpdateUserRequest{}}
}

func (f *fakeTenant) add(email string, createdAt time.Time) {
	f.users[strings.ToLower(email)] = &management.User{UserID: "auth0|old-" + email, Email: email, CreatedAt: &createdAt,
		Identities: []management.Identity{{Connection: "db", Provider: "auth0"}}}
}

func (f *fakeTenant) CreateUser(ctx context.Context, r management.CreateUserRequest) (*management.User, error) {
	f.mu.Lock()
	f.calls++
	gate, arrived := f.gate, f.arrived
	f.mu.Unlock()
	if arrived != nil {
		arrived <- struct{}{}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creates = append(f.creates, r)
	key := strings.ToLower(r.Email)
	attempt := 0
	for _, c := range f.creates {
		if strings.EqualFold(c.Email, r.Email) {
			attempt++
		}
	}
	var hookErr error
	act := true
	if f.hook != nil {
		hookErr, act = f.hook(r.Email, attempt)
	}
	if !act {
		return nil, hookErr
	}
	if _, ok := f.users[key]; ok {
		if hookErr != nil {
			return nil, hookErr
		}
		return nil, &management.APIError{StatusCode: 409, Err: "Conflict", Message: "The user already exists.", ErrorCode: "auth0_idp_error"}
	}
	now := f.clk.Now()
	u := &management.User{UserID: "auth0|" + key, Email: key, CreatedAt: &now, Identities: []management.Identity{{Connection: r.Connection, Provider: "auth0"}}}
	f.users[key] = u
	f.created[key]++
	if hookErr != nil {
		return nil, hookErr
	}
	c := *u
	return &c, nil
}

func (f *fakeTenant) UpdateUser(ctx context.Context, id string, r management.UpdateUserRequest) (*management.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.patches++
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	if f.patches <= f.updateErrs {
		return nil, unknownFate{}
	}
	f.updates[id] = r
	return &management.User{UserID: id}, nil
}

func (f *fakeTenant) UsersByEmail(ctx context.Context, email string) ([]management.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups = append(f.lookups, email)
	if f.lookupErr != nil {
		return nil, f.lookupErr
	}
	if len(f.lookups) <= f.lag {
		return []management.User{}, nil
	}
	if u, ok := f.users[email]; ok { // case-sensitive, like Auth0
		return []management.User{*u}, nil
	}
	return []management.User{}, nil
}

// Job reads a verification job back: failed for the users in failJobs,
// else completed.
func (f *fakeTenant) Job(ctx context.Context, id string) (*management.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.jobReads++
	st := management.JobCompleted
	if f.failJobs[f.jobUser[id]] {
		st = management.JobFailed
	}
	return &management.Job{ID: id, Type: "verification_email", Status: st}, nil
}

func (f *fakeTenant) SendVerificationEmail(ctx context.Context, r management.VerificationEmailRequest) (*management.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verified = append(f.verified, r.UserID)
	id := "job_v" + fmt.Sprint(len(f.verified))
	if f.jobUser == nil {
		f.jobUser = map[string]string{}
	}
	f.jobUser[id] = r.UserID
	return &management.Job{ID: id, Type: "verification_email", Status: "pending"}, nil
}

type unknownFate struct{}

func (unknownFate) Error() string {
	return "POST /api/v2/users: connection reset after the request was sent"
}
func (unknownFate) UnknownFate() bool { return true }

func rec(line int, email, password string) input.Record {
	return input.Record{File: "u.csv", Line: line, User: input.User{Email: email}, Password: password}
}

func feed(recs ...input.Record) <-chan input.Record {
	ch := make(chan input.Record, len(recs))
	for _, r := range recs {
		ch <- r
	}
	close(ch)
	return ch
}

func newRunner(api API, j *memJournal, clk clock.Clock) *Runner {
	return &Runner{API: api, Journal: j, Clock: clk, Connection: "db", Concurrency: 4, RunStarted: t0}
}
