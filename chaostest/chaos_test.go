package chaostest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

// chaosCase is one fault, run once as an import and once as a create.
type chaosCase struct {
	name   string
	faults sandbox.Faults
	cfg    func(*sandbox.Config) // more than faults (rate, token lifetime)
	// wantCode per mode; a run that exits 1 (could not complete) must
	// finish with --resume, and resumeOK says the contract allows it here.
	importCode, createCode int
	resumeOK               bool
	// rate is --rate: the tenant is unlimited unless cfg says, and without
	// --rate the client would start at Auth0's smallest plan (2/s) and
	// spend seconds ramping up. Default 1000.
	rate string
	// importOnly: the fault is about import jobs; a create has none.
	importOnly bool
	check      func(t *testing.T, mode string, sb *sandbox.Server, counts map[string]int, fin map[report.Key]report.Entry)
}

const (
	importUsers = 300
	createUsers = 150
)

func TestChaos(t *testing.T) {
	cases := []chaosCase{
		{name: "no fault"},
		{name: "429 storm", faults: sandbox.Faults{StormStart: 0, StormDuration: 1500 * time.Millisecond},
			// A limited tenant: the storm is on top of a real bucket, and the
			// client starts from its safe default pace, not --rate.
			cfg: func(c *sandbox.Config) { c.Rate, c.Burst = 100, 50 }, rate: "100",
			check: func(t *testing.T, mode string, sb *sandbox.Server, _ map[string]int, _ map[report.Key]report.Entry) {
				if sb.Stats().RateLimited == 0 {
					t.Error("the storm sent no 429: the test proves nothing")
				}
			}},
		{name: "10% 5xx", faults: sandbox.Faults{Error5xx: 0.1},
			check: func(t *testing.T, mode string, sb *sandbox.Server, _ map[string]int, _ map[report.Key]report.Entry) {
				if sb.Stats().Faults.Error5xx == 0 {
					t.Error("no 5xx was injected: the test proves nothing")
				}
			}},
		// A lost import answer is resent in the same run (its users then
		// looked up), so no resume is needed.
		{name: "5% resets before and after", faults: sandbox.Faults{ResetBefore: 0.05, ResetAfter: 0.05},
			check: func(t *testing.T, mode string, sb *sandbox.Server, _ map[string]int, finals map[report.Key]report.Entry) {
				f := sb.Stats().Faults
				if f.ResetBefore+f.ResetAfter == 0 {
					t.Error("no connection was reset: the test proves nothing")
				}
				for _, e := range finals {
					if e.Status == report.Skipped {
						t.Errorf("%s:%d skipped (%s): every user is new, so a resend's duplicates must be claimed as created", e.File, e.Line, e.Code)
					}
				}
			}},
		// The sandbox's exp is whole seconds, so a 2s token lives 1-2s and
		// the client (refreshing at 90% of expires_in) sometimes sends an
		// expired one: both the early refresh and the refresh after a 401
		// are exercised. The pace makes the create run outlive two tokens.
		{name: "token expiring every 2s", cfg: func(c *sandbox.Config) {
			// Jobs of a second each keep the import running across several tokens.
			c.TokenLifetime, c.JobDelay = 2*time.Second, time.Second
		}, rate: "40",
			check: func(t *testing.T, mode string, sb *sandbox.Server, _ map[string]int, _ map[report.Key]report.Entry) {
				if n := sb.Stats().Requests["POST /oauth/token"]; n < 2 {
					t.Errorf("%d token requests: the token was never refreshed, the test proves nothing", n)
				}
			}},
		{name: "every 3rd job fails", faults: sandbox.Faults{FailEveryNthJob: 3}, importCode: 3, importOnly: true,
			check: func(t *testing.T, mode string, sb *sandbox.Server, counts map[string]int, fin map[report.Key]report.Entry) {
				// Chunks are jobs 1, 2, 3…: job 3 failed and inserted nobody.
				jf := 0
				for _, e := range fin {
					if e.Status == report.Failed {
						if e.Code != "JOB_FAILED" || e.JobID == "" {
							t.Errorf("%s:%d failed with code %q job %q, want JOB_FAILED with the job id", e.File, e.Line, e.Code, e.JobID)
						}
						jf++
					}
				}
				if jf == 0 || counts["created"]+jf != importUsers {
					t.Errorf("counts %v: want some JOB_FAILED and the rest created", counts)
				}
			}},
		{name: "both slots held", faults: sandbox.Faults{HeldSlots: 2, HeldFor: time.Second}, importOnly: true,
			check: func(t *testing.T, mode string, sb *sandbox.Server, _ map[string]int, _ map[report.Key]report.Entry) {
				if mode == "import" && sb.Stats().JobLimitRefused == 0 {
					t.Error("no import was refused for the job limit: the test proves nothing")
				}
			}},
	}
	for _, tc := range cases {
		for _, mode := range []string{"import", "create"} {
			if tc.importOnly && mode == "create" {
				continue
			}
			t.Run(tc.name+"/"+mode, func(t *testing.T) { runChaos(t, tc, mode) })
		}
	}
}

func runChaos(t *testing.T, tc chaosCase, mode string) {
	cfg := sandbox.Config{JobDelay: fastJobDelay, Faults: tc.faults}
	if cfg.Faults.Seed == 0 {
		cfg.Faults.Seed = 7
	}
	if tc.cfg != nil {
		tc.cfg(&cfg)
	}
	sb := tenant(t, cfg)
	dir := t.TempDir()
	rep := filepath.Join(dir, "run.ndjson")
	var in string
	var n int
	var args []string
	switch mode {
	case "import":
		n = importUsers
		in = genFile(t, dir, "users.ndjson", 11, n, gen.GenOptions{})
		// Small chunks so that a few hundred users make several jobs.
		args = []string{"import", "--chunk-bytes", "30000"}
	case "create":
		n = createUsers
		in = genFile(t, dir, "users.csv", 12, n, gen.GenOptions{Mode: input.ModeCreate})
		args = []string{"create", "--concurrency", "8"}
	}
	rate := tc.rate
	if rate == "" {
		rate = "1000"
	}
	args = append(args, "--rate", rate)
	args = append(args, "--connection", dbConn, "--input", in, "--report", rep, "--output", "json", "--no-progress", "--quiet")
	want := tc.importCode
	if mode == "create" {
		want = tc.createCode
	}
	r := run(t, "", args...)
	if r.code == 1 && tc.resumeOK {
		t.Logf("%s exit 1 (allowed: resumed)\n%s", mode, r)
		r = run(t, "", mode, "--resume", rep, "--output", "json", "--no-progress", "--quiet")
	}
	if r.code != want {
		t.Fatalf("%s: %s", mode, r)
	}
	s := parseSummary(t, r)
	counts := account(t, sb, rep, n, &s)
	t.Logf("%s: %v", mode, counts)
	if tc.check != nil {
		tc.check(t, mode, sb, counts, finals(t, rep))
	}
}
