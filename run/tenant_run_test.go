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
	"sync/atomic"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
	"github.com/a0bulk/a0bulk/throttle"
)

// testTenant is a sandbox behind one loopback address whose tenant can be
// swapped for another (a connection deleted and made again), as the cli
// reaches it: domain host:port, client "cid" (testConnect).
type testTenant struct {
	cur  atomic.Pointer[sandbox.Server]
	host string
	// Each env (a run's client) tags its requests with a number of its
	// own, so that what one run sent is counted apart from what an earlier
	// run, stopped by its context, had on the wire and the tenant serves
	// only later (a count of the tenant's requests would take it for the
	// next run's).
	mu    sync.Mutex
	tags  int
	byTag map[int]int
}

func newTestTenant(t *testing.T, cfg sandbox.Config) *testTenant {
	tt := &testTenant{byTag: map[int]int{}}
	tt.cur.Store(sandbox.New(cfg))
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tag, _ := strconv.Atoi(r.Header.Get(runTagHeader))
		tt.mu.Lock()
		tt.byTag[tag]++
		tt.mu.Unlock()
		tt.cur.Load().ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	tt.host = strings.TrimPrefix(ts.URL, "http://")
	return tt
}

func (tt *testTenant) sb() *sandbox.Server { return tt.cur.Load() }

func (tt *testTenant) env(t *testing.T) Env {
	tt.mu.Lock()
	tt.tags++
	tag := tt.tags
	tt.mu.Unlock()
	connect := func() (Tenant, error) {
		return management.New(management.Config{
			Domain: tt.host, ClientID: "cid", ClientSecret: "sec",
			Throttle: throttle.Options{Rate: 1000, MaxRate: 1000, MaxRetries: 5},
			Base:     tagged{tag: strconv.Itoa(tag), base: http.DefaultTransport},
		})
	}
	return Env{Connect: connect, Target: TenantOf(tt.host, "cid", ""), PollMin: time.Millisecond, PollRate: 1000, Grace: time.Millisecond}
}

const runTagHeader = "X-Test-Run"

// tagged sets runTagHeader on every request.
type tagged struct {
	tag  string
	base http.RoundTripper
}

func (g tagged) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(runTagHeader, g.tag)
	return g.base.RoundTrip(r)
}

// sentSince counts the requests of the envs made after tag (lastTag).
func (tt *testTenant) sentSince(tag int) int {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	n := 0
	for t, c := range tt.byTag {
		if t > tag {
			n += c
		}
	}
	return n
}

// requests counts every request the tenant was sent, token requests
// included.
func (tt *testTenant) requests() int { return tt.sentSince(-1) }

// lastTag is the tag of the latest env made.
func (tt *testTenant) lastTag() int {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.tags
}

// stoppedCreate is a create of 20 users on tt stopped (as by Ctrl-C) after
// its first user: its report is unfinished, to be resumed.
func stoppedCreate(t *testing.T, tt *testTenant) string {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "users.csv")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := gen.Users(3, 20, f, input.FormatCSV, gen.GenOptions{Mode: input.ModeCreate}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	spec := Spec{Mode: ModeCreate, Connection: "Username-Password-Authentication", Inputs: []string{in}, ReportPath: filepath.Join(dir, "run.ndjson")}
	spec.Concurrency, spec.RandomPassword = 1, true
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := &stopAt{status: report.Created, cancel: cancel}
	env := tt.env(t)
	env.Progress = func(Task) Progress { return stop }
	var stopped *StoppedError
	if _, err := Run(ctx, env, spec); !errors.As(err, &stopped) {
		t.Fatalf("first run: %v, want stopped", err)
	}
	if n := len(tt.sb().Users()); n == 0 || n == 20 {
		t.Fatalf("the first run left %d users of 20: nothing to resume", n)
	}
	return spec.ReportPath
}

// unchangedBy runs try and requires that it is refused with a usage error
// naming each of names, and that it changed nothing: the report is byte for
// byte what it was, and tt was sent no more than allowed requests.
func unchangedBy(t *testing.T, what, path string, tt *testTenant, allowed int, try func() error, names ...string) {
	t.Helper()
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	since := tt.lastTag()
	err = try()
	var ue *UsageError
	if !errors.As(err, &ue) {
		t.Errorf("%s: err = %v, want a usage error", what, err)
		return
	}
	for _, n := range names {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("%s: %q does not name %s", what, err, n)
		}
	}
	if n := tt.sentSince(since); n > allowed {
		t.Errorf("%s: the refused run sent %d requests (allowed %d): %v", what, n, allowed, tt.sb().Stats().Requests)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Errorf("%s: the report changed", what)
	}
}

// A create stopped on one tenant is not resumed on another: the report
// records its tenant, and a resume with another domain, another client or
// (after the lookup) another connection is refused before anything is sent
// or written. Before, it created the rest of the users on the second
// tenant and exited 0.
func TestResumeRefusesAnotherTenant(t *testing.T) {
	a := newTestTenant(t, sandbox.Config{JobDelay: -1})
	path := stoppedCreate(t, a)

	h, err := report.ReadHeader(path)
	if err != nil {
		t.Fatal(err)
	}
	want := report.Tenant{Domain: a.host, ClientID: "cid", ConnectionID: a.sb().Connections()[0].ID}
	if h.Tenant != want {
		t.Fatalf("the report records tenant %+v, want %+v", h.Tenant, want)
	}
	resume, err := Recorded(path, ModeCreate)
	if err != nil {
		t.Fatal(err)
	}

	b := newTestTenant(t, sandbox.Config{JobDelay: -1})
	unchangedBy(t, "another domain", path, b, 0, func() error {
		_, err := Run(context.Background(), b.env(t), resume)
		return err
	}, "--resume "+path, "tenant "+a.host, "not "+b.host)
	if n := len(b.sb().Users()); n != 0 {
		t.Fatalf("the second tenant holds %d users", n)
	}

	unchangedBy(t, "another client", path, a, 0, func() error {
		env := a.env(t)
		env.Target.ClientID = "another-client"
		_, err := Run(context.Background(), env, resume)
		return err
	}, "client cid", "client another-client")

	// The same domain and client, but the connection was deleted and made
	// again under the same name: the token and the lookup only.
	first := a.sb()
	recreated := sandbox.New(sandbox.Config{JobDelay: -1, Connections: []management.Connection{
		{ID: "con_RECREATED0000000", Name: "Username-Password-Authentication", Strategy: "auth0"},
	}})
	a.cur.Store(recreated)
	unchangedBy(t, "another connection", path, a, 2, func() error {
		_, err := Run(context.Background(), a.env(t), resume)
		return err
	}, "connection "+want.ConnectionID, "connection con_RECREATED0000000")
	for req := range recreated.Stats().Requests {
		if !strings.Contains(req, "/oauth/token") && !strings.Contains(req, "GET /api/v2/connections") {
			t.Errorf("the refused resume sent %s", req)
		}
	}

	// The report's own tenant, however its domain is spelled, resumes it.
	a.cur.Store(first)
	env := a.env(t)
	env.Target = TenantOf("HTTP://"+strings.ToUpper(a.host)+"/", "cid", "")
	if _, err := Run(context.Background(), env, resume); err != nil {
		t.Fatalf("resume on the report's tenant: %v", err)
	}
	if n := len(first.Users()); n != 20 {
		t.Fatalf("the tenant holds %d users, want 20", n)
	}
}

// verify --report and report failures refuse a report of another tenant,
// before any request; report failures, offline, compares only a domain
// that is configured.
func TestVerifyAndFailuresRefuseAnotherTenant(t *testing.T) {
	a := newTestTenant(t, sandbox.Config{JobDelay: -1})
	path := stoppedCreate(t, a)
	b := newTestTenant(t, sandbox.Config{JobDelay: -1})

	unchangedBy(t, "verify --report", path, b, 0, func() error {
		_, err := Verify(context.Background(), b.env(t), VerifySpec{FromReport: path, Concurrency: 1})
		return err
	}, "--report "+path, "tenant "+a.host, "not "+b.host)

	unchangedBy(t, "report failures", path, b, 0, func() error {
		_, err := ReadFailures(Env{Target: TenantOf(b.host, "", "")}, path)
		return err
	}, "report "+path, "tenant "+a.host, "not "+b.host)

	for name, env := range map[string]Env{
		"no domain configured":       {},
		"the report's domain, spelt": {Target: TenantOf("https://"+strings.ToUpper(a.host), "", "")},
	} {
		fr, err := ReadFailures(env, path)
		if err != nil {
			t.Fatalf("report failures, %s: %v", name, err)
		}
		n := 0
		if _, err := fr.Each(context.Background(), env, func(FailedUser) error { n++; return nil }, func(string, int, string) {}); err != nil || n == 0 || n == 20 {
			t.Fatalf("report failures, %s: %d records, %v", name, n, err)
		}
	}
}

// A report written before tenants were recorded stays resumable, with a
// warning that its tenant cannot be checked.
func TestUnrecordedTenantResumesWithAWarning(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "users.ndjson")
	if err := os.WriteFile(in, []byte(`{"email":"a@example.com"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	spec := Spec{Mode: ModeImport, Connection: "Username-Password-Authentication", Inputs: []string{in}}
	spec.ChunkBytes, spec.MaxJobs = 500000, 2
	path := startedReport(t, dir, spec) // no Target: no tenant recorded
	if h, err := report.ReadHeader(path); err != nil || h.Tenant != (report.Tenant{}) {
		t.Fatalf("header %+v, %v: want a report without a tenant", h, err)
	}
	if b, _ := os.ReadFile(path); strings.Contains(string(b), `"tenant"`) {
		t.Fatalf("an unknown tenant was written: %s", b)
	}

	a := newTestTenant(t, sandbox.Config{JobDelay: -1})
	resume, err := Recorded(path, ModeImport)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	env := a.env(t)
	env.Log = slog.New(slog.NewTextHandler(&logs, nil))
	if _, err := Run(context.Background(), env, resume); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if !strings.Contains(logs.String(), "does not record its tenant") || !strings.Contains(logs.String(), a.host) {
		t.Fatalf("no warning naming the tenant: %q", logs.String())
	}
	if n := len(a.sb().Users()); n != 1 {
		t.Fatalf("the tenant holds %d users", n)
	}
}
