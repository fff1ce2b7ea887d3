package chaostest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/cli"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

const (
	dbConn       = "Username-Password-Authentication"
	chaosSecret  = "chaos-Secret-DO-NOT-LEAK-41c7"
	chaosClient  = "chaos-client"
	fastJobDelay = 20 * time.Millisecond
)

// envKeys are the variables a0bulk reads; each test clears them so the
// developer's environment cannot change an outcome (t.Setenv: not parallel).
var envKeys = []string{
	"AUTH0_DOMAIN", "AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET", "AUTH0_CLIENT_SECRET_FILE",
	"AUTH0_TOKEN", "AUTH0_AUDIENCE", "AUTH0_CUSTOM_DOMAIN", "A0BULK_CONFIG", "A0BULK_CONNECTION",
	"A0BULK_OUTPUT", "A0BULK_VERBOSE", "A0BULK_LOG_FORMAT", "A0BULK_RATE", "A0BULK_MAX_RETRIES",
}

func cleanEnv(t *testing.T) {
	t.Helper()
	for _, k := range envKeys {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// tenant serves a sandbox and points the AUTH0_* variables at it.
func tenant(t *testing.T, cfg sandbox.Config) *sandbox.Server {
	t.Helper()
	cleanEnv(t)
	if cfg.ClientID == "" {
		cfg.ClientID, cfg.ClientSecret = chaosClient, chaosSecret
	}
	sb := sandbox.New(cfg)
	hs := httptest.NewServer(sb)
	t.Cleanup(hs.Close)
	u, err := url.Parse(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AUTH0_DOMAIN", u.Host)
	t.Setenv("AUTH0_CLIENT_ID", cfg.ClientID)
	t.Setenv("AUTH0_CLIENT_SECRET", cfg.ClientSecret)
	return sb
}

type result struct {
	code        int
	out, errOut string
}

func (r result) String() string {
	return "exit " + itoa(r.code) + "\nstdout:\n" + r.out + "\nstderr:\n" + tail(r.errOut, 4000)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// run calls a0bulk in process; it is synchronous, so a test never waits.
func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Main(append([]string{"a0bulk"}, args...), cli.Test(strings.NewReader(stdin), &out, &errOut))
	return result{code: code, out: out.String(), errOut: errOut.String()}
}

// genFile writes n seeded users to dir/name.
func genFile(t *testing.T, dir, name string, seed int64, n int, o gen.GenOptions) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	format, err := input.DetectFormat(p, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := gen.Users(seed, n, f, format, o); err != nil {
		t.Fatal(err)
	}
	return p
}

// summary is the part of `--output json` a test checks.
type summary struct {
	Records  int            `json:"records"`
	Counts   map[string]int `json:"counts"`
	ExitCode int            `json:"exit_code"`
}

// parseSummary reads the JSON summary printed on stdout.
func parseSummary(t *testing.T, r result) summary {
	t.Helper()
	var s summary
	dec := json.NewDecoder(strings.NewReader(r.out))
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("no JSON summary on stdout: %v\n%s", err, r)
	}
	return s
}

// finals reads a report and returns each record's one final line; it fails
// the test on a record with two final lines or a malformed line.
func finals(t *testing.T, path string) map[report.Key]report.Entry {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("report mode %04o, want 0600", fi.Mode().Perm())
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[report.Key]report.Entry{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for n := 1; sc.Scan(); n++ {
		var e report.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("report line %d: %v: %q", n, err, tail(sc.Text(), 200))
		}
		if !e.Status.IsFinal() {
			continue
		}
		if prev, dup := out[e.Key()]; dup {
			t.Fatalf("%s:%d has two final lines (%s, then %s at report line %d)", e.File, e.Line, prev.Status, e.Status, n)
		}
		out[e.Key()] = e
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// account is the end of every chaos run: every record of the inputs has
// exactly one final line, the summary's counts equal the report's and add
// up to the records, and no user is in the tenant twice. It returns the
// counts per final status.
func account(t *testing.T, sb *sandbox.Server, reportPath string, records int, s *summary) map[string]int {
	t.Helper()
	fin := finals(t, reportPath)
	if len(fin) != records {
		t.Errorf("records with a final line = %d, want %d", len(fin), records)
	}
	counts := map[string]int{}
	for _, e := range fin {
		counts[string(e.Status)]++
	}
	if s != nil {
		if s.Records != records {
			t.Errorf("summary records = %d, want %d", s.Records, records)
		}
		sum := 0
		for _, st := range report.FinalStatuses {
			sum += s.Counts[string(st)]
			if s.Counts[string(st)] != counts[string(st)] {
				t.Errorf("summary %s = %d, report has %d", st, s.Counts[string(st)], counts[string(st)])
			}
		}
		if sum != records {
			t.Errorf("summary counts add up to %d, want %d: %v", sum, records, s.Counts)
		}
	}
	seen := map[string]bool{}
	for _, u := range sb.Users() {
		k := u.Connection + "/" + strings.ToLower(u.Email)
		if seen[k] {
			t.Errorf("user %s is in the tenant twice", u.Email)
		}
		seen[k] = true
	}
	return counts
}

func mgmtUser(email string) management.User { return management.User{Email: email} }
