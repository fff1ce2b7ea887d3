package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/a0bulk/a0bulk/cli"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

// TestMain lets testscript run the real a0bulk (this binary, re-executed)
// as a command in the scripts under testdata/script.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"a0bulk": func() { os.Exit(cli.Main(os.Args, cli.System())) },
	})
}

// TestScripts runs the end-to-end scripts: the real binary against an
// in-process sandbox tenant, on the files in fixtures/.
func TestScripts(t *testing.T) {
	fixtures, err := filepath.Abs("fixtures")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("FIXTURES", fixtures)
			env.Values[sandboxKey{}] = &sandboxHolder{}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"sandbox":     cmdSandbox,
			"stats":       cmdStats,
			"users":       cmdUsers,
			"reportcheck": cmdReportCheck,
			"gen":         cmdGen,
			"seeduser":    cmdSeedUser,
			"exitcode":    cmdExitCode,
			"importjob":   cmdImportJob,
			"exportjob":   cmdExportJob,
			"filemode":    cmdFileMode,
		},
	})
}

// sandboxKey finds a script's sandbox in its Env.Values (scripts run in
// parallel, each with its own tenant).
type sandboxKey struct{}

// named are the tenants a migrate script starts with -as (from, to).
type sandboxHolder struct {
	srv   *sandbox.Server
	named map[string]*sandbox.Server
}

// sandbox [flags]: start a sandbox tenant for this script and point
// AUTH0_DOMAIN (and credentials) at it. Flags mirror `a0bulk sandbox`.
func cmdSandbox(ts *testscript.TestScript, neg bool, args []string) {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	// Unlike `a0bulk sandbox` (Essentials by default), a script's tenant is
	// unlimited unless it asks for a -plan or a -rate: most scripts test
	// other things and must not wait for buckets.
	plan := fs.String("plan", "", "")
	rate := fs.Float64("rate", 0, "")
	burst := fs.Int("burst", 0, "")
	jobDelay := fs.Duration("job-delay", 0, "")
	failEvery := fs.Int("fail-every-nth-job", 0, "")
	failVerify := fs.Float64("fault-verification-failed", 0, "")
	resetAfter := fs.Float64("fault-reset-after", 0, "")
	resetBefore := fs.Float64("fault-reset-before", 0, "")
	err5xx := fs.Float64("fault-5xx", 0, "")
	seed := fs.Int64("seed", 1, "")
	domains := fs.String("custom-domains", "", "")
	emptyAs200 := fs.Bool("empty-errors-as-200", false, "")
	scopes := fs.String("scopes", "", "") // space-separated; default: sandbox.DefaultScopes
	// -as from|to: a migrate's source or target, reached by the _FROM or
	// _TO variables and named @from or @to in stats and users.
	as := fs.String("as", "", "")
	var f sandbox.Faults
	fs.DurationVar(&f.StormStart, "storm-start", 0, "")
	fs.DurationVar(&f.StormDuration, "storm-duration", 0, "")
	fs.StringVar(&f.DrainBucket, "drain-bucket", "", "")
	fs.DurationVar(&f.DrainStart, "drain-start", 0, "")
	fs.DurationVar(&f.DrainDuration, "drain-duration", 0, "")
	fs.IntVar(&f.TokenResets, "token-resets", 0, "")
	fs.IntVar(&f.TokenResetSkip, "token-reset-skip", 0, "")
	fs.Float64Var(&f.TokenReset, "fault-token-reset", 0, "")
	fs.IntVar(&f.HeldSlots, "held-slots", 0, "")
	fs.IntVar(&f.ExpireExportLinks, "fault-expire-export-links", 0, "")
	fs.IntVar(&f.DropExportDownloads, "fault-drop-export-downloads", 0, "")
	fs.DurationVar(&f.HeldFor, "held-for", 0, "")
	if err := fs.Parse(args); err != nil {
		ts.Fatalf("sandbox: %v", err)
	}
	f.Seed, f.FailEveryNthJob, f.FailVerification = *seed, *failEvery, *failVerify
	f.ResetAfter, f.ResetBefore, f.Error5xx = *resetAfter, *resetBefore, *err5xx
	cfg := sandbox.Config{
		Plan: sandbox.Plan(*plan), Rate: *rate, Burst: *burst, JobDelay: *jobDelay, EmptyErrorsAs200: *emptyAs200,
		Faults: f,
	}
	if err := cfg.Validate(); err != nil {
		ts.Fatalf("sandbox: %v", err)
	}
	if cfg.JobDelay == 0 {
		cfg.JobDelay = -1 // jobs complete at once unless a script asks for a pace
	}
	if *domains != "" {
		cfg.CustomDomains = strings.Split(*domains, ",")
	}
	if flagGiven(fs, "scopes") {
		cfg.Scopes = strings.Fields(*scopes)
	}
	srv := sandbox.New(cfg)
	hs := httptest.NewServer(srv)
	ts.Defer(hs.Close)
	h := ts.Value(sandboxKey{}).(*sandboxHolder)
	suffix := ""
	switch *as {
	case "":
		h.srv = srv
	case "from", "to":
		if h.named == nil {
			h.named = map[string]*sandbox.Server{}
		}
		h.named[*as], suffix = srv, "_"+strings.ToUpper(*as)
	default:
		ts.Fatalf("sandbox -as from|to, not %q", *as)
	}
	ts.Setenv("AUTH0_DOMAIN"+suffix, strings.TrimPrefix(hs.URL, "http://"))
	ts.Setenv("AUTH0_CLIENT_ID"+suffix, "e2e-client")
	ts.Setenv("AUTH0_CLIENT_SECRET"+suffix, "e2e-secret-DO-NOT-LEAK-9f8e7d")
}

// pick takes a leading @from or @to off args: the tenant a migrate script
// asks about; else the script's sandbox.
func pick(ts *testscript.TestScript, args []string) (*sandbox.Server, []string) {
	if len(args) > 0 && strings.HasPrefix(args[0], "@") {
		srv := ts.Value(sandboxKey{}).(*sandboxHolder).named[args[0][1:]]
		if srv == nil {
			ts.Fatalf("no sandbox started with -as %s", args[0][1:])
		}
		return srv, args[1:]
	}
	return server(ts), args
}

// flagGiven reports whether name was on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

func server(ts *testscript.TestScript) *sandbox.Server {
	srv := ts.Value(sandboxKey{}).(*sandboxHolder).srv
	if srv == nil {
		ts.Fatalf("no sandbox started in this script")
	}
	return srv
}

// stats [@from|@to] FIELD OP N: compare a number in /sandbox/stats, e.g.
// `stats max_concurrent_import_jobs <= 2`, `stats requests.POST_/api/v2/users == 0`
// (underscores in a requests key stand for spaces) or
// `stats buckets.users_write.rate_limited == 0`.
func cmdStats(ts *testscript.TestScript, neg bool, args []string) {
	srv, args := pick(ts, args)
	if len(args) != 3 {
		ts.Fatalf("usage: stats [@from|@to] FIELD OP N")
	}
	st := srv.Stats()
	var got int
	field := args[0]
	switch {
	case strings.HasPrefix(field, "requests."):
		got = st.Requests[strings.ReplaceAll(strings.TrimPrefix(field, "requests."), "_", " ")]
	case strings.HasPrefix(field, "buckets."):
		got = bucketStat(ts, st, strings.TrimPrefix(field, "buckets."))
	case field == "faults.storm":
		got = st.Faults.Storm
	case field == "faults.token_reset":
		got = st.Faults.TokenResets
	case field == "max_concurrent_import_jobs":
		got = st.MaxConcurrentImportJobs
	case field == "import_jobs":
		got = st.ImportJobs
	case field == "rate_limited":
		got = st.RateLimited
	case field == "export_jobs":
		got = st.ExportJobs
	case field == "export_downloads":
		got = st.ExportDownloads
	case field == "export_downloads_refused":
		got = st.ExportDownloadsRefused
	case field == "faults.export_drops":
		got = st.Faults.ExportDrops
	case field == "job_limit_refused":
		got = st.JobLimitRefused
	case field == "users":
		got = st.Users
	case field == "verification_emails":
		got = len(st.VerificationEmails)
	case field == "custom_domain_violations":
		got = len(st.CustomDomainViolations)
	case field == "implicit_verification_emails":
		got = st.ImplicitVerificationEmails
	case field == "total_requests":
		for k, n := range st.Requests {
			if !strings.Contains(k, "/oauth/token") {
				got += n
			}
		}
	case strings.HasPrefix(field, "verification_emails_with_domain="):
		want := strings.TrimPrefix(field, "verification_emails_with_domain=")
		for _, v := range st.VerificationEmails {
			if v.CustomDomain == want {
				got++
			}
		}
	default:
		ts.Fatalf("stats: unknown field %q", field)
	}
	compare(ts, neg, "stats "+field, got, args[1], args[2])
}

// bucketStat reads "NAME.admitted" or "NAME.rate_limited" of a bucket.
func bucketStat(ts *testscript.TestScript, st sandbox.Stats, field string) int {
	i := strings.LastIndex(field, ".")
	if i < 0 {
		ts.Fatalf("stats buckets.NAME.admitted or buckets.NAME.rate_limited, got %q", field)
	}
	b, ok := st.Buckets[field[:i]]
	if !ok {
		ts.Fatalf("stats: no bucket %q (the tenant has %v)", field[:i], st.Buckets)
	}
	switch field[i+1:] {
	case "admitted":
		return b.Admitted
	case "rate_limited":
		return b.RateLimited
	}
	ts.Fatalf("stats: unknown bucket field %q", field[i+1:])
	return 0
}

// users [@from|@to] unique | users count N | users has EMAIL: check /sandbox/users.
func cmdUsers(ts *testscript.TestScript, neg bool, args []string) {
	srv, args := pick(ts, args)
	users := srv.Users()
	switch {
	case len(args) == 1 && args[0] == "unique":
		seen := map[string]bool{}
		for _, u := range users {
			k := u.Connection + "/" + strings.ToLower(u.Email)
			if seen[k] {
				ts.Fatalf("user %s exists twice in the tenant", u.Email)
			}
			seen[k] = true
		}
	case len(args) == 3 && args[0] == "count":
		compare(ts, neg, "users", len(users), args[1], args[2])
	case len(args) == 2 && args[0] == "has":
		found := false
		for _, u := range users {
			found = found || strings.EqualFold(u.Email, args[1])
		}
		if found == neg {
			ts.Fatalf("users has %s: %v", args[1], found)
		}
	case len(args) == 2 && args[0] == "password":
		// The user got a password (an imported hash): ! users password EMAIL
		// checks it did not.
		found := false
		for _, u := range users {
			if strings.EqualFold(u.Email, args[1]) {
				found = true
				if u.HasPassword == neg {
					ts.Fatalf("users password %s: has_password %v", args[1], u.HasPassword)
				}
			}
		}
		if !found {
			ts.Fatalf("users password %s: no such user", args[1])
		}
	default:
		ts.Fatalf("usage: users unique | users count OP N | users has EMAIL | users password EMAIL")
	}
}

func compare(ts *testscript.TestScript, neg bool, what string, got int, op, wantS string) {
	want, err := strconv.Atoi(wantS)
	if err != nil {
		ts.Fatalf("%s: %v", what, err)
	}
	var ok bool
	switch op {
	case "==":
		ok = got == want
	case "<=":
		ok = got <= want
	case ">=":
		ok = got >= want
	case ">":
		ok = got > want
	default:
		ts.Fatalf("unknown operator %q", op)
	}
	if ok == neg {
		ts.Fatalf("%s = %d, want %s %d", what, got, op, want)
	}
}

// reportcheck REPORT RECORDS [status=N ...]: the report is mode 0600, every
// record has exactly one final line (a retrying line supersedes the one
// before it), RECORDS of them, with these counts.
func cmdReportCheck(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: reportcheck REPORT RECORDS [status=N ...]")
	}
	path := ts.MkAbs(args[0])
	fi, err := os.Stat(path)
	ts.Check(err)
	if fi.Mode().Perm() != 0o600 {
		ts.Fatalf("report mode %04o, want 0600", fi.Mode().Perm())
	}
	f, err := os.Open(path)
	ts.Check(err)
	defer f.Close()
	finals := map[report.Key]report.Status{}
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for n := 1; sc.Scan(); n++ {
		var e report.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			ts.Fatalf("report line %d: %v", n, err)
		}
		if e.Status == report.Retrying {
			// A retry supersedes the record's failed line: the next final
			// line is its outcome.
			if prev, ok := finals[e.Key()]; ok {
				delete(finals, e.Key())
				counts[string(prev)]--
			}
			continue
		}
		if !e.Status.IsFinal() {
			continue
		}
		if prev, dup := finals[e.Key()]; dup {
			ts.Fatalf("%s:%d has two final lines (%s, then %s at report line %d)", e.File, e.Line, prev, e.Status, n)
		}
		finals[e.Key()] = e.Status
		counts[string(e.Status)]++
	}
	ts.Check(sc.Err())
	compare(ts, neg, "records with a final line", len(finals), "==", args[1])
	for _, kv := range args[2:] {
		k, v, _ := strings.Cut(kv, "=")
		compare(ts, neg, "records "+k, counts[k], "==", v)
	}
}

// gen FILE N [csv|json|ndjson] [create]: write N generated users (seed 1).
func cmdGen(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: gen FILE N [format] [create]")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	format := input.Format("csv")
	if len(args) > 2 {
		format = input.Format(args[2])
	}
	o := gen.GenOptions{}
	if len(args) > 3 && args[3] == "create" {
		o.Mode = input.ModeCreate
	}
	f, err := os.Create(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	ts.Check(gen.Users(1, n, f, format, o))
}

// seeduser EMAIL: a user already in the tenant's database connection.
func cmdSeedUser(ts *testscript.TestScript, neg bool, args []string) {
	srv := server(ts)
	for _, c := range srv.Connections() {
		if c.IsDatabase() {
			for _, email := range args {
				srv.AddUser(management.User{Email: email}, c.Name)
			}
			return
		}
	}
	ts.Fatalf("no database connection")
}

// exitcode N a0bulk ARGS...: run a command and require exit code N exactly
// (exec's "!" only says "not zero", and the contract gives each code a meaning).
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("running %s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// importjob VAR: start an import job of one user on the script's sandbox,
// as another client would, and set $VAR to its id (for jobs status/wait).
func cmdImportJob(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: importjob VAR")
	}
	c, conn := otherClient(ts)
	job, err := c.ImportUsers(context.Background(), management.ImportRequest{ConnectionID: conn, Users: []byte(`[{"email":"waited@example.com"}]`)})
	ts.Check(err)
	ts.Setenv(args[0], job.ID)
}

// exportjob VAR: start an export job of the database connection on the
// script's sandbox, as another client would, and set $VAR to its id.
func cmdExportJob(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: exportjob VAR")
	}
	c, conn := otherClient(ts)
	job, err := c.ExportUsers(context.Background(), management.ExportRequest{ConnectionID: conn, Format: management.ExportJSON, Limit: 5,
		Fields: []management.ExportField{{Name: "email"}, {Name: "user_id"}}})
	ts.Check(err)
	ts.Setenv(args[0], job.ID)
}

// filemode FILE MODE: FILE's permission bits are MODE (octal), e.g. 0600.
func cmdFileMode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: filemode FILE MODE")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	if got := fi.Mode().Perm(); uint64(got) != want {
		ts.Fatalf("%s: mode %04o, want %04o", args[0], got, want)
	}
}

// otherClient is a client of the script's sandbox, as another tool would
// use it, and the id of its database connection.
func otherClient(ts *testscript.TestScript) (*management.Client, string) {
	server(ts)
	c, err := management.New(management.Config{Domain: ts.Getenv("AUTH0_DOMAIN"), ClientID: ts.Getenv("AUTH0_CLIENT_ID"), ClientSecret: ts.Getenv("AUTH0_CLIENT_SECRET")})
	ts.Check(err)
	conn, err := c.ConnectionByName(context.Background(), "Username-Password-Authentication")
	ts.Check(err)
	return c, conn.ID
}
