package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
	"github.com/a0bulk/a0bulk/syncstate"
)

func init() {
	// The sandbox finishes jobs at once: do not wait a second before the
	// first poll.
	syncPollMin = 5 * time.Millisecond
}

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
	code           int
	stdout, stderr string
	report         string
}

// sync runs `a0bulk sync` in-process against the sandbox.
func (e *syncEnv) sync(input string, extra ...string) syncResult {
	e.t.Helper()
	e.runs++
	rep := filepath.Join(e.dir, fmt.Sprintf("report-%d.ndjson", e.runs))
	args := []string{"a0bulk", "sync",
		"--domain", strings.TrimPrefix(e.ts.URL, "http://"), "--client-id", "cid", "--client-secret", "sec",
		"--connection", syncConn, "--state", e.state, "--mode", e.mode,
		"--input", input, "--report", rep, "--no-progress", "--output", "json", "--rate", "1000"}
	args = append(args, extra...)
	var out, errOut bytes.Buffer
	code := Main(args, Test(strings.NewReader(""), &out, &errOut))
	return syncResult{code: code, stdout: out.String(), stderr: errOut.String(), report: rep}
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
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e report.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		if e.Status == report.Queued || e.Status == report.Sending {
			out = append(out, e.Email)
		}
	}
	sort.Strings(out)
	return out
}

func summaryOf(t *testing.T, r syncResult) runSummary {
	t.Helper()
	var s runSummary
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("summary %q: %v (stderr %s)", r.stdout, err, r.stderr)
	}
	return s
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
			if r1.code != ExitOK {
				t.Fatalf("first sync: exit %d\n%s\n%s", r1.code, r1.stdout, r1.stderr)
			}
			if s := summaryOf(t, r1); s.Records != 6 || s.Counts[string(success)] != 6 {
				t.Fatalf("first sync summary %+v", s)
			}
			st := e.stateOf(emailsOf(first)...)
			if len(st) != 6 {
				t.Fatalf("state holds %d users after the first sync, want 6", len(st))
			}
			for em, en := range st {
				if en.Hash == "" || (mode == "create" && !strings.HasPrefix(en.UserID, "auth0|")) {
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
			if r2.code != ExitOK {
				t.Fatalf("second sync: exit %d\n%s\n%s", r2.code, r2.stdout, r2.stderr)
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
			if r3.code != ExitOK {
				t.Fatalf("third sync: exit %d\n%s\n%s", r3.code, r3.stdout, r3.stderr)
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
			if s := summaryOf(t, r4); r4.code != ExitOK || s.Counts[string(report.Skipped)] != 7 {
				t.Fatalf("fourth sync: exit %d %+v", r4.code, s)
			}
			if d := delta(before, e.sb.Stats()); len(d) > 2 {
				t.Fatalf("fourth sync reached the tenant: %v", d)
			}
		})
	}
}

func TestSyncLockedStateExitsOneWithoutCalls(t *testing.T) {
	for _, args := range [][]string{nil, {"--dry-run"}} {
		t.Run(strings.Join(append([]string{"sync"}, args...), " "), func(t *testing.T) {
			e := newSyncEnv(t, "import", sandbox.Config{})
			started := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
			held, err := syncstate.Open(e.state, clock.NewFake(started))
			if err != nil {
				t.Fatal(err)
			}
			defer held.Close()
			r := e.sync(e.input(users("u", 2)...), args...)
			if r.code != ExitRunFailed {
				t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
			}
			for _, want := range []string{fmt.Sprintf("pid %d", os.Getpid()), "started 2026-11-25T02:00:00Z", "another sync is running"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr %q does not say %q", r.stderr, want)
				}
			}
			if n := len(e.sb.Stats().Requests); n != 0 {
				t.Fatalf("a locked sync reached the tenant: %v", e.sb.Stats().Requests)
			}
			if _, err := os.Stat(r.report); !os.IsNotExist(err) {
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

			// No state yet: everything would be created, and the dry run
			// neither creates the state nor needs credentials.
			var out, errOut bytes.Buffer
			code := Main([]string{"a0bulk", "sync", "--dry-run", "--output", "json", "--mode", mode,
				"--connection", syncConn, "--state", e.state, "--input", e.input(first...)},
				Test(strings.NewReader(""), &out, &errOut))
			var p syncPlan
			if err := json.Unmarshal(out.Bytes(), &p); err != nil || code != ExitOK {
				t.Fatalf("exit %d, %q: %v (%s)", code, out.String(), err, errOut.String())
			}
			if p.Create != 4 || p.Update+p.Skip+p.Invalid != 0 || p.StateExists {
				t.Fatalf("plan without state %+v", p)
			}
			if _, err := os.Stat(e.state); !os.IsNotExist(err) {
				t.Fatalf("a dry run created the state: %v", err)
			}

			if r := e.sync(e.input(first...)); r.code != ExitOK {
				t.Fatalf("sync: exit %d %s", r.code, r.stderr)
			}
			before := e.sb.Stats()
			next := []syncUser{{first[0].email, "Changed"}, first[1], first[2], {"new@example.com", "N"}, {"bad-email", "X"}}
			r := e.sync(e.input(next...), "--dry-run")
			if r.code != ExitIncomplete {
				t.Fatalf("dry run with an invalid record: exit %d, want 3 (%s)", r.code, r.stderr)
			}
			p = syncPlan{}
			if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
				t.Fatalf("%q: %v", r.stdout, err)
			}
			if p.Records != 5 || p.Create != 1 || p.Update != 1 || p.Skip != 2 || p.Invalid != 1 || !p.DryRun || p.ExitCode != ExitIncomplete {
				t.Fatalf("plan %+v", p)
			}
			if d := delta(before, e.sb.Stats()); len(d) != 0 {
				t.Fatalf("a dry run reached the tenant: %v", d)
			}
			if _, err := os.Stat(r.report); !os.IsNotExist(err) {
				t.Fatalf("a dry run wrote a report: %v", err)
			}
			// Nothing was remembered either.
			if st := e.stateOf("new@example.com"); len(st) != 0 {
				t.Fatalf("a dry run wrote the state: %+v", st)
			}

			// Text with --verbose lists each decision.
			out.Reset()
			errOut.Reset()
			Main([]string{"a0bulk", "sync", "--dry-run", "--verbose", "--mode", mode,
				"--connection", syncConn, "--state", e.state, "--input", e.input(next[:4]...)},
				Test(strings.NewReader(""), &out, &errOut))
			for _, want := range []string{"would update " + first[0].email, "would skip " + first[1].email, "would create new@example.com", "no call to the tenant"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("dry run text lacks %q:\n%s", want, out.String())
				}
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
		if r.code != ExitIncomplete {
			t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
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
		if r.code != ExitIncomplete {
			t.Fatalf("exit %d, want 3\n%s", r.code, r.stderr)
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

func TestSyncUsageErrors(t *testing.T) {
	e := newSyncEnv(t, "import", sandbox.Config{})
	in := e.input(users("u", 1)...)
	base := []string{"a0bulk", "sync", "--domain", strings.TrimPrefix(e.ts.URL, "http://"), "--client-id", "x", "--client-secret", "y", "--input", in}
	for name, args := range map[string][]string{
		"no state":             {"--connection", syncConn},
		"no connection":        {"--state", e.state},
		"bad mode":             {"--connection", syncConn, "--state", e.state, "--mode", "merge"},
		"create flag, import":  {"--connection", syncConn, "--state", e.state, "--random-password"},
		"import flag, create":  {"--connection", syncConn, "--state", e.state, "--mode", "create", "--max-jobs", "1"},
		"no credentials":       {"--connection", syncConn, "--state", e.state, "--client-secret", ""},
		"upsert is not a flag": {"--connection", syncConn, "--state", e.state, "--upsert"},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := Main(append(append([]string{}, base...), args...), Test(strings.NewReader(""), &out, &errOut)); code != ExitUsage {
				t.Fatalf("exit %d, want 2: %s", code, errOut.String())
			}
		})
	}
	if n := len(e.sb.Stats().Requests); n != 0 {
		t.Fatalf("usage errors reached the tenant: %v", e.sb.Stats().Requests)
	}
	if _, err := os.Stat(e.state); !os.IsNotExist(err) {
		t.Fatalf("a usage error created the state: %v", err)
	}
}
