package jobs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
)

// The verifier tests run in a synctest bubble: clock.Real{} is the bubble's
// fake clock there, and synctest.Wait shows what the code does while every
// goroutine waits.

// fakeVerifyAPI answers verification requests with job "job_v"+user id; a
// job reads back as script[id] says, one status per read (the last one
// repeating), or completed when unscripted.
type fakeVerifyAPI struct {
	mu      sync.Mutex
	users   map[string][]management.User
	lookups int
	sent    []management.VerificationEmailRequest
	sendErr error
	script  map[string][]management.Job
	readErr map[string]error
	reads   map[string][]time.Time
	// gate, when set, holds every read until it yields.
	gate    chan struct{}
	reading int // reads in flight
	maxRead int
}

func (f *fakeVerifyAPI) SendVerificationEmail(ctx context.Context, r management.VerificationEmailRequest) (*management.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sendErr != nil {
		return nil, f.sendErr
	}
	f.sent = append(f.sent, r)
	return &management.Job{ID: "job_v" + r.UserID, Type: "verification_email", Status: management.JobPending}, nil
}

func (f *fakeVerifyAPI) UsersByEmail(ctx context.Context, email string) ([]management.User, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups++
	return f.users[email], nil
}

func (f *fakeVerifyAPI) Job(ctx context.Context, id string) (*management.Job, error) {
	f.mu.Lock()
	f.reading++
	f.maxRead = max(f.maxRead, f.reading)
	gate := f.gate
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.reading--; f.mu.Unlock() }()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reads == nil {
		f.reads = map[string][]time.Time{}
	}
	f.reads[id] = append(f.reads[id], time.Now())
	if err := f.readErr[id]; err != nil {
		return nil, err
	}
	s := f.script[id]
	if len(s) == 0 {
		return &management.Job{ID: id, Type: "verification_email", Status: management.JobCompleted}, nil
	}
	j := s[min(len(f.reads[id]), len(s))-1]
	j.ID = id
	return &j, nil
}

// readsOf returns when job id was read.
func (f *fakeVerifyAPI) readsOf(id string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.reads[id]...)
}

func (f *fakeVerifyAPI) jobsRead() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reads)
}

func (f *fakeVerifyAPI) posts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

func TestVerifierSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeVerifyAPI{users: map[string][]management.User{
			"ann@x.com": {{UserID: "auth0|ann"}},
			"two@x.com": {{UserID: "google|2", Identities: []management.Identity{{Connection: "google-oauth2"}}}, {UserID: "auth0|2", Identities: []management.Identity{{Connection: "db"}}}},
		}}
		j := &memJournal{}
		v := &Verifier{API: api, Journal: j, ClientID: "app1", Connection: "db", Clock: clock.Real{}}
		ctx := context.Background()
		for i, c := range []struct{ email, id string }{{"x@x.com", "auth0|known"}, {"Ann@X.com", ""}, {"ann@x.com", ""}, {"ghost@x.com", ""}, {"two@x.com", ""}} {
			if err := v.Send(ctx, report.Key{File: "f", Line: i + 1}, c.email, c.id); err != nil {
				t.Fatal(err)
			}
		}
		if err := v.Wait(); err != nil {
			t.Fatal(err)
		}
		got := outcomes(t, j.all())
		want := []struct {
			st          report.Status
			user, job   string
			code, cause string
		}{
			{report.VerificationSent, "auth0|known", "job_vauth0|known", "", ""},
			{report.VerificationSent, "auth0|ann", "job_vauth0|ann", "", ""},
			{report.VerificationSent, "auth0|ann", "job_vauth0|ann", "", ""},
			{report.VerificationFailed, "", "", CodeUserNotFound, "user not found"},
			{report.VerificationSent, "auth0|2", "job_vauth0|2", "", ""},
		}
		if len(got) != len(want) {
			t.Fatalf("entries = %+v", got)
		}
		slices.SortFunc(got, func(a, b report.Entry) int { return a.Line - b.Line })
		for i, w := range want {
			e := got[i]
			if e.Status != w.st || e.UserID != w.user || e.JobID != w.job || e.Code != w.code || e.Reason != w.cause || e.Line != i+1 {
				t.Errorf("entry %d = %+v, want %+v", i, e, w)
			}
		}
		if api.lookups != 3 {
			t.Fatalf("lookups = %d, want 3 (ann is cached)", api.lookups)
		}
		if api.sent[0].ClientID != "app1" {
			t.Fatalf("client id not sent: %+v", api.sent[0])
		}
	})
}

// A verification job is only a request: Send journals it with its job id
// and returns at once, and the job is read back in the background (first
// after FirstRead, then with Wait's backoff); only its end decides the
// line. verification_sent used to be written as soon as the POST answered.
func TestVerifierReadsTheJobBack(t *testing.T) {
	pending := management.Job{Status: management.JobPending}
	cases := []struct {
		name   string
		script []management.Job
		st     report.Status
		code   string
		reason string
		waits  []time.Duration // from the request to each read
	}{
		{"completed", nil, report.VerificationSent, "", "", []time.Duration{time.Second}},
		{"pending, then completed", []management.Job{pending, pending, {Status: management.JobCompleted}}, report.VerificationSent, "", "", []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{"expired: completed long ago", []management.Job{{Status: management.JobExpired}}, report.VerificationSent, "", "", []time.Duration{time.Second}},
		{"failed, no details", []management.Job{pending, {Status: management.JobFailed}}, report.VerificationFailed, CodeJobFailed, "the verification job failed", []time.Duration{time.Second, 2 * time.Second}},
		{"failed with details", []management.Job{{Status: management.JobFailed, StatusDetails: "mailbox unavailable"}}, report.VerificationFailed, CodeJobFailed, "mailbox unavailable", []time.Duration{time.Second}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := &fakeVerifyAPI{script: map[string][]management.Job{"job_vauth0|a": tc.script}}
				j := &memJournal{}
				v := &Verifier{API: api, Journal: j, Clock: clock.Real{}}
				start := time.Now()
				if err := v.Send(context.Background(), report.Key{File: "f", Line: 1}, "a@x", "auth0|a"); err != nil {
					t.Fatal(err)
				}
				// Send did not wait for the job: it is journalled, not read.
				e := j.all()
				if len(e) != 2 || e[1].Status != report.VerificationSending || e[1].JobID != "job_vauth0|a" || api.jobsRead() != 0 {
					t.Fatalf("after Send: journal %+v, %d reads; want the job id journalled and no read yet", e, api.jobsRead())
				}
				if err := v.Wait(); err != nil {
					t.Fatal(err)
				}
				e = j.all()
				if len(e) != 3 || e[2].Status != tc.st || e[2].JobID != "job_vauth0|a" || e[2].UserID != "auth0|a" || e[2].Code != tc.code || e[2].Reason != tc.reason {
					t.Fatalf("journal %+v, want %s %s %q", e, tc.st, tc.code, tc.reason)
				}
				var waits []time.Duration
				for _, at := range api.readsOf("job_vauth0|a") {
					waits = append(waits, at.Sub(start))
				}
				if !slices.Equal(waits, tc.waits) {
					t.Fatalf("reads at %v, want %v", waits, tc.waits)
				}
			})
		})
	}
}

// A job the tenant no longer knows (job data is kept 24 hours) is reported
// failed; an error about the run stops it, and the job, still journalled
// with its id, is left for a resume; so is a job whose run was stopped.
func TestVerifierReadBackErrors(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		stop  bool // the context ends while the job is pending
		fatal bool
		code  string
	}{
		{"gone", &management.APIError{StatusCode: 404, Err: "Not Found", Message: "The job does not exist.", ErrorCode: "inexistent_job"}, false, false, CodeJobNotFound},
		{"missing scope", &management.APIError{StatusCode: 403, Err: "Forbidden", Message: "Insufficient scope, expected any of: read:users", ErrorCode: "insufficient_scope"}, false, true, ""},
		{"tenant down", &management.APIError{StatusCode: 503, Err: "Service Unavailable", Message: "try later"}, false, true, ""},
		{"run stopped", nil, true, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				api := &fakeVerifyAPI{readErr: map[string]error{"job_vauth0|a": tc.err}}
				if tc.stop {
					api.script = map[string][]management.Job{"job_vauth0|a": {{Status: management.JobPending}}}
				}
				j := &memJournal{}
				v := &Verifier{API: api, Journal: j, Clock: clock.Real{}}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if err := v.Send(ctx, report.Key{File: "f", Line: 1}, "a@x", "auth0|a"); err != nil {
					t.Fatal(err)
				}
				if tc.stop {
					time.Sleep(10 * time.Second) // a few pending reads
					cancel()
				}
				err := v.Wait()
				var ms *management.MissingScopeError
				switch {
				case tc.fatal && (err == nil || !strings.Contains(err.Error(), "job_vauth0|a")):
					t.Fatalf("Wait = %v, want the read's error naming the job", err)
				case tc.name == "missing scope" && !errors.As(err, &ms):
					t.Fatalf("Wait = %v, want a *MissingScopeError", err)
				case !tc.fatal && err != nil:
					t.Fatalf("Wait = %v", err)
				}
				if tc.fatal {
					// The run stops: the next Send says so and sends nothing.
					if err := v.Send(ctx, report.Key{File: "f", Line: 2}, "b@x", "auth0|b"); err == nil || api.posts() != 1 {
						t.Fatalf("Send after a fatal read = %v, %d posts", err, api.posts())
					}
				}
				e := j.all()
				last := e[len(e)-1]
				if tc.code == "" {
					if len(e) != 2 || last.Status != report.VerificationSending || last.JobID != "job_vauth0|a" {
						t.Fatalf("journal %+v, want the job left with its id", e)
					}
					return
				}
				if last.Status != report.VerificationFailed || last.Code != tc.code || last.JobID != "job_vauth0|a" {
					t.Fatalf("journal %+v, want failed %s", e, tc.code)
				}
			})
		})
	}
}

// Resume reads back a job an earlier run requested, at once, and never
// sends the email again.
func TestVerifierResumeReadsBackWithoutSending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &fakeVerifyAPI{script: map[string][]management.Job{
			"job_old1": {{Status: management.JobExpired}},
			"job_old2": {{Status: management.JobFailed}},
		}}
		j := &memJournal{}
		v := &Verifier{API: api, Journal: j, Clock: clock.Real{}}
		start := time.Now()
		for i, id := range []string{"job_old1", "job_old2"} {
			if err := v.Resume(context.Background(), report.Key{File: "f", Line: i + 1}, "a@x", "auth0|a", id); err != nil {
				t.Fatal(err)
			}
		}
		if err := v.Wait(); err != nil {
			t.Fatal(err)
		}
		if r := api.readsOf("job_old1"); api.posts() != 0 || len(r) != 1 || r[0] != start {
			t.Fatalf("%d sent, read at %v; want no email and one read at once", api.posts(), r)
		}
		got := map[string]report.Status{}
		for _, e := range j.all() {
			got[e.JobID] = e.Status
		}
		if got["job_old1"] != report.VerificationSent || got["job_old2"] != report.VerificationFailed || len(j.all()) != 2 {
			t.Fatalf("journal %+v", j.all())
		}
	})
}

// MaxInFlight bounds the jobs being read back: Send waits for a slot before
// it requests anything; MaxReads bounds the reads in flight.
func TestVerifierBoundsTheReadBack(t *testing.T) {
	t.Run("jobs", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			pending := []management.Job{{Status: management.JobPending}}
			api := &fakeVerifyAPI{script: map[string][]management.Job{"job_vauth0|0": pending, "job_vauth0|1": pending}}
			j := &memJournal{}
			v := &Verifier{API: api, Journal: j, Clock: clock.Real{}, MaxInFlight: 2}
			// On failure, stop what still waits, so the bubble can end.
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			defer func() { cancel(); <-done; _ = v.Wait() }()
			go func() {
				for i := range 3 {
					if err := v.Send(ctx, report.Key{File: "f", Line: i + 1}, "u@x", fmt.Sprintf("auth0|%d", i)); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			time.Sleep(time.Minute)
			synctest.Wait()
			if n := api.posts(); n != 2 || j.count(report.VerificationSending) != 4 {
				t.Fatalf("%d emails requested while 2 jobs are pending, journal %+v; want 2", n, j.all())
			}
			api.mu.Lock()
			api.script["job_vauth0|0"] = []management.Job{{Status: management.JobCompleted}}
			api.mu.Unlock()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			done <- nil
			if n := api.posts(); n != 3 {
				t.Fatalf("%d emails requested after a job ended, want 3", n)
			}
			api.mu.Lock()
			api.script["job_vauth0|1"] = nil
			api.mu.Unlock()
			if err := v.Wait(); err != nil {
				t.Fatal(err)
			}
			if n := j.count(report.VerificationSent); n != 3 {
				t.Fatalf("%d sent, want 3", n)
			}
		})
	})
	t.Run("reads", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			api := &fakeVerifyAPI{gate: make(chan struct{})}
			v := &Verifier{API: api, Journal: &memJournal{}, Clock: clock.Real{}, MaxReads: 2}
			for i := range 5 {
				if err := v.Resume(context.Background(), report.Key{File: "f", Line: i + 1}, "u@x", "auth0|u", fmt.Sprintf("job_%d", i)); err != nil {
					t.Fatal(err)
				}
			}
			synctest.Wait()
			api.mu.Lock()
			reading := api.reading
			api.mu.Unlock()
			close(api.gate)
			if err := v.Wait(); err != nil {
				t.Fatal(err)
			}
			if reading != 2 || api.maxRead != 2 || api.jobsRead() != 5 {
				t.Fatalf("%d reads in flight while all wait, at most %d at once, %d jobs read; want 2, 2 and 5", reading, api.maxRead, api.jobsRead())
			}
		})
	})
}

func TestVerifierErrors(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		fatal bool
		code  string
	}{
		{"custom domain missing", &management.APIError{StatusCode: 400, Err: "Bad Request", Message: "The custom domain does not exist for the tenant."}, true, ""},
		{"custom domain format", &management.APIError{StatusCode: 400, Err: "Bad Request", Message: "The `auth0-custom-domain` HTTP header has an invalid format."}, true, ""},
		{"multiple custom domains", &management.APIError{StatusCode: 409, Err: "Conflict", Message: "The tenant has multiple verified custom domains."}, true, ""},
		{"missing scope", &management.APIError{StatusCode: 403, Err: "Forbidden", Message: "Insufficient scope, expected any of: update:users", ErrorCode: "insufficient_scope"}, true, ""},
		{"other 400", &management.APIError{StatusCode: 400, Err: "Bad Request", Message: "user has no email", ErrorCode: "invalid_body"}, false, "invalid_body"},
		{"unknown fate", unknownFate{}, false, CodeUnknownFate},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := &memJournal{}
			v := &Verifier{API: &fakeVerifyAPI{sendErr: tc.err}, Journal: j, MaxInFlight: 1}
			err := v.Send(context.Background(), report.Key{File: "f", Line: 1}, "a@x", "auth0|a")
			if tc.fatal {
				var cd *management.CustomDomainError
				var ms *management.MissingScopeError
				if err == nil || !(errors.As(err, &cd) || errors.As(err, &ms)) {
					t.Fatalf("err = %v, want a typed fatal error", err)
				}
				if ms != nil && !strings.Contains(err.Error(), "update:users") {
					t.Fatalf("err does not name the scope: %v", err)
				}
				// Only the write-ahead line: a fatal answer settles nothing.
				if e := j.all(); len(e) != 1 || e[0].Status != report.VerificationSending {
					t.Fatalf("journal = %+v", e)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if e := outcomes(t, j.all()); len(e) != 1 || e[0].Status != report.VerificationFailed || e[0].Code != tc.code {
				t.Fatalf("journal = %+v", e)
			}
			// No job to read back: its slot is free again (MaxInFlight 1).
			if err := v.Send(context.Background(), report.Key{File: "f", Line: 2}, "a@x", "auth0|a"); err != nil {
				t.Fatal(err)
			}
			if err := v.Wait(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// outcomes drops the write-ahead verification_sending lines, checking that
// each outcome of a request (one that carries a user id) follows one, and
// that the outcome of a job follows a line that recorded its id.
func outcomes(t *testing.T, entries []report.Entry) []report.Entry {
	t.Helper()
	var out []report.Entry
	pending := map[report.Key]report.Entry{}
	for _, e := range entries {
		if e.Status == report.VerificationSending {
			pending[e.Key()] = e
			continue
		}
		before, ok := pending[e.Key()]
		if e.UserID != "" && !ok {
			t.Errorf("%s for %s:%d without a verification_sending line before the request", e.Status, e.File, e.Line)
		}
		if e.JobID != "" && before.JobID != e.JobID {
			t.Errorf("%s for %s:%d names job %s, which no verification_sending line recorded", e.Status, e.File, e.Line, e.JobID)
		}
		delete(pending, e.Key())
		out = append(out, e)
	}
	return out
}

// The lookup cache is bounded: a verify of millions of users by email must
// not remember every answer, and a recent one is still answered from it.
func TestVerifierLookupCacheBounded(t *testing.T) {
	api := &fakeVerifyAPI{users: map[string][]management.User{}}
	v := &Verifier{API: api, Clock: clock.Real{}}
	for i := range lookupCacheMax + 10 {
		if _, _, _, err := v.resolve(context.Background(), fmt.Sprintf("u%d@example.com", i)); err != nil {
			t.Fatal(err)
		}
		if len(v.cache) > lookupCacheMax {
			t.Fatalf("cache holds %d lookups after %d, bound %d", len(v.cache), i+1, lookupCacheMax)
		}
	}
	before := api.lookups
	last := fmt.Sprintf("u%d@example.com", lookupCacheMax+9)
	if _, _, _, err := v.resolve(context.Background(), last); err != nil || api.lookups != before {
		t.Fatalf("a recent lookup was asked again (%d → %d): %v", before, api.lookups, err)
	}
}
