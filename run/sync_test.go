package run

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
	"github.com/a0bulk/a0bulk/syncstate"
)

const syncConn = "Username-Password-Authentication"

// syncEnv is one sandbox tenant and one state file, synced into several times.
type syncEnv struct {
	t     *testing.T
	mode  string
	sb    *sandbox.Server
	ts    *httptest.Server
	dir   string
	state string
	runs  int
}

func newSyncEnv(t *testing.T, mode string, cfg sandbox.Config) *syncEnv {
	t.Helper()
	if cfg.JobDelay == 0 {
		cfg.JobDelay = -1 // jobs complete at once
	}
	sb := sandbox.New(cfg)
	ts := httptest.NewServer(sb)
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	return &syncEnv{t: t, mode: mode, sb: sb, ts: ts, dir: dir, state: filepath.Join(dir, "users.state")}
}

type syncUser struct {
	email, given string
}

// input writes a CSV of users for the env's mode (create mode needs passwords).
func (e *syncEnv) input(users ...syncUser) string {
	e.t.Helper()
	var b strings.Builder
	if e.mode == "create" {
		b.WriteString("email,given_name,password\n")
	} else {
		b.WriteString("email,given_name\n")
	}
	for _, u := range users {
		if e.mode == "create" {
			fmt.Fprintf(&b, "%s,%s,Correct-Horse-9-Battery\n", u.email, u.given)
		} else {
			fmt.Fprintf(&b, "%s,%s\n", u.email, u.given)
		}
	}
	e.runs++
	path := filepath.Join(e.dir, fmt.Sprintf("users-%d.csv", e.runs))
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return path
}

type syncResult struct {
	sum    *Summary
	err    error
	report string
}

// spec is a sync of input into the env's tenant and state.
func (e *syncEnv) spec(input string) Spec {
	e.runs++
	spec := Spec{Mode: ModeSync, Connection: syncConn, Inputs: []string{input},
		ReportPath: filepath.Join(e.dir, fmt.Sprintf("report-%d.ndjson", e.runs))}
	spec.SyncMode, spec.State = e.mode, e.state
	spec.ChunkBytes, spec.MaxJobs, spec.Concurrency = 500000, 2, 8
	return spec
}

// env reaches the sandbox through the real client; jobs are polled soon,
// the sandbox finishing them at once.
func (e *syncEnv) env() Env {
	return Env{Connect: testConnect(e.t, e.ts.URL), PollMin: 5 * time.Millisecond, PollRate: 1000}
}

// sync runs a sync of input to its end.
func (e *syncEnv) sync(input string, edit ...func(*Spec)) syncResult {
	e.t.Helper()
	spec := e.spec(input)
	for _, f := range edit {
		f(&spec)
	}
	sum, err := Run(context.Background(), e.env(), spec)
	return syncResult{sum: sum, err: err, report: spec.ReportPath}
}

// incomplete reports whether err is the exit-3 outcome.
func incomplete(err error) bool {
	var inc *IncompleteError
	return errors.As(err, &inc)
}

func users(prefix string, n int) []syncUser {
	out := make([]syncUser, n)
	for i := range out {
		out[i] = syncUser{email: fmt.Sprintf("%s%d@example.com", prefix, i), given: fmt.Sprintf("Given%d", i)}
	}
	return out
}

// finals reads a report's final lines by email.
func finals(t *testing.T, path string) map[string]report.Entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]report.Entry{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e report.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("report line %q: %v", sc.Text(), err)
		}
		if e.Status.IsFinal() {
			if _, dup := out[e.Email]; dup {
				t.Fatalf("two final lines for %s", e.Email)
			}
			out[e.Email] = e
		}
	}
	return out
}

// sentEmails are the emails a report shows as queued or sending: what went
// to the tenant.
func sentEmails(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A chunk's queued line names its records, not their emails: those
	// are on the records' final lines.
	var sent []report.Key
	email := map[report.Key]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e report.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		for _, m := range e.Members() {
			switch {
			case m.Status == report.Queued || m.Status == report.Sending:
				sent = append(sent, m.Key())
			case m.Status.IsFinal():
				email[m.Key()] = m.Email
			}
		}
	}
	var out []string
	for _, k := range sent {
		e, ok := email[k]
		if !ok {
			t.Fatalf("%s was sent and has no final line", k)
		}
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

func summaryOf(t *testing.T, r syncResult) Summary {
	t.Helper()
	if r.sum == nil {
		t.Fatalf("no summary: %v", r.err)
	}
	return *r.sum
}

// stateOf reads the state after a run (which has released its lock).
func (e *syncEnv) stateOf(emails ...string) map[string]syncstate.Entry {
	e.t.Helper()
	st, err := syncstate.Open(e.state, clock.Real{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer st.Close()
	out := map[string]syncstate.Entry{}
	for _, em := range emails {
		if en, ok, err := st.Get(em); err != nil {
			e.t.Fatal(err)
		} else if ok {
			out[em] = en
		}
	}
	return out
}

// delta is what changed in the request counters between two snapshots.
func delta(before, after sandbox.Stats) map[string]int {
	out := map[string]int{}
	for k, v := range after.Requests {
		if d := v - before.Requests[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func emailsOf(us []syncUser) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.email
	}
	sort.Strings(out)
	return out
}

func TestSyncFirstUnchangedThenChanged(t *testing.T) {
	for _, mode := range []string{"import", "create"} {
		t.Run(mode, func(t *testing.T) {
			e := newSyncEnv(t, mode, sandbox.Config{})
			first := users("u", 6)
			success := report.Imported
			if mode == "create" {
				success = report.Created
			}

			// 1: every user is new.
			r1 := e.sync(e.input(first...))
			if r1.err != nil {
				t.Fatalf("first sync: %v", r1.err)
			}
			if s := summaryOf(t, r1); s.Records != 6 || s.Counts[string(success)] != 6 {
				t.Fatalf("first sync summary %+v", s)
			}
			st := e.stateOf(emailsOf(first)...)
			if len(st) != 6 {
				t.Fatalf("state holds %d users after the first sync, want 6", len(st))
			}
			for em, en := range st {
				if en.Hash.IsZero() || (mode == "create" && !strings.HasPrefix(en.UserID, "auth0|")) {
					t.Errorf("state entry of %s: %+v", em, en)
				}
			}
			if n := len(e.sb.Users()); n != 6 {
				t.Fatalf("sandbox holds %d users, want 6", n)
			}

			// 2: the same input: nothing reaches the tenant but the
			// connection lookup.
			before := e.sb.Stats()
			r2 := e.sync(e.input(first...))
			if r2.err != nil {
				t.Fatalf("second sync: %v", r2.err)
			}
			if s := summaryOf(t, r2); s.Counts[string(report.Skipped)] != 6 || s.Records != 6 {
				t.Fatalf("second sync summary %+v", s)
			}
			for em, f := range finals(t, r2.report) {
				if f.Status != report.Skipped || f.Code != CodeUnchanged {
					t.Errorf("%s: %s %s, want skipped UNCHANGED", em, f.Status, f.Code)
				}
				if mode == "create" && f.UserID != st[em].UserID {
					t.Errorf("%s: skipped line names user %q, state has %q", em, f.UserID, st[em].UserID)
				}
			}
			if d := delta(before, e.sb.Stats()); len(d) > 2 || d["POST /api/v2/users"] != 0 || d["POST /api/v2/jobs/users-imports"] != 0 {
				t.Fatalf("an unchanged sync reached the tenant: %v", d)
			}

			// 3: two changed, two unchanged, two dropped, three added.
			third := []syncUser{
				{first[0].email, "Changed0"}, {first[1].email, "Changed1"},
				first[2], first[3],
				{"new0@example.com", "N0"}, {"new1@example.com", "N1"}, {"NEW2@Example.com", "N2"},
			}
			before = e.sb.Stats()
			r3 := e.sync(e.input(third...))
			if r3.err != nil {
				t.Fatalf("third sync: %v", r3.err)
			}
			want := []string{"NEW2@Example.com", "new0@example.com", "new1@example.com", first[0].email, first[1].email}
			sort.Strings(want)
			if got := sentEmails(t, r3.report); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("sent %v, want only the changed and added %v", got, want)
			}
			d := delta(before, e.sb.Stats())
			switch mode {
			case "import":
				if d["POST /api/v2/jobs/users-imports"] != 1 || d["POST /api/v2/users"] != 0 || d["PATCH /api/v2/users/{id}"] != 0 {
					t.Fatalf("third sync requests %v", d)
				}
			case "create":
				// 3 new users created, 2 changed ones: POST (409), look-up, PATCH.
				if d["POST /api/v2/users"] != 5 || d["PATCH /api/v2/users/{id}"] != 2 || d["POST /api/v2/jobs/users-imports"] != 0 {
					t.Fatalf("third sync requests %v", d)
				}
			}
			fin := finals(t, r3.report)
			for _, u := range third[2:4] {
				if fin[u.email].Status != report.Skipped || fin[u.email].Code != CodeUnchanged {
					t.Errorf("unchanged %s: %+v", u.email, fin[u.email])
				}
			}
			if mode == "create" {
				for _, u := range third[:2] {
					if fin[u.email].Status != report.Updated {
						t.Errorf("changed %s: %+v", u.email, fin[u.email])
					}
				}
			}
			byEmail := map[string]sandbox.SandboxUser{}
			for _, u := range e.sb.Users() {
				byEmail[u.Email] = u
			}
			if len(byEmail) != 9 {
				t.Fatalf("sandbox holds %d users, want 9", len(byEmail))
			}
			if byEmail[first[0].email].GivenName != "Changed0" || byEmail["new2@example.com"].GivenName != "N2" {
				t.Fatalf("changes not applied: %+v / %+v", byEmail[first[0].email].User, byEmail["new2@example.com"].User)
			}
			// The state now remembers the changed hashes (keys are
			// lower-cased): a fourth sync of the same input sends nothing.
			st3 := e.stateOf("new2@example.com", first[0].email)
			if len(st3) != 2 || st3[first[0].email].Hash == st[first[0].email].Hash {
				t.Fatalf("state after the third sync: %+v", st3)
			}
			before = e.sb.Stats()
			r4 := e.sync(e.input(third...))
			if s := summaryOf(t, r4); r4.err != nil || s.Counts[string(report.Skipped)] != 7 {
				t.Fatalf("fourth sync: %v %+v", r4.err, s)
			}
			if d := delta(before, e.sb.Stats()); len(d) > 2 {
				t.Fatalf("fourth sync reached the tenant: %v", d)
			}
		})
	}
}

func TestSyncLockedStateFailsWithoutCalls(t *testing.T) {
	for _, dry := range []bool{false, true} {
		t.Run(fmt.Sprintf("dry run %v", dry), func(t *testing.T) {
			e := newSyncEnv(t, "import", sandbox.Config{})
			started := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
			held, err := syncstate.Open(e.state, clock.NewFake(started))
			if err != nil {
				t.Fatal(err)
			}
			defer held.Close()
			spec := e.spec(e.input(users("u", 2)...))
			if dry {
				_, err = DryRun(context.Background(), e.env(), spec, nil)
			} else {
				var sum *Summary
				sum, err = Run(context.Background(), e.env(), spec)
				if sum != nil {
					t.Fatalf("a locked sync has a summary: %+v", sum)
				}
			}
			var le *syncstate.LockedError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want the state's lock", err)
			}
			for _, want := range []string{fmt.Sprintf("pid %d", os.Getpid()), "started 2026-11-25T02:00:00Z", "another sync is running"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%q does not say %q", err, want)
				}
			}
			if n := len(e.sb.Stats().Requests); n != 0 {
				t.Fatalf("a locked sync reached the tenant: %v", e.sb.Stats().Requests)
			}
			if _, err := os.Stat(spec.ReportPath); !os.IsNotExist(err) {
				t.Fatalf("a locked sync wrote a report: %v", err)
			}
		})
	}
}

func TestSyncDryRunIsOffline(t *testing.T) {
	for _, mode := range []string{"import", "create"} {
		t.Run(mode, func(t *testing.T) {
			e := newSyncEnv(t, mode, sandbox.Config{})
			first := users("u", 4)
			// A dry run needs no tenant at all.
			offline := Env{}

			// No state yet: everything would be created, and the dry run
			// does not create the state.
			p, err := DryRun(context.Background(), offline, e.spec(e.input(first...)), nil)
			if err != nil {
				t.Fatal(err)
			}
			if p.New != 4 || p.Changed+p.Unchanged+p.Invalid != 0 || p.StateExists {
				t.Fatalf("plan without state %+v", p)
			}
			if _, err := os.Stat(e.state); !os.IsNotExist(err) {
				t.Fatalf("a dry run created the state: %v", err)
			}

			if r := e.sync(e.input(first...)); r.err != nil {
				t.Fatalf("sync: %v", r.err)
			}
			before := e.sb.Stats()
			next := []syncUser{{first[0].email, "Changed"}, first[1], first[2], {"new@example.com", "N"}, {"bad-email", "X"}}
			spec := e.spec(e.input(next...))
			listed := map[string]string{}
			p, err = DryRun(context.Background(), offline, spec, func(verdict string, rec input.Record) { listed[rec.User.Email] = verdict })
			if err != nil {
				t.Fatal(err)
			}
			if p.Records != 5 || p.New != 1 || p.Changed != 1 || p.Unchanged != 2 || p.Invalid != 1 || !p.StateExists {
				t.Fatalf("plan %+v", p)
			}
			want := map[string]string{first[0].email: WouldUpdate, first[1].email: WouldSkip, first[2].email: WouldSkip, "new@example.com": WouldCreate}
			if fmt.Sprint(listed) != fmt.Sprint(want) {
				t.Fatalf("listed %v, want %v", listed, want)
			}
			if d := delta(before, e.sb.Stats()); len(d) != 0 {
				t.Fatalf("a dry run reached the tenant: %v", d)
			}
			if _, err := os.Stat(spec.ReportPath); !os.IsNotExist(err) {
				t.Fatalf("a dry run wrote a report: %v", err)
			}
			// Nothing was remembered either.
			if st := e.stateOf("new@example.com"); len(st) != 0 {
				t.Fatalf("a dry run wrote the state: %+v", st)
			}
		})
	}
}

// The state remembers only what the tenant confirmed: users of a failed job
// or a refused create are sent again by the next sync.
func TestSyncStateOnlyFromConfirmedOutcomes(t *testing.T) {
	t.Run("import job failed", func(t *testing.T) {
		e := newSyncEnv(t, "import", sandbox.Config{Faults: sandbox.Faults{FailEveryNthJob: 1}})
		us := users("u", 3)
		r := e.sync(e.input(us...))
		if !incomplete(r.err) {
			t.Fatalf("err = %v, want some records failed", r.err)
		}
		if st := e.stateOf(emailsOf(us)...); len(st) != 0 {
			t.Fatalf("state holds users of a failed job: %+v", st)
		}
		before := e.sb.Stats()
		e.sync(e.input(us...))
		if d := delta(before, e.sb.Stats()); d["POST /api/v2/jobs/users-imports"] != 1 {
			t.Fatalf("the failed users were not sent again: %v", d)
		}
	})
	t.Run("create refused", func(t *testing.T) {
		e := newSyncEnv(t, "create", sandbox.Config{})
		path := filepath.Join(e.dir, "weak.csv")
		csv := "email,password\nok@example.com,Correct-Horse-9-Battery\nweak@example.com,a\n"
		if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
			t.Fatal(err)
		}
		r := e.sync(path)
		if !incomplete(r.err) {
			t.Fatalf("err = %v, want some records failed", r.err)
		}
		st := e.stateOf("ok@example.com", "weak@example.com")
		if _, ok := st["ok@example.com"]; !ok || len(st) != 1 {
			t.Fatalf("state %+v, want only the created user", st)
		}
		before := e.sb.Stats()
		r = e.sync(path)
		if d := delta(before, e.sb.Stats()); d["POST /api/v2/users"] != 1 {
			t.Fatalf("second sync: %v, want only the refused user sent again", d)
		}
		if f := finals(t, r.report); f["ok@example.com"].Code != CodeUnchanged || f["weak@example.com"].Status != report.Failed {
			t.Fatalf("second sync finals %+v", f)
		}
	})
}

// A sync dates its run by the tenant's clock, as import and create do: a
// create whose answer was lost is settled by finding the user, and the user
// is this run's only if created at or after the run's start, by the
// tenant's created_at. Here the tenant's clock is years behind the host's
// (the sync used to take the host's time.Now(), call the users someone
// else's, and try to update them).
func TestSyncDatesItsRunByTheTenantsClock(t *testing.T) {
	tenantNow := time.Date(2020, 3, 1, 12, 0, 0, 500_000_000, time.UTC)
	e := newSyncEnv(t, "create", sandbox.Config{Clock: clock.NewFake(tenantNow), Faults: sandbox.Faults{Seed: 1, ResetAfter: 1}})
	us := users("u", 3)
	r := e.sync(e.input(us...))
	if r.err != nil {
		t.Fatalf("sync: %v", r.err)
	}
	for em, f := range finals(t, r.report) {
		if f.Status != report.Created {
			t.Errorf("%s: %s %s %s, want created (the lost answers were this run's creates)", em, f.Status, f.Code, f.Reason)
		}
	}
	if st := e.stateOf(emailsOf(us)...); len(st) != 3 {
		t.Fatalf("state holds %d users, want 3", len(st))
	}
	// True of the tenant: each user once, none updated after its create.
	if n, d := len(e.sb.Users()), e.sb.Stats().Requests["PATCH /api/v2/users/{id}"]; n != 3 || d != 0 {
		t.Fatalf("tenant holds %d users after %d updates, want 3 and 0", n, d)
	}
	h, err := report.ReadHeader(r.report)
	if err != nil || !h.StartedAt.Equal(tenantNow.Truncate(time.Second)) {
		t.Fatalf("report started_at %v (%v), want the tenant's %v", h.StartedAt, err, tenantNow.Truncate(time.Second))
	}
}
