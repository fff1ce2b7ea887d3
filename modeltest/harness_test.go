package modeltest

// The harness's own tests: a model test whose model is wrong proves
// nothing, so the input model, the kill emulation and the checks are each
// shown to say what they claim (and the checks to fail on a lying report).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/report"
)

// Every format is read back by a0bulk's own reader with the lines, emails
// and validity the model gives its records.
func TestInputModelMatchesTheReader(t *testing.T) {
	for _, format := range []string{fmtNDJSON, fmtCSV, fmtPretty, fmtBraces, fmtMinified} {
		for _, mode := range []input.Mode{input.ModeImport, input.ModeCreate} {
			t.Run(format+"/"+mode.String(), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(1, 2))
				recs := makeRecords(rng, 30, "m", inputPlan{invalidRate: 0.3, weakRate: 0.1, preRate: 0.1})
				path := filepath.Join(t.TempDir(), "users"+extension(format))
				if err := writeInput(path, format, recs, mode == input.ModeCreate); err != nil {
					t.Fatal(err)
				}
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				ff, err := input.DetectFormat(path, "")
				if err != nil {
					t.Fatal(err)
				}
				rd, err := input.NewReader(f, path, ff, input.Options{Mode: mode})
				if err != nil {
					t.Fatal(err)
				}
				v := input.NewValidator(mode)
				for i := 0; ; i++ {
					rec, err := rd.Next()
					if errors.Is(err, io.EOF) {
						if i != len(recs) {
							t.Fatalf("read %d records, the model wrote %d", i, len(recs))
						}
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					v.Check(&rec)
					r := recs[i]
					if rec.Line != r.line || rec.User.Email != r.written || rec.Valid() == r.invalid {
						t.Errorf("record %d: read line %d email %q valid %v (%v); the model says line %d email %q invalid %v",
							i+1, rec.Line, rec.User.Email, rec.Valid(), rec.Errors, r.line, r.written, r.invalid)
					}
				}
				if format == fmtMinified && recs[len(recs)-1].line != 1 {
					t.Error("a minified array is one line")
				}
			})
		}
	}
}

// A request that left before the kill reaches the tenant and loses its
// answer; one after it never leaves; the report keeps its bytes at the
// kill, plus at most a piece of the next line that never parses; the
// state keeps its bytes at the kill.
func TestKillSwitch(t *testing.T) {
	var served atomic.Int32
	inHandler, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.URL.Path == "/slow" {
			close(inHandler)
			<-release
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	dir := t.TempDir()
	reportPath, state := filepath.Join(dir, "r.ndjson"), filepath.Join(dir, "s.db")
	atKill := "{\"status\":\"run\"}\n{\"status\":\"queued\",\"line\":1}\n"
	later := "{\"status\":\"created\",\"line\":1,\"email\":\"a@x.io\"}\n"
	for _, f := range []struct{ path, data string }{{reportPath, atKill}, {state, "state at T"}} {
		if err := os.WriteFile(f.path, []byte(f.data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	ks := &killSwitch{next: http.DefaultTransport, report: reportPath, state: state,
		plan: killPlan{atLine: 2, torn: true, tornAt: 1}, cancel: cancel}

	slow := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/slow", nil)
		_, err := ks.RoundTrip(req)
		slow <- err
	}()
	<-inHandler // in flight at the kill
	ks.Observe(report.Entry{})
	if ks.wasKilled() {
		t.Fatal("killed at line 1, the plan says 2")
	}
	ks.Observe(report.Entry{})
	if !ks.wasKilled() || ctx.Err() == nil {
		t.Fatal("not killed (or its context not cancelled) at line 2")
	}
	// What the dying process still does: finish writing a line, update
	// its state.
	appendFile(t, reportPath, later)
	if err := os.WriteFile(state, []byte("state after T"), 0o600); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/after", nil)
	if _, err := ks.RoundTrip(req); !errors.Is(err, errKilled) {
		t.Fatalf("a request after the kill: %v, want errKilled", err)
	}
	close(release)
	if err := <-slow; !errors.Is(err, errKilled) {
		t.Fatalf("the request in flight at the kill: %v, want its answer lost", err)
	}
	if n := served.Load(); n != 1 {
		t.Fatalf("the tenant served %d requests, want only the one in flight at the kill", n)
	}
	if err := ks.cut(); err != nil {
		t.Fatal(err)
	}
	got := readString(t, reportPath)
	if !strings.HasPrefix(got, atKill) || len(got) >= len(atKill)+len(later)-1 || len(got) == len(atKill) {
		t.Fatalf("report after the kill %q: want %q plus a torn piece of %q", got, atKill, later)
	}
	if s := readString(t, state); s != "state at T" {
		t.Fatalf("state after the kill %q, want its bytes at the kill", s)
	}
}

// A kill at a write lands after the tenant acted on it and before its
// answer: the write is served, its answer lost, and nothing leaves after.
func TestKillAtWrite(t *testing.T) {
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	ks := &killSwitch{next: http.DefaultTransport, report: filepath.Join(t.TempDir(), "r.ndjson"), plan: killPlan{atWrite: 2}, cancel: cancel}
	send := func(method, path string) error {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader("{}"))
		resp, err := ks.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	for _, step := range []struct {
		method, path string
		want         error
		served       int32
	}{
		{http.MethodPost, "/oauth/token", nil, 1}, // not an API write
		{http.MethodGet, "/api/v2/users/x", nil, 2},
		{http.MethodPost, "/api/v2/users", nil, 3},
		{http.MethodPatch, "/api/v2/users/x", errKilled, 4}, // the second write: served, answer lost
		{http.MethodGet, "/api/v2/users/x", errKilled, 4},
	} {
		if err := send(step.method, step.path); !errors.Is(err, step.want) || served.Load() != step.served {
			t.Fatalf("%s %s: %v with %d served, want %v with %d", step.method, step.path, err, served.Load(), step.want, step.served)
		}
	}
	if ctx.Err() == nil || !ks.wasKilled() {
		t.Fatal("the kill did not cancel the run")
	}
}

// A run killed before it wrote its report leaves none, whatever the dying
// process wrote after.
func TestKillBeforeTheReport(t *testing.T) {
	dir := t.TempDir()
	reportPath := filepath.Join(dir, "r.ndjson")
	_, cancel := context.WithCancel(context.Background())
	defer cancel()
	ks := &killSwitch{next: http.DefaultTransport, report: reportPath, plan: killPlan{atRequest: 1}, cancel: cancel}
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/never", nil)
	if _, err := ks.RoundTrip(req); !errors.Is(err, errKilled) {
		t.Fatalf("the request the kill lands on: %v", err)
	}
	appendFile(t, reportPath, "{\"status\":\"run\"}\n")
	if err := ks.cut(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(reportPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("report after a kill before it existed: %v", err)
	}
}

// The checks catch each kind of lie, and accept the truth.
func TestChecksCatchLies(t *testing.T) {
	recs := []*record{
		{ordinal: 1, line: 1, email: "new@x.io", written: "new@x.io"},
		{ordinal: 2, line: 2, email: "pre@x.io", written: "pre@x.io", pre: true},
		{ordinal: 3, line: 3, email: "bad@x.io", written: "bad@x.io", invalid: true},
		{ordinal: 4, line: 4, email: "lost@x.io", written: "lost@x.io"},
	}
	before := tenantView{"pre@x.io": true}
	now := tenantView{"pre@x.io": true, "new@x.io": true}
	truth := []string{"1 new@x.io created", "2 pre@x.io skipped", "3 bad@x.io invalid", "4 lost@x.io failed"}
	for _, tc := range []struct {
		name  string
		lines []string
		want  string // "" for no mismatch
	}{
		{"the truth", truth, ""},
		{"created twice", append(truth, "1 new@x.io created"), "two final lines"},
		{"a record without a final line", truth[:3], "has no final line"},
		{"a new user skipped", []string{"1 new@x.io skipped", truth[1], truth[2], truth[3]}, "skipped, but this run added"},
		{"a new user failed", []string{"1 new@x.io failed", truth[1], truth[2], truth[3]}, "failed, but this run added"},
		{"an old user created", []string{truth[0], "2 pre@x.io created", truth[2], truth[3]}, "created, but the user was in the tenant before"},
		{"an absent user created", []string{truth[0], truth[1], truth[2], "4 lost@x.io created"}, "created, but the user is not in the tenant"},
		{"an absent user updated", []string{truth[0], truth[1], truth[2], "4 lost@x.io updated"}, "updated, but the user is not in the tenant"},
		{"an invalid record sent", []string{truth[0], truth[1], "3 bad@x.io failed", truth[3]}, "is invalid input"},
		{"another record's line", []string{"1 pre@x.io created", truth[1], truth[2], truth[3]}, "final line names"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "users.ndjson")
			var b strings.Builder
			b.WriteString("{\"status\":\"run\"}\n")
			for _, l := range tc.lines {
				var line int
				var email, status string
				fmt.Sscan(l, &line, &email, &status)
				fmt.Fprintf(&b, "{\"file\":%q,\"line\":%d,\"email\":%q,\"status\":%q}\n", in, line, email, status)
			}
			reportPath := filepath.Join(dir, "run.ndjson")
			if err := os.WriteFile(reportPath, []byte(b.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			var m mismatches
			expectation{report: reportPath, input: in, recs: recs, before: before, now: now}.check(&m)
			switch {
			case tc.want == "" && len(m) > 0:
				t.Fatalf("the truth was called a lie: %v", m)
			case tc.want != "" && (len(m) == 0 || !strings.Contains(strings.Join(m, "\n"), tc.want)):
				t.Fatalf("mismatches %q, want one saying %q", m, tc.want)
			}
		})
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Records that share a line are told apart by the record ordinal the
// report will carry (issue 12 #1); without it the checks refuse to guess.
func TestChecksIdentifyRecordsByOrdinal(t *testing.T) {
	recs := []*record{
		{ordinal: 1, line: 1, email: "a@x.io", written: "a@x.io"},
		{ordinal: 2, line: 1, email: "b@x.io", written: "b@x.io"},
	}
	now := tenantView{"a@x.io": true, "b@x.io": true}
	for _, tc := range []struct {
		name, ordinals, want string
	}{
		{"with ordinals", `,"record":%d`, ""},
		{"without", ``, "cannot say which"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "users.json")
			var b strings.Builder
			for _, r := range recs {
				extra := tc.ordinals
				if extra != "" {
					extra = fmt.Sprintf(extra, r.ordinal)
				}
				fmt.Fprintf(&b, "{\"file\":%q,\"line\":1%s,\"email\":%q,\"status\":\"created\"}\n", in, extra, r.email)
			}
			reportPath := filepath.Join(dir, "run.ndjson")
			if err := os.WriteFile(reportPath, []byte(b.String()), 0o600); err != nil {
				t.Fatal(err)
			}
			var m mismatches
			expectation{report: reportPath, input: in, recs: recs, before: tenantView{}, now: now}.check(&m)
			if got := strings.Join(m, "\n"); (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("mismatches %q, want %q", got, tc.want)
			}
		})
	}
}
