package migrate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/run"
	"github.com/a0bulk/a0bulk/sandbox"
	"github.com/a0bulk/a0bulk/throttle"
)

const dbConn = "Username-Password-Authentication"

var start = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// tenant is a sandbox under httptest and the client every command uses
// (throttled, token-refreshing); calls counts the API requests (not the
// token's).
type tenant struct {
	srv    *sandbox.Server
	hs     *httptest.Server
	client *management.Client
	domain string
	calls  atomic.Int64
}

func newTenant(t *testing.T, cfg sandbox.Config, clk clock.Clock) *tenant {
	t.Helper()
	if cfg.Clock == nil {
		cfg.Clock = clk
	}
	tn := &tenant{srv: sandbox.New(cfg)}
	tn.hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v2/") {
			tn.calls.Add(1)
		}
		tn.srv.ServeHTTP(w, r)
	}))
	t.Cleanup(tn.hs.Close)
	tn.domain = tn.hs.Listener.Addr().String()
	tn.client = connectTo(t, tn.domain, clk)
	return tn
}

// connectTo is the client of the tenant at domain (a sandbox's address).
func connectTo(t testing.TB, domain string, clk clock.Clock) *management.Client {
	c, err := management.New(management.Config{
		Domain: domain, ClientID: "cid", ClientSecret: "sandbox-secret",
		Throttle: throttle.Options{Rate: 1e6, Burst: 1e6, MaxRetries: 3, Clock: clock.Real{}},
		Clock:    clk, Version: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ptr[T any](v T) *T { return &v }

// seed puts n users in the tenant's database connection: every attribute
// the import schema takes back, varied, half with a generated id and half
// with one of their own (Auth0 gives those an alt_id in a hash export).
func seed(tn *tenant, n int) {
	for i := range n {
		id := fmt.Sprintf("auth0|%024x", i+1)
		if i%2 == 1 {
			id = fmt.Sprintf("auth0|legacy-%d", i)
		}
		u := management.User{
			UserID: id, Email: fmt.Sprintf("User%d@Example.com", i), EmailVerified: ptr(i%3 == 0),
			GivenName: fmt.Sprintf("Given%d", i), FamilyName: "Family", Name: fmt.Sprintf("User %d, \"the\" %d", i, i),
			Nickname: fmt.Sprintf("nick%d", i), Picture: fmt.Sprintf("https://example.com/p/%d.png", i),
			Blocked:      ptr(i%5 == 0),
			UserMetadata: map[string]any{"n": float64(i), "tags": []any{"a", fmt.Sprint(i)}, "nested": map[string]any{"k": "v"}},
			AppMetadata:  map[string]any{"plan": []string{"free", "gold"}[i%2]},
		}
		if i%4 == 0 {
			u.PhoneNumber = fmt.Sprintf("+1555%07d", i)
		}
		tn.srv.AddUser(u, dbConn)
	}
}

// pair is a source and a target tenant on one fake clock, and a
// directory for the migrate's files.
type pair struct {
	clk      *clock.Fake
	src, dst *tenant
	dir      string
}

func newPair(t *testing.T, src, dst sandbox.Config) *pair {
	t.Helper()
	clk := clock.NewFake(start)
	return &pair{clk: clk, src: newTenant(t, src, clk), dst: newTenant(t, dst, clk), dir: t.TempDir()}
}

// env is the migrate's environment over the pair, as the cli builds it.
func (p *pair) env() Env {
	return envFor(p.src.client, p.dst.client, p.src.domain, p.dst.domain, p.clk)
}

// envFor is a migrate's environment over two clients, on clk.
func envFor(src, dst *management.Client, srcDomain, dstDomain string, clk clock.Clock) Env {
	return Env{
		Source: src, Target: dst,
		SourceTenant: run.TenantOf(srcDomain, "cid", ""),
		Import: run.Env{
			Connect: func() (run.Tenant, error) { return dst, nil },
			Clock:   clk, Target: run.TenantOf(dstDomain, "cid", ""), Version: "test",
			PollMin: 100 * time.Millisecond, PollRate: 1000, Grace: time.Second,
		},
		HTTP: &http.Client{},
	}
}

func (p *pair) options() Options {
	return Options{FromConnection: dbConn, ToConnection: dbConn, Report: filepath.Join(p.dir, "run.ndjson"), Version: "test"}
}

// migrate runs a migrate to its end, driving the fake clock while it waits.
func (p *pair) migrate(ctx context.Context, env Env, o Options) (*Result, error) {
	var res *Result
	done := make(chan error, 1)
	go func() {
		var err error
		res, err = Run(ctx, env, o)
		done <- err
	}()
	err := p.clk.Drive(250*time.Millisecond, done)
	return res, err
}

// resumeOptions are what `a0bulk migrate --resume REPORT` reads back.
func resumeOptions(t *testing.T, reportPath string) Options {
	t.Helper()
	o, _, err := Recorded(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	o.Version = "test"
	return o
}

// sameUsers fails unless every user of the source's connection is in the
// target's exactly once, under the same user_id, with every attribute
// the migrate carries equal.
func sameUsers(t *testing.T, src, dst *tenant) {
	t.Helper()
	byID := map[string]sandbox.SandboxUser{}
	for _, u := range dst.srv.Users() {
		if _, dup := byID[u.UserID]; dup {
			t.Fatalf("the target holds %s twice", u.UserID)
		}
		byID[u.UserID] = u
	}
	emails := map[string]int{}
	for _, u := range dst.srv.Users() {
		emails[u.Email]++
	}
	n := 0
	for _, s := range src.srv.Users() {
		if s.Connection != dbConn {
			continue
		}
		n++
		d, ok := byID[s.UserID]
		if !ok {
			t.Errorf("%s (%s) is not in the target", s.UserID, s.Email)
			continue
		}
		if emails[s.Email] != 1 {
			t.Errorf("%s is in the target %d times", s.Email, emails[s.Email])
		}
		if got, want := comparable(d), comparable(s); got != want {
			t.Errorf("%s differs:\n target %s\n source %s", s.UserID, got, want)
		}
	}
	if n == 0 || len(byID) != n {
		t.Errorf("source %d users, target %d", n, len(byID))
	}
}

// comparable is what a migrate must carry over of a user, as JSON.
func comparable(u sandbox.SandboxUser) string {
	c := u.User
	c.CreatedAt, c.UpdatedAt, c.Identities = nil, nil, nil
	if c.Blocked != nil && !*c.Blocked {
		c.Blocked = nil // false and absent are the same profile
	}
	b, _ := json.Marshal(struct {
		management.User
		Connection string
	}{c, u.Connection})
	return string(b)
}

// finals reads a report's final lines: each record once, or the test fails.
func finals(t *testing.T, path string) map[report.Key]report.Entry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[report.Key]report.Entry{}
	for i, line := range bytes.Split(b, []byte("\n")) {
		if i == 0 || len(line) == 0 {
			continue
		}
		var e report.Entry
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("%s line %d: %v", path, i+1, err)
		}
		if !e.Status.IsFinal() {
			continue
		}
		if prev, dup := out[e.Key()]; dup {
			t.Fatalf("%s has two final lines (%s, then %s)", e.Key(), prev.Status, e.Status)
		}
		out[e.Key()] = e
	}
	return out
}

// journalEvents lists the events of a migrate's journal, in order.
func journalEvents(t *testing.T, reportPath string) []string {
	t.Helper()
	b, err := os.ReadFile(JournalPath(reportPath))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var ln line
		if err := json.Unmarshal(l, &ln); err != nil {
			t.Fatalf("journal line %q: %v", l, err)
		}
		out = append(out, ln.Event)
	}
	return out
}

// mode0600 fails unless path is a regular file of mode 0600.
func mode0600(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want a regular file 0600", path, fi.Mode())
	}
}

// management0 is a user of id and email, nothing else.
func management0(id, email string) management.User {
	return management.User{UserID: id, Email: email}
}
