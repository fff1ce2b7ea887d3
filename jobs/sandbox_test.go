package jobs_test

// The scheduler and the verifier against the sandbox tenant through the real
// management client, on one fake clock.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
	"github.com/a0bulk/a0bulk/throttle"
)

const dbConn = "Username-Password-Authentication"

var start = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

type journal struct {
	ch chan report.Entry
}

func (j *journal) Record(e report.Entry) error {
	for _, m := range e.Members() { // a chunk line as its records
		j.ch <- m
	}
	return nil
}

func sandboxClient(t *testing.T, sc sandbox.Config) (*sandbox.Server, *management.Client, *clock.Fake) {
	t.Helper()
	fc := clock.NewFake(start)
	sc.Clock = fc
	srv := sandbox.New(sc)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := management.New(management.Config{
		Domain: hs.Listener.Addr().String(), ClientID: "cid", ClientSecret: "sandbox-secret",
		Base:     hs.Client().Transport,
		Throttle: throttle.Options{Rate: 1e6, Burst: 1e6, MaxRetries: -1, Clock: clock.Real{}},
		Clock:    fc, Version: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, fc
}

// driveClock advances fc while the code under test waits on it, until done.
func driveClock(fc *clock.Fake, done <-chan error) error {
	for {
		parked := make(chan struct{})
		go func() { fc.BlockUntil(1); close(parked) }()
		select {
		case err := <-done:
			fc.After(time.Hour)
			return err
		case <-parked:
			fc.Advance(time.Second)
		}
	}
}

func TestSchedulerAgainstSandbox(t *testing.T) {
	srv, client, fc := sandboxClient(t, sandbox.Config{JobDelay: 5 * time.Second, Faults: sandbox.Faults{HeldSlots: 2, HeldFor: 20 * time.Second}})
	srv.AddUser(management.User{Email: "u5@example.com"}, dbConn)
	ctx := context.Background()
	conn, err := client.ConnectionByName(ctx, dbConn)
	if err != nil {
		t.Fatal(err)
	}
	const perChunk, chunks = 3, 4
	in := make(chan input.Chunk, chunks)
	for seq := 1; seq <= chunks; seq++ {
		c := input.Chunk{Seq: seq}
		var users []input.User
		for i := range perChunk {
			n := (seq-1)*perChunk + i
			u := input.User{Email: fmt.Sprintf("U%d@Example.com", n), PasswordHash: "$2b$10$C9W5gyA4vcAM0T/wu3bZFuLsNJPcRXAeTInOmxn8BS.SsBYhMJyf2"}
			users = append(users, u)
			c.Records = append(c.Records, input.ChunkRecord{File: "in.json", Line: n + 1, Email: u.Email})
		}
		c.Body, _ = json.Marshal(users)
		in <- c
	}
	close(in)

	j := &journal{ch: make(chan report.Entry, 1000)}
	var logs []string
	s := &jobs.Scheduler{API: client, Journal: j, Clock: fc, ConnectionID: conn.ID, MaxJobs: 2,
		SlotWait: 5 * time.Minute, PollMin: time.Second, PollMax: 4 * time.Second,
		Logf: func(f string, a ...any) { logs = append(logs, fmt.Sprintf(f, a...)) }}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, in) }()
	if err := driveClock(fc, done); err != nil {
		t.Fatal(err)
	}
	close(j.ch)
	finals := map[int]report.Entry{}
	for e := range j.ch {
		if e.Status.IsFinal() {
			if _, dup := finals[e.Line]; dup {
				t.Fatalf("two final lines for line %d", e.Line)
			}
			finals[e.Line] = e
		}
	}
	if len(finals) != perChunk*chunks {
		t.Fatalf("finals = %d, want %d", len(finals), perChunk*chunks)
	}
	for line, e := range finals {
		want := report.Created
		if line == 6 { // u5: already in the tenant
			want = report.Skipped
		}
		if e.Status != want || e.JobID == "" {
			t.Errorf("line %d: %+v, want %s", line, e, want)
		}
	}
	if finals[6].Code != jobs.CodeDuplicatedUser {
		t.Errorf("duplicate code = %q", finals[6].Code)
	}
	st := srv.Stats()
	if st.JobLimitRefused == 0 || st.MaxConcurrentImportJobs > 2 || st.Users != perChunk*chunks {
		t.Fatalf("stats: refused %d, max concurrent %d, users %d", st.JobLimitRefused, st.MaxConcurrentImportJobs, st.Users)
	}
	if m := s.Mismatches(); len(m) != 0 {
		t.Fatalf("summary mismatches against the sandbox: %v (logs %q)", m, logs)
	}
}

// Against the sandbox, whose verification jobs are pending for its job
// delay and some end failed: each user's line says what its job became.
func TestVerifierAgainstSandbox(t *testing.T) {
	srv, client, fc := sandboxClient(t, sandbox.Config{JobDelay: 3 * time.Second, Faults: sandbox.Faults{Seed: 1, FailVerification: 0.5}})
	const users = 6
	for i := range users {
		srv.AddUser(management.User{Email: fmt.Sprintf("u%d@example.com", i)}, dbConn)
	}
	j := &journal{ch: make(chan report.Entry, 100)}
	v := &jobs.Verifier{API: client, Journal: j, Clock: fc}
	ctx := context.Background()
	for i := range users {
		if err := v.Send(ctx, report.Key{File: "f", Line: i + 1}, fmt.Sprintf("U%d@Example.com", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Send(ctx, report.Key{File: "f", Line: users + 1}, "ghost@example.com", ""); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- v.Wait() }()
	if err := driveClock(fc, done); err != nil {
		t.Fatal(err)
	}
	close(j.ch)
	final := map[int]report.Entry{}
	for e := range j.ch {
		if e.Status != report.VerificationSending {
			final[e.Line] = e
		}
	}
	failed := map[string]bool{}
	for _, ve := range srv.Stats().VerificationEmails {
		failed[ve.JobID] = ve.Failed
	}
	if len(failed) != users {
		t.Fatalf("%d verification jobs, want %d", len(failed), users)
	}
	var sent, jobFailed int
	for line := 1; line <= users; line++ {
		e := final[line]
		want := report.VerificationSent
		if failed[e.JobID] {
			want = report.VerificationFailed
			jobFailed++
		} else {
			sent++
		}
		if e.Status != want || e.JobID == "" || (want == report.VerificationFailed && (e.Code != jobs.CodeJobFailed || e.Reason != "the verification job failed")) {
			t.Errorf("line %d: %+v, want %s (the tenant's job failed: %v)", line, e, want, failed[e.JobID])
		}
	}
	if sent == 0 || jobFailed == 0 {
		t.Fatalf("%d sent, %d failed: the seed gives no mix", sent, jobFailed)
	}
	if g := final[users+1]; g.Status != report.VerificationFailed || g.Reason != "user not found" {
		t.Fatalf("ghost: %+v", g)
	}
}
