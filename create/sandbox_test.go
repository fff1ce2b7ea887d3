package create_test

// The Runner against the sandbox tenant through the real management client,
// with connections dropped before and after the tenant acts.

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/create"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
	"github.com/a0bulk/a0bulk/throttle"
)

const dbConn = "Username-Password-Authentication"

type journal struct {
	mu      sync.Mutex
	entries []report.Entry
}

func (j *journal) Record(e report.Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = append(j.entries, e)
	return nil
}

func TestRunnerAgainstFaultySandbox(t *testing.T) {
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	fc := clock.NewFake(start)
	srv := sandbox.New(sandbox.Config{Clock: fc, Faults: sandbox.Faults{Seed: 7, ResetBefore: 0.15, ResetAfter: 0.15}})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	client, err := management.New(management.Config{
		Domain: hs.Listener.Addr().String(), ClientID: "cid", ClientSecret: "sandbox-secret",
		Base:     hs.Client().Transport,
		Throttle: throttle.Options{Rate: 1e6, Burst: 1e6, MaxRetries: -1, Clock: clock.Real{}},
		Clock:    fc, Version: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.AddUser(management.User{Email: "old@example.com"}, dbConn)
	fc.Advance(time.Second) // the run starts after the old user was created

	j := &journal{}
	r := &create.Runner{API: client, Journal: j, Clock: fc, Connection: dbConn, RandomPassword: true,
		Concurrency: 4, RunStarted: fc.Now(), VerifyEmail: true,
		Verifier: &jobs.Verifier{API: client, Journal: j, Clock: fc}}
	const n = 40
	recs := make(chan input.Record, n+1)
	for i := range n {
		recs <- input.Record{File: "u.csv", Line: i + 2, User: input.User{Email: fmt.Sprintf("User%d@Example.com", i)}}
	}
	recs <- input.Record{File: "u.csv", Line: n + 2, User: input.User{Email: "OLD@example.com"}}
	close(recs)
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background(), recs) }()
	// The verification jobs are read back on fc: Run ends after them.
	if err := fc.Drive(time.Second, done); err != nil {
		t.Fatal(err)
	}

	st := srv.Stats()
	if st.Faults.ResetBefore == 0 || st.Faults.ResetAfter == 0 {
		t.Fatalf("the seed injected no faults: %+v", st.Faults)
	}
	if st.ImplicitVerificationEmails != 0 {
		t.Fatalf("%d users were emailed by POST /users itself", st.ImplicitVerificationEmails)
	}
	inTenant := map[string]int{}
	for _, u := range srv.Users() {
		inTenant[u.User.Email]++
	}
	finals := map[int]report.Entry{}
	verif := 0
	for _, e := range j.entries {
		if e.Status == report.VerificationSent || e.Status == report.VerificationFailed {
			verif++
		}
		if !e.Status.IsFinal() {
			continue
		}
		if _, dup := finals[e.Line]; dup {
			t.Fatalf("line %d has two final lines", e.Line)
		}
		finals[e.Line] = e
	}
	if len(finals) != n+1 {
		t.Fatalf("finals = %d, want %d", len(finals), n+1)
	}
	created := 0
	for line, e := range finals {
		email := strings.ToLower(e.Email)
		switch {
		case line == n+2:
			if e.Status != report.Skipped || e.Code != create.CodeUserExists {
				t.Errorf("old user: %+v", e)
			}
		case e.Status == report.Created:
			created++
			if inTenant[email] != 1 || e.UserID == "" {
				t.Errorf("%s created but in the tenant %d times (user id %q)", email, inTenant[email], e.UserID)
			}
		case e.Status == report.Failed && e.Code == create.CodeUnknownFate:
			if inTenant[email] != 0 {
				t.Errorf("%s reported failed but exists in the tenant", email)
			}
		default:
			t.Errorf("line %d: unexpected %+v", line, e)
		}
	}
	if created < n/2 || verif != created {
		t.Fatalf("created %d of %d, verification lines %d", created, n, verif)
	}
}
