package jobs

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
)

type fakeVerifyAPI struct {
	mu      sync.Mutex
	users   map[string][]management.User
	lookups int
	sent    []management.VerificationEmailRequest
	sendErr error
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

func TestVerifierSend(t *testing.T) {
	api := &fakeVerifyAPI{users: map[string][]management.User{
		"ann@x.com": {{UserID: "auth0|ann"}},
		"two@x.com": {{UserID: "google|2", Identities: []management.Identity{{Connection: "google-oauth2"}}}, {UserID: "auth0|2", Identities: []management.Identity{{Connection: "db"}}}},
	}}
	j := &memJournal{}
	v := &Verifier{API: api, Journal: j, ClientID: "app1", Connection: "db", Clock: clock.NewFake(t0)}
	ctx := context.Background()
	for i, c := range []struct{ email, id string }{{"x@x.com", "auth0|known"}, {"Ann@X.com", ""}, {"ann@x.com", ""}, {"ghost@x.com", ""}, {"two@x.com", ""}} {
		if err := v.Send(ctx, report.Key{File: "f", Line: i + 1}, c.email, c.id); err != nil {
			t.Fatal(err)
		}
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
			v := &Verifier{API: &fakeVerifyAPI{sendErr: tc.err}, Journal: j}
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
		})
	}
}

// outcomes drops the write-ahead verification_sending lines, checking that
// each outcome of a request (one that carries a user id) follows one.
func outcomes(t *testing.T, entries []report.Entry) []report.Entry {
	t.Helper()
	var out []report.Entry
	pending := map[report.Key]bool{}
	for _, e := range entries {
		if e.Status == report.VerificationSending {
			pending[e.Key()] = true
			continue
		}
		if e.UserID != "" && !pending[e.Key()] {
			t.Errorf("%s for %s:%d without a verification_sending line before the request", e.Status, e.File, e.Line)
		}
		delete(pending, e.Key())
		out = append(out, e)
	}
	return out
}
