package create

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/words"
)

func TestRunOutcomes(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newTenant(clk), &memJournal{}
	api.add("old@x.com", t0.Add(-time.Hour))
	api.hook = func(email string, attempt int) (error, bool) {
		switch email {
		case "weak@x.com":
			return &management.APIError{StatusCode: 400, Err: "Bad Request", Message: "PasswordStrengthError: Password is too weak", ErrorCode: "invalid_password"}, false
		}
		return nil, true
	}
	bad := rec(3, "nope", "Secret-123")
	bad.Errors = []input.FieldError{{Field: "email", Reason: "not an email address"}, {Field: "phone_number", Reason: "not E.164"}}
	records := []input.Record{
		rec(1, "A@x.com", "Secret-123"),
		rec(2, "old@x.com", "Secret-123"),
		bad,
		rec(4, "nopw@x.com", ""),
		rec(5, "weak@x.com", "abc"),
	}
	if err := newRunner(api, j, clk).Run(context.Background(), feed(records...)); err != nil {
		t.Fatal(err)
	}
	want := map[int]struct {
		st           report.Status
		code, reason string
	}{
		1: {report.Created, "", ""},
		2: {report.Skipped, CodeUserExists, "The user already exists."},
		3: {report.Invalid, CodeInvalid, "email: not an email address; phone_number: not E.164"},
		4: {report.Invalid, CodeInvalid, "password: required"},
		5: {report.Failed, "invalid_password", "PasswordStrengthError"},
	}
	finals := j.finals()
	if len(finals) != len(records) {
		t.Fatalf("finals for %d records, want %d: %+v", len(finals), len(records), j.all())
	}
	for line, w := range want {
		f := finals[line]
		if len(f) != 1 || f[0].Status != w.st || f[0].Code != w.code || !strings.Contains(f[0].Reason, w.reason) {
			t.Errorf("line %d: %+v, want %s %s %q", line, f, w.st, w.code, w.reason)
		}
	}
	if f := finals[1][0]; f.UserID != "auth0|a@x.com" || f.Email != "A@x.com" || f.File != "u.csv" {
		t.Errorf("created line = %+v", f)
	}
	// Invalid records never reach the tenant, and every sent one was
	// announced with `sending` first.
	if len(api.creates) != 3 || len(j.with(report.Sending)) != 3 {
		t.Fatalf("creates = %d, sending lines = %d, want 3 and 3", len(api.creates), len(j.with(report.Sending)))
	}
	for _, c := range api.creates {
		if c.VerifyEmail == nil || *c.VerifyEmail || c.Connection != "db" {
			t.Fatalf("request %s must carry verify_email:false and the connection", c)
		}
	}
}

func TestUpsertUpdatesExistingUser(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newTenant(clk), &memJournal{}
	api.add("old@x.com", t0.Add(-time.Hour))
	api.users["old@x.com"].Username = "oldie"
	r := newRunner(api, j, clk)
	r.Upsert, r.RandomPassword = true, true
	in := rec(1, "Old@X.com", "New-Secret-1")
	in.User.GivenName, in.User.Username = "Olga", "oldie"
	keep := rec(2, "old2@x.com", "")
	api.add("old2@x.com", t0.Add(-time.Hour))
	keep.User.FamilyName = "Keeps"
	if err := r.Run(context.Background(), feed(in, keep)); err != nil {
		t.Fatal(err)
	}
	f := j.finals()
	if f[1][0].Status != report.Updated || f[1][0].UserID != "auth0|old-old@x.com" {
		t.Fatalf("final = %+v", f[1])
	}
	up := api.updates["auth0|old-old@x.com"]
	if up.GivenName != "Olga" || up.Password != "New-Secret-1" || up.Connection != "db" || up.Username != "" || up.Email != "" {
		t.Fatalf("update = %+v (password set: %v)", up, up.Password != "")
	}
	// A random password never replaces an existing user's password, and
	// without password or username no connection is needed.
	up2 := api.updates["auth0|old-old2@x.com"]
	if f[2][0].Status != report.Updated || up2.Password != "" || up2.Connection != "" || up2.FamilyName != "Keeps" {
		t.Fatalf("update 2 = %+v, final %+v", up2, f[2])
	}
	for _, l := range api.lookups {
		if l != strings.ToLower(l) {
			t.Fatalf("lookup of %q: must be lower-cased", l)
		}
	}
}

func TestUpsertUpdateRefused(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newTenant(clk), &memJournal{}
	api.add("old@x.com", t0.Add(-time.Hour))
	api.updateErr = &management.APIError{StatusCode: 400, Err: "Bad Request", Message: "The username provided is in use already.", ErrorCode: "invalid_body"}
	r := newRunner(api, j, clk)
	r.Upsert = true
	if err := r.Run(context.Background(), feed(rec(1, "old@x.com", "Secret-123"))); err != nil {
		t.Fatal(err)
	}
	if f := j.finals()[1]; len(f) != 1 || f[0].Status != report.Failed || f[0].Code != "invalid_body" || f[0].UserID != "auth0|old-old@x.com" {
		t.Fatalf("final = %+v", f)
	}
}

func TestUnknownFateNeverCreatesTwice(t *testing.T) {
	cases := []struct {
		name     string
		existing bool
		hook     func(attempt int) (error, bool)
		status   report.Status
		code     string
		posts    int
		created  int
		lag      int
	}{
		{"answer lost after create", false, func(a int) (error, bool) {
			if a == 1 {
				return unknownFate{}, true
			}
			return nil, true
		}, report.Created, "", 1, 1, 0},
		{"lost before create, sent again", false, func(a int) (error, bool) {
			if a == 1 {
				return unknownFate{}, false
			}
			return nil, true
		}, report.Created, "", 2, 1, 0},
		{"lost after create, lookup lags, resend gets 409", false, func(a int) (error, bool) {
			if a == 1 {
				return unknownFate{}, true
			}
			return nil, true
		}, report.Created, "", 2, 1, 1},
		{"never answered", false, func(int) (error, bool) { return unknownFate{}, false }, report.Failed, CodeUnknownFate, 1 + DefaultMaxRetries, 0, 0},
		{"existed before the run", true, func(int) (error, bool) { return unknownFate{}, false }, report.Skipped, CodeUserExists, 1, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			api, j := newTenant(clk), &memJournal{}
			if tc.existing {
				api.add("a@x.com", t0.Add(-time.Hour))
			}
			api.hook = func(_ string, a int) (error, bool) { return tc.hook(a) }
			api.lag = tc.lag
			if err := newRunner(api, j, clk).Run(context.Background(), feed(rec(1, "a@x.com", "Secret-123"))); err != nil {
				t.Fatal(err)
			}
			f := j.finals()[1]
			if len(f) != 1 || f[0].Status != tc.status || f[0].Code != tc.code {
				t.Fatalf("final = %+v, want %s %s", f, tc.status, tc.code)
			}
			if len(api.creates) != tc.posts || api.created["a@x.com"] != tc.created {
				t.Fatalf("posts = %d, created = %d; want %d, %d", len(api.creates), api.created["a@x.com"], tc.posts, tc.created)
			}
			if tc.status == report.Created && f[0].UserID != "auth0|a@x.com" {
				t.Fatalf("user id = %q", f[0].UserID)
			}
		})
	}
}

func TestRandomPasswordIsSentNeverJournalled(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newTenant(clk), &memJournal{}
	r := newRunner(api, j, clk)
	r.RandomPassword = true
	if err := r.Run(context.Background(), feed(rec(1, "a@x.com", ""), rec(2, "b@x.com", "Given-Pass-1"))); err != nil {
		t.Fatal(err)
	}
	pw := map[string]string{}
	for _, c := range api.creates {
		pw[c.Email] = c.Password
	}
	if len(pw["a@x.com"]) != pwLen || pw["b@x.com"] != "Given-Pass-1" {
		t.Fatalf("passwords: random %d chars, given kept %v", len(pw["a@x.com"]), pw["b@x.com"] == "Given-Pass-1")
	}
	for _, e := range j.all() {
		if strings.Contains(e.Reason+e.Code+e.UserID, pw["a@x.com"]) {
			t.Fatal("a password reached the report")
		}
	}
	if len(j.with(report.Created)) != 2 {
		t.Fatalf("journal = %+v", j.all())
	}
}

func TestRandomPasswordPolicy(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		p, err := RandomPassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != pwLen || seen[p] || tripled([]byte(p)) {
			t.Fatalf("bad password shape (len %d, repeat %v)", len(p), seen[p])
		}
		seen[p] = true
		for _, set := range []string{lowers, uppers, digits, specials} {
			if n := countIn(p, set); n < 2 {
				t.Fatalf("a class has %d characters, want at least 2", n)
			}
		}
	}
}

func countIn(p, set string) int {
	n := 0
	for _, c := range p {
		if strings.ContainsRune(set, c) {
			n++
		}
	}
	return n
}

func TestPasswordlessConnectionSendsNoPassword(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newTenant(clk), &memJournal{}
	r := newRunner(api, j, clk)
	r.Passwordless = true
	if err := r.Run(context.Background(), feed(rec(1, "a@x.com", ""))); err != nil {
		t.Fatal(err)
	}
	if len(api.creates) != 1 || api.creates[0].Password != "" || len(j.with(report.Created)) != 1 {
		t.Fatalf("creates = %v, journal = %+v", api.creates, j.all())
	}
}

// With --verify-email a created, unverified user's email is requested, and
// Run returns only once its job was read back: verification_sent when it
// completed, verification_failed when it failed (the user stays created).
func TestVerificationAfterCreate(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newTenant(clk), &memJournal{}
	api.add("old@x.com", t0.Add(-time.Hour))
	api.failJobs = map[string]bool{"auth0|b@x.com": true}
	r := newRunner(api, j, clk)
	r.VerifyEmail = true
	r.Verifier = &jobs.Verifier{API: api, Journal: j, Clock: clk}
	yes := true
	verified := rec(2, "v@x.com", "Secret-123")
	verified.User.EmailVerified = &yes
	done := make(chan error, 1)
	go func() {
		done <- r.Run(context.Background(), feed(rec(1, "a@x.com", "Secret-123"), verified, rec(3, "old@x.com", "Secret-123"), rec(4, "b@x.com", "Secret-123")))
	}()
	// The job reads wait on clk: Run returns only after them.
	if err := clk.Drive(time.Second, done); err != nil {
		t.Fatal(err)
	}
	sent, failed := j.with(report.VerificationSent), j.with(report.VerificationFailed)
	if len(sent) != 1 || sent[0].Line != 1 || sent[0].UserID != "auth0|a@x.com" || sent[0].JobID == "" {
		t.Fatalf("verification_sent lines = %+v", sent)
	}
	if len(failed) != 1 || failed[0].Line != 4 || failed[0].Code != jobs.CodeJobFailed || failed[0].JobID == "" {
		t.Fatalf("verification_failed lines = %+v", failed)
	}
	if len(api.verified) != 2 || api.jobReads != 2 {
		t.Fatalf("verification emails = %v, %d job reads; want the created, unverified users' and one read each", api.verified, api.jobReads)
	}
	if f := j.finals(); len(f) != 4 || f[4][0].Status != report.Created {
		t.Fatalf("finals = %+v", f)
	}
}

func TestFatalErrorsStopTheRun(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"missing scope", &management.APIError{StatusCode: 403, Err: "Forbidden", Message: "Insufficient scope, expected any of: create:users", ErrorCode: "insufficient_scope"}, "create:users"},
		{"custom domain conflict", &management.APIError{StatusCode: 409, Err: "Conflict", Message: "The tenant has multiple verified custom domains."}, "custom domain"},
		{"tenant unreachable", errors.New("dial tcp: connection refused"), "connection refused"},
		// Answers about the run, not the record: reporting the user failed
		// would keep --resume from ever sending it.
		{"tenant down after the retries", &management.APIError{StatusCode: 503, Err: "Service Unavailable"}, "503"},
		{"token refused", &management.APIError{StatusCode: 401, Err: "Unauthorized", Message: "Invalid token"}, "Invalid token"},
		{"still rate limited after the retries", &management.APIError{StatusCode: 429, Err: "Too Many Requests", Message: "Global limit has been reached"}, "Global limit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			api, j := newTenant(clk), &memJournal{}
			api.hook = func(string, int) (error, bool) { return tc.err, false }
			r := newRunner(api, j, clk)
			r.Concurrency = 1
			recs := make(chan input.Record) // unbuffered, never closed: only the fatal error ends Run
			done := make(chan error, 1)
			go func() { done <- r.Run(context.Background(), recs) }()
			recs <- rec(1, "a@x.com", "Secret-123")
			err := <-done
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "u.csv:1") {
				t.Fatalf("err = %v, want it to name %q and the record", err, tc.want)
			}
			if len(j.finals()) != 0 || len(j.with(report.Sending)) != 1 {
				t.Fatalf("the record must stay sending for resume: %+v", j.all())
			}
		})
	}
}

func TestBackPressure(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newTenant(clk), &memJournal{}
	api.gate = make(chan struct{})
	api.arrived = make(chan struct{}, 100)
	r := newRunner(api, j, clk)
	r.Concurrency, r.QueueSize = 2, 2
	const total = 20
	recs := make(chan input.Record) // unbuffered: every send is a hand-over
	var consumed atomic.Int64
	go func() {
		for i := 1; i <= total; i++ {
			recs <- rec(i, "u"+string(rune('a'+i))+"@x.com", "Secret-123")
			consumed.Add(1)
		}
		close(recs)
	}()
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background(), recs) }()
	<-api.arrived
	<-api.arrived // both workers are blocked in the API
	// 2 running + 2 queued + 1 held by Run in Submit.
	for consumed.Load() < 5 {
		runtime.Gosched()
	}
	for range 2000 { // give a leaky reader every chance to read on
		runtime.Gosched()
	}
	if n := consumed.Load(); n > 5 {
		t.Fatalf("Run read %d records while the pool was full, want at most 5", n)
	}
	close(api.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(j.finals()); n != total || api.calls != total {
		t.Fatalf("finals = %d, calls = %d, want %d", n, api.calls, total)
	}
}

func TestCancelLeavesInFlightSending(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newTenant(clk), &memJournal{}
	api.gate = make(chan struct{}) // never opened: requests hang until ctx ends
	api.arrived = make(chan struct{}, 100)
	r := newRunner(api, j, clk)
	r.Concurrency, r.QueueSize = 2, 2
	ctx, cancel := context.WithCancel(context.Background())
	recs := make(chan input.Record, 10)
	for i := 1; i <= 10; i++ {
		recs <- rec(i, "u"+string(rune('a'+i))+"@x.com", "Secret-123")
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, recs) }()
	<-api.arrived
	<-api.arrived
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if len(j.finals()) != 0 || len(j.with(report.Sending)) != 2 || api.calls != 2 {
		t.Fatalf("calls = %d, journal = %+v; want 2 sending, nothing final, queued tasks never started", api.calls, j.all())
	}
}

func TestResumedSendingIsLookedUpFirst(t *testing.T) {
	clk := clock.NewFake(t0.Add(time.Hour))
	api, j := newTenant(clk), &memJournal{}
	api.add("mine@x.com", t0.Add(time.Minute)) // created by the earlier attempt of this run
	api.add("theirs@x.com", t0.Add(-time.Hour))
	r := newRunner(api, j, clk)
	r.WasSending = func(k report.Key) bool { return k.Line != 4 }
	err := r.Run(context.Background(), feed(
		rec(1, "Mine@x.com", "Secret-123"),
		rec(2, "theirs@x.com", "Secret-123"),
		rec(3, "lost@x.com", "Secret-123"), // never reached the tenant
		rec(4, "mine@x.com", "Secret-123"), // not in flight before: a plain duplicate
	))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]report.Status{1: report.Created, 2: report.Skipped, 3: report.Created, 4: report.Skipped}
	f := j.finals()
	for line, st := range want {
		if len(f[line]) != 1 || f[line][0].Status != st {
			t.Errorf("line %d: %+v, want %s", line, f[line], st)
		}
	}
	if f[1][0].UserID != "auth0|old-mine@x.com" {
		t.Errorf("user id = %q", f[1][0].UserID)
	}
	// Only the lost one and the plain duplicate are POSTed.
	if len(api.creates) != 2 || api.created["lost@x.com"] != 1 {
		t.Fatalf("creates = %v", api.creates)
	}
}

// A dead run's unanswered attempt does not use up this run's: each run gets
// its full retry budget before a record is given up as UNKNOWN_FATE.
func TestResumedSendingGetsItsOwnAttempts(t *testing.T) {
	clk := clock.NewFake(t0)
	api, j := newTenant(clk), &memJournal{}
	api.hook = func(_ string, a int) (error, bool) {
		if a <= DefaultMaxRetries {
			return unknownFate{}, false // lost before the tenant acted
		}
		return nil, true
	}
	r := newRunner(api, j, clk)
	r.WasSending = func(report.Key) bool { return true }
	if err := r.Run(context.Background(), feed(rec(1, "a@x.com", "Secret-123"))); err != nil {
		t.Fatal(err)
	}
	if f := j.finals()[1]; len(f) != 1 || f[0].Status != report.Created {
		t.Fatalf("final = %+v, want created on this run's last attempt", f)
	}
	if len(api.creates) != 1+DefaultMaxRetries || api.created["a@x.com"] != 1 {
		t.Fatalf("posts = %d, created = %d", len(api.creates), api.created["a@x.com"])
	}
}

// A create whose answers are lost before the tenant acts is looked up after
// each, and sent again while the run's retry budget (--max-retries) lasts:
// it used to give up UNKNOWN_FATE after a fixed 3 attempts, whatever the
// budget. An update with no answer is sent again within the same budget.
func TestLostAnswersUseTheRetryBudget(t *testing.T) {
	cases := []struct {
		name       string
		maxRetries int
		lost       int // answers lost before the tenant acted
		posts      int
		status     report.Status
	}{
		{"default budget, 4 lost", 0, 4, 5, report.Created},
		{"default budget, 5 lost", 0, 5, 6, report.Created},
		{"default budget, 6 lost", 0, 6, 6, report.Failed},
		{"budget 8, 7 lost", 8, 7, 8, report.Created},
		{"budget 2, 3 lost", 2, 3, 3, report.Failed},
		{"no retries", -1, 1, 1, report.Failed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			api, j := newTenant(clk), &memJournal{}
			api.hook = func(_ string, a int) (error, bool) {
				if a <= tc.lost {
					return unknownFate{}, false
				}
				return nil, true
			}
			r := newRunner(api, j, clk)
			r.MaxRetries = tc.maxRetries
			if err := r.Run(context.Background(), feed(rec(1, "a@x.com", "Secret-123"))); err != nil {
				t.Fatal(err)
			}
			f := j.finals()[1]
			if len(f) != 1 || f[0].Status != tc.status {
				t.Fatalf("final = %+v, want %s", f, tc.status)
			}
			if tc.status == report.Failed && (f[0].Code != CodeUnknownFate || !strings.Contains(f[0].Reason, "after "+words.Count(tc.posts, "attempt"))) {
				t.Fatalf("final = %+v, want UNKNOWN_FATE after %s", f[0], words.Count(tc.posts, "attempt"))
			}
			// Each lost answer is looked up before the next send.
			if len(api.creates) != tc.posts || len(api.lookups) != min(tc.lost, tc.posts) {
				t.Fatalf("posts = %d, lookups = %d; want %d, %d", len(api.creates), len(api.lookups), tc.posts, min(tc.lost, tc.posts))
			}
		})
	}
	t.Run("update", func(t *testing.T) {
		clk := clock.NewFake(t0)
		api, j := newTenant(clk), &memJournal{}
		api.add("old@x.com", t0.Add(-time.Hour))
		api.updateErrs = 4 // lost answers of the PATCH
		r := newRunner(api, j, clk)
		r.Upsert = true
		if err := r.Run(context.Background(), feed(rec(1, "old@x.com", "Secret-123"))); err != nil {
			t.Fatal(err)
		}
		if f := j.finals()[1]; len(f) != 1 || f[0].Status != report.Updated || api.patches != 5 {
			t.Fatalf("final = %+v after %d PATCHes, want updated on the 5th", f, api.patches)
		}
	})
}

// stubVerifier records the order of Send and Wait calls.
type stubVerifier struct {
	mu      sync.Mutex
	calls   []string
	waitErr error
}

func (s *stubVerifier) Send(ctx context.Context, key report.Key, email, userID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "send "+email)
	return nil
}

func (s *stubVerifier) Wait() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "wait")
	return s.waitErr
}

// Run ends only after the verifier settled every job it was handed (Wait,
// after the last Send), and an error it met reading them back fails the run.
func TestRunWaitsForTheVerifier(t *testing.T) {
	for _, waitErr := range []error{nil, errors.New("reading verification job job_1: 401")} {
		clk := clock.NewFake(t0)
		api, j := newTenant(clk), &memJournal{}
		v := &stubVerifier{waitErr: waitErr}
		r := newRunner(api, j, clk)
		r.VerifyEmail, r.Verifier, r.Concurrency = true, v, 1
		err := r.Run(context.Background(), feed(rec(1, "a@x.com", "Secret-123"), rec(2, "b@x.com", "Secret-123")))
		if !errors.Is(err, waitErr) {
			t.Fatalf("Run = %v, want %v", err, waitErr)
		}
		if got := strings.Join(v.calls, ", "); got != "send a@x.com, send b@x.com, wait" {
			t.Fatalf("verifier calls: %s", got)
		}
	}
}
