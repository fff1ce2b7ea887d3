package export_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/export"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/sandbox"
	"github.com/a0bulk/a0bulk/throttle"
)

const dbConn = "Username-Password-Authentication"

var start = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// tenant is a sandbox under httptest, with the client every command uses
// (throttled, token-refreshing), on one fake clock. wrap, when set, sees
// every request before the sandbox.
type tenant struct {
	srv    *sandbox.Server
	hs     *httptest.Server
	client *management.Client
	clk    *clock.Fake

	mu   sync.Mutex
	wrap func(w http.ResponseWriter, r *http.Request, next http.Handler)
}

func newTenant(t *testing.T, sc sandbox.Config, users int) *tenant {
	t.Helper()
	tn := &tenant{clk: clock.NewFake(start)}
	sc.Clock = tn.clk
	tn.srv = sandbox.New(sc)
	tn.hs = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tn.mu.Lock()
		wrap := tn.wrap
		tn.mu.Unlock()
		if wrap != nil {
			wrap(w, r, tn.srv)
			return
		}
		tn.srv.ServeHTTP(w, r)
	}))
	t.Cleanup(tn.hs.Close)
	c, err := management.New(management.Config{
		Domain: tn.hs.Listener.Addr().String(), ClientID: "cid", ClientSecret: "sandbox-secret",
		Base:     tn.hs.Client().Transport,
		Throttle: throttle.Options{Rate: 1e6, Burst: 1e6, MaxRetries: -1, Clock: clock.Real{}},
		Clock:    tn.clk, Version: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	tn.client = c
	for i := range users {
		tn.srv.AddUser(management.User{
			UserID: fmt.Sprintf("auth0|%024x", i+1), Email: fmt.Sprintf("user%d@example.com", i),
			Name: fmt.Sprintf("User %d,\n\"the\" %d", i, i), EmailVerified: ptr(i%2 == 0),
			UserMetadata: map[string]any{"n": float64(i)}, AppMetadata: map[string]any{"plan": "gold"},
		}, dbConn)
	}
	return tn
}

func ptr[T any](v T) *T { return &v }

// options are an export of the tenant's database connection, polled and
// downloaded through its client, logging into log.
func (tn *tenant) options(log *logbook) export.Options {
	return export.Options{
		Connection: dbConn, API: tn.client, HTTP: &http.Client{Transport: tn.hs.Client().Transport},
		Clock: tn.clk, Logf: log.logf,
	}
}

// run runs the export to its end, driving the fake clock while it waits.
func (tn *tenant) run(t *testing.T, o export.Options) (export.Result, error) {
	t.Helper()
	var res export.Result
	done := make(chan error, 1)
	go func() {
		var err error
		res, err = export.Run(context.Background(), o)
		done <- err
	}()
	err := tn.clk.Drive(250*time.Millisecond, done)
	return res, err
}

// runToFile runs an export to a new file name in a directory of its own,
// which must succeed, and returns what it did, the directory and its log.
func (tn *tenant) runToFile(t *testing.T, name string) (export.Result, string, *logbook) {
	t.Helper()
	dir, out := outPath(t, name)
	log := &logbook{}
	o := tn.options(log)
	o.Out = out
	res, err := tn.run(t, o)
	if err != nil {
		t.Fatal(err)
	}
	return res, dir, log
}

// logbook collects what an export logs.
type logbook struct {
	mu    sync.Mutex
	lines []string
}

func (l *logbook) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logbook) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// noLink fails if s quotes an export link.
func noLink(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{"Signature", "Expires=", "/sandbox/exports/", ".json.gz", ".csv.gz"} {
		if strings.Contains(s, secret) {
			t.Errorf("%s quotes the link (%q): %s", what, secret, s)
		}
	}
}

// dirHolds fails unless dir holds exactly names.
func dirHolds(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

// exported is the file the tenant made for the one export job it ran.
func (tn *tenant) exported(t *testing.T, jobID string) []byte {
	t.Helper()
	b, ok := tn.srv.ExportFile(jobID)
	if !ok {
		t.Fatalf("the tenant has no file for %s", jobID)
	}
	return b
}

func lines(b []byte) int { return bytes.Count(b, []byte("\n")) }

func outPath(t *testing.T, name string) (string, string) {
	dir := t.TempDir()
	return dir, filepath.Join(dir, name)
}
