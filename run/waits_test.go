package run

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
	"github.com/a0bulk/a0bulk/throttle"
)

// stormy answers the requests match picks with the rate-limit 429 (reset a
// second ahead on clk: another client keeps the bucket empty), left times
// (-1: for good), and passes everything else to the sandbox.
type stormy struct {
	next  http.Handler
	clk   clock.Clock
	match func(*http.Request) bool

	jobLimit bool // answer the job-limit 429 instead

	mu      sync.Mutex
	left    int
	refused int
}

func (s *stormy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	hit := s.match(r) && s.left != 0
	if hit {
		s.left--
		s.refused++
	}
	s.mu.Unlock()
	if !hit {
		s.next.ServeHTTP(w, r)
		return
	}
	w.Header().Set("X-Ratelimit-Limit", "10")
	w.Header().Set("X-Ratelimit-Remaining", "0")
	w.Header().Set("X-Ratelimit-Reset", strconv.FormatInt(s.clk.Now().Add(time.Second).Unix(), 10))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	if s.jobLimit {
		_, _ = w.Write([]byte(`{"statusCode":429,"error":"Too Many Requests","message":"There are 2 active import users jobs, please wait until some of them are finished and try again"}`))
		return
	}
	_, _ = w.Write([]byte(`{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached","errorCode":"too_many_requests"}`))
}

func isConnectionLookup(r *http.Request) bool { return r.URL.Path == "/api/v2/connections" }

func isJobPoll(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v2/jobs/job_") && !strings.HasSuffix(r.URL.Path, "/errors")
}

// stormTenant is a sandbox behind a storm, reached as the cli reaches a
// tenant (retries as by default, max-wait maxWait) on the fake clock clk.
func stormTenant(t *testing.T, clk *clock.Fake, st *stormy, cfg sandbox.Config, maxWait time.Duration) (*sandbox.Server, Env) {
	sb := sandbox.New(cfg)
	st.next, st.clk = sb, clk
	ts := httptest.NewServer(st)
	t.Cleanup(ts.Close)
	connect := func() (Tenant, error) {
		return management.New(management.Config{
			Domain: strings.TrimPrefix(ts.URL, "http://"), ClientID: "cid", ClientSecret: "sec", Clock: clk,
			Throttle: throttle.Options{Rate: 1000, MaxRate: 1000, MaxRetries: DefaultMaxRetries, MaxWait: maxWait, Rand: func() float64 { return 0.5 }},
		})
	}
	return sb, Env{Connect: connect, Clock: clk, PollMin: 100 * time.Millisecond, Grace: time.Millisecond}
}

// usersFile writes n users for mode and returns its path.
func usersFile(t *testing.T, n int, mode input.Mode) string {
	t.Helper()
	in := filepath.Join(t.TempDir(), "users.ndjson")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := gen.Users(11, n, f, input.FormatNDJSON, gen.GenOptions{Mode: mode}); err != nil {
		t.Fatal(err)
	}
	return in
}

// runDriven runs spec on env, driving the fake clock through every wait.
func runDriven(clk *clock.Fake, env Env, spec Spec) (*Summary, error) {
	var sum *Summary
	done := make(chan error, 1)
	go func() {
		var err error
		sum, err = Run(context.Background(), env, spec)
		done <- err
	}()
	err := clk.Drive(100*time.Millisecond, done)
	return sum, err
}

// waitLog is a progress display that keeps what it was told to show.
type waitLog struct {
	noProgress
	mu    sync.Mutex
	whats []string
}

func (w *waitLog) Waiting(what string, _ time.Time) {
	w.mu.Lock()
	w.whats = append(w.whats, what)
	w.mu.Unlock()
}

func (w *waitLog) saw(what string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.whats {
		if s == what {
			return true
		}
	}
	return false
}

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// A 429 storm (another client spending the bucket) on the connection
// lookup at the start is waited out: it used to stop the run with exit 1
// after --max-retries (5) retries.
func TestStormAtStartWaitedOut(t *testing.T) {
	clk := clock.NewFake(t0)
	st := &stormy{match: isConnectionLookup, left: 20}
	sb, env := stormTenant(t, clk, st, sandbox.Config{JobDelay: -1}, 0)
	var logged bytes.Buffer
	env.Log = slog.New(slog.NewTextHandler(&logged, nil))
	spec := Spec{Mode: ModeCreate, Connection: "Username-Password-Authentication", Inputs: []string{usersFile(t, 3, input.ModeCreate)},
		ReportPath: filepath.Join(t.TempDir(), "run.ndjson")}
	spec.Concurrency, spec.RandomPassword = 1, true
	sum, err := runDriven(clk, env, spec)
	if err != nil {
		t.Fatalf("run: %v, want it complete after the storm", err)
	}
	// Before the progress display exists, the waits are log lines.
	if n := strings.Count(logged.String(), "for the tenant's rate limit"); n != 20 {
		t.Errorf("%d waits logged, want 20:\n%s", n, logged.String())
	}
	if len(sb.Users()) != 3 || sum.Counts[string(report.Created)] != 3 {
		t.Fatalf("tenant holds %d users, summary %+v; want 3 created", len(sb.Users()), sum.Counts)
	}
	// The summary counts each bucket's requests and 429s, and the token's.
	// This tenant shows no x-ratelimit-* headers, so each route is its own.
	var conns, users, tok *BucketCounts
	for i, b := range sum.Buckets {
		switch b.Name {
		case "GET /api/v2/connections":
			conns = &sum.Buckets[i]
		case "POST /api/v2/users":
			users = &sum.Buckets[i]
		case management.TokenBucket:
			tok = &sum.Buckets[i]
		}
	}
	if conns == nil || conns.RateLimited != 20 || conns.Requests != 21 || conns.WaitedSeconds < 10 {
		t.Errorf("connections bucket %+v, want 21 requests, 20 answered 429, 10s or more waited (all: %+v)", conns, sum.Buckets)
	}
	if users == nil || users.RateLimited != 0 || users.Requests != 3 {
		t.Errorf("users bucket %+v, want 3 requests (all: %+v)", users, sum.Buckets)
	}
	if tok == nil || tok.Requests != 1 || tok.RateLimited != 0 {
		t.Errorf("token bucket %+v, want 1 request", tok)
	}
}

// A storm on the job polls mid-run is waited out ("reading the job: 429"
// used to stop the run), and the progress line says why the run waits.
func TestStormOnJobPollWaitedOut(t *testing.T) {
	clk := clock.NewFake(t0)
	st := &stormy{match: isJobPoll, left: 20}
	sb, env := stormTenant(t, clk, st, sandbox.Config{JobDelay: -1}, 0)
	shown := &waitLog{}
	env.Progress = func(Task) Progress { return shown }
	spec := Spec{Mode: ModeImport, Connection: "Username-Password-Authentication", Inputs: []string{usersFile(t, 20, input.ModeImport)},
		ReportPath: filepath.Join(t.TempDir(), "run.ndjson")}
	spec.Settings = Defaults()
	sum, err := runDriven(clk, env, spec)
	if err != nil {
		t.Fatalf("run: %v, want it complete after the storm", err)
	}
	if len(sb.Users()) != 20 || st.refused != 20 {
		t.Fatalf("tenant holds %d users after %d refused polls; want 20 after 20", len(sb.Users()), st.refused)
	}
	if !shown.saw("the tenant's rate limit") {
		t.Errorf("progress was told %q, want the tenant's rate limit", shown.whats)
	}
	if sum.Buckets[0].RateLimited != 20 {
		t.Errorf("buckets %+v, want 20 answered 429", sum.Buckets)
	}
}

// Waiting for an import slot (the job-limit 429: other tools hold the
// tenant's slots) is shown on the progress line.
func TestSlotWaitShown(t *testing.T) {
	clk := clock.NewFake(t0)
	st := &stormy{match: func(r *http.Request) bool { return r.URL.Path == "/api/v2/jobs/users-imports" }, left: 3, jobLimit: true}
	sb, env := stormTenant(t, clk, st, sandbox.Config{JobDelay: -1}, 0)
	shown := &waitLog{}
	env.Progress = func(Task) Progress { return shown }
	spec := Spec{Mode: ModeImport, Connection: "Username-Password-Authentication", Inputs: []string{usersFile(t, 5, input.ModeImport)},
		ReportPath: filepath.Join(t.TempDir(), "run.ndjson")}
	spec.Settings = Defaults()
	if _, err := runDriven(clk, env, spec); err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(sb.Users()) != 5 || !shown.saw("an import slot") {
		t.Errorf("tenant holds %d users, progress was told %q; want 5 and an import slot", len(sb.Users()), shown.whats)
	}
}

// When the tenant refused every request for --max-wait, the run stops with
// exit 1's error that says so and how to resume; the resume completes.
func TestMaxWaitExhaustedStopsResumably(t *testing.T) {
	clk := clock.NewFake(t0)
	st := &stormy{match: isJobPoll, left: -1}
	sb, env := stormTenant(t, clk, st, sandbox.Config{JobDelay: -1}, time.Minute)
	spec := Spec{Mode: ModeImport, Connection: "Username-Password-Authentication", Inputs: []string{usersFile(t, 10, input.ModeImport)},
		ReportPath: filepath.Join(t.TempDir(), "run.ndjson")}
	spec.Settings = Defaults()
	spec.MaxWait = report.Duration(time.Minute)
	sum, err := runDriven(clk, env, spec)
	var refused *RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("run: %v, want *RefusedError", err)
	}
	want := "the tenant refused every request for 1m0s (429 rate limit on GET /api/v2/jobs/{id}); resume with: a0bulk import --resume " + spec.ReportPath
	if err.Error() != want {
		t.Errorf("err %q\nwant %q", err, want)
	}
	if sum == nil || sum.Resume != "a0bulk import --resume "+spec.ReportPath {
		t.Fatalf("summary %+v, want the resume command", sum)
	}

	st.mu.Lock()
	st.left = 0 // the storm is over
	st.mu.Unlock()
	resumed, err := Recorded(spec.ReportPath, ModeImport)
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(resumed.MaxWait) != time.Minute {
		t.Errorf("the report recorded max-wait %v, want 1m", time.Duration(resumed.MaxWait))
	}
	if _, err := runDriven(clk, env, resumed); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if n := len(sb.Users()); n != 10 {
		t.Errorf("tenant holds %d users after the resume, want 10", n)
	}
}

// A storm on the connection lookup that outlasts --max-wait stops before
// any report is written, saying so: the same command runs it again.
func TestMaxWaitExhaustedAtStart(t *testing.T) {
	clk := clock.NewFake(t0)
	st := &stormy{match: isConnectionLookup, left: -1}
	_, env := stormTenant(t, clk, st, sandbox.Config{JobDelay: -1}, 30*time.Second)
	spec := Spec{Mode: ModeCreate, Connection: "Username-Password-Authentication", Inputs: []string{usersFile(t, 1, input.ModeCreate)},
		ReportPath: filepath.Join(t.TempDir(), "run.ndjson")}
	spec.Settings = Defaults()
	_, err := runDriven(clk, env, spec)
	want := "the tenant refused every request for 30s (429 rate limit on GET /api/v2/connections); resume with: the same command (nothing was sent and no report was written)"
	if err == nil || err.Error() != want {
		t.Errorf("err %v\nwant %s", err, want)
	}
	if _, serr := os.Stat(spec.ReportPath); !os.IsNotExist(serr) {
		t.Errorf("a report was written: %v", serr)
	}
}

// headroomOnly is a Tenant that only knows its bucket size.
type headroomOnly struct {
	Tenant
	limit int
}

func (h headroomOnly) Headroom() (int, int, time.Time, bool) {
	return h.limit, 0, time.Time{}, h.limit > 0
}

// Job reads may spend 30% of the rate of the plan the tenant's bucket
// matches: 36 a minute on Free (2/s) and on Essentials' "all other
// endpoints" (burst 10, taken as 2/s: 24% of its 150/min), 288 on
// Enterprise (16/s); a --rate cap lowers it.
func TestPollRateIsAShareOfTheBucket(t *testing.T) {
	for _, c := range []struct {
		limit int
		rate  float64
		want  float64
	}{{0, 0, 0.6}, {2, 0, 0.6}, {10, 0, 0.6}, {50, 0, 4.8}, {50, 5, 1.5}} {
		r := &started{env: &Env{}, tenant: headroomOnly{limit: c.limit}}
		r.spec.Rate = c.rate
		if got := r.pollRate(); got != c.want {
			t.Errorf("bucket %d, --rate %v: %v reads/s, want %v", c.limit, c.rate, got, c.want)
		}
	}
}
