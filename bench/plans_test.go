package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/run"
	"github.com/a0bulk/a0bulk/sandbox"
	"github.com/a0bulk/a0bulk/simtest"
	"github.com/a0bulk/a0bulk/throttle"
)

// workload is one command of the per-plan tables, run as the cli runs it
// (run.Run with the cli's defaults) against a sandbox on a plan preset.
type workload struct {
	name     string
	mode     run.Mode
	verify   bool // create --verify-email; every generated user unverified
	upsert   bool // create --upsert with every other user already in the tenant
	jobDelay time.Duration
	// users per plan: a few minutes of tenant time each at the plan's
	// published rates (bench/table prints the simulated span).
	users map[sandbox.Plan]int
}

// benchPlans are the presets of issue 13's tables.
var benchPlans = []sandbox.Plan{sandbox.PlanFree, sandbox.PlanEssentials, sandbox.PlanEnterprise}

var workloads = []workload{
	// Per user: POST /users, POST /jobs/verification-email, GET /jobs/{id}
	// (≥ 1): Free's 2/s shared by all three, Essentials' other bucket
	// (2.5/s) by the last two, Enterprise's 16/s by all.
	{name: "create_verify_email", mode: run.ModeCreate, verify: true,
		users: map[sandbox.Plan]int{sandbox.PlanFree: 120, sandbox.PlanEssentials: 240, sandbox.PlanEnterprise: 600}},
	// Per user: a new one POST; an existing one POST (409), GET
	// /users-by-email, PATCH.
	{name: "create_upsert", mode: run.ModeCreate, upsert: true,
		users: map[sandbox.Plan]int{sandbox.PlanFree: 180, sandbox.PlanEssentials: 400, sandbox.PlanEnterprise: 1500}},
	// About 17 files of 500 KB: both slots turn over 8 times.
	{name: "import_job=2s", mode: run.ModeImport, jobDelay: time.Second,
		users: map[sandbox.Plan]int{sandbox.PlanFree: importUsers, sandbox.PlanEssentials: importUsers, sandbox.PlanEnterprise: importUsers}},
	{name: "import_job=30s", mode: run.ModeImport, jobDelay: 15 * time.Second,
		users: map[sandbox.Plan]int{sandbox.PlanFree: importUsers, sandbox.PlanEssentials: importUsers, sandbox.PlanEnterprise: importUsers}},
}

// oneWay is simtest.Transport's latency in the benchmarks: a 20 ms round trip,
// a tenant near its client. Latency costs import slots directly (a job's
// end is seen one way late, the next POST arrives one way later: with 2 s
// jobs a 100 ms round trip alone idles a slot 5% of the time), and the
// issue's slot goals were set against a local sandbox.
const oneWay = 10 * time.Millisecond

// simStart is the tenant's clock at a simulated run's start: a whole
// second, where Auth0's per-minute buckets step.
var simStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// BenchmarkPlans runs each workload against a sandbox on each plan preset
// (sandbox/plans.go: per-endpoint buckets, stepped refill) in simulated
// time (simulate: minutes of tenant time in seconds), through the real
// workflow (run.Run, management client, throttle, scheduler, create
// runner), with the tenant reached in memory. It reports, from the
// tenant's side: the binding bucket's admitted requests over its allowance,
// 429s over requests, whether the run completed (every record final, the
// tenant holding every user), and for imports the share of the run with
// both job slots busy and the job polls' share of their bucket.
func BenchmarkPlans(b *testing.B) {
	for _, p := range benchPlans {
		for _, w := range workloads {
			b.Run(fmt.Sprintf("plan=%s/%s", p, w.name), func(b *testing.B) {
				n := w.users[p]
				in := workloadInput(b, w, n)
				var f planFigures
				stopped := 0
				for b.Loop() {
					var err error
					f, err = runOnPlan(b, p, w, in, n)
					if err != nil {
						stopped++
						// bench/table quotes this line.
						b.Logf("stopped: %s", stopReason(err))
					}
				}
				reportPlan(b, f, stopped, n)
			})
		}
	}
}

// reportPlan prints the figures of the last run for bench/table.
func reportPlan(b *testing.B, f planFigures, stopped, users int) {
	b.ReportMetric(100*f.used(), "admitted/allowed_%")
	b.ReportMetric(float64(f.admitted), "admitted")
	b.ReportMetric(f.allowed, "allowed")
	// The binding bucket's name, as a unit bench/table reads back.
	b.ReportMetric(1, "bucket:"+f.binding)
	b.ReportMetric(float64(f.bindingBurst), "bucket_burst")
	b.ReportMetric(f.bindingPerSecond, "bucket_per_s")
	b.ReportMetric(float64(f.requests), "requests")
	b.ReportMetric(float64(f.rateLimited), "429s")
	b.ReportMetric(100*float64(f.rateLimited)/float64(max(f.requests, 1)), "429_%")
	b.ReportMetric(float64(f.jobLimited), "job_limit_429s")
	b.ReportMetric(float64(stopped), "stopped")
	b.ReportMetric(float64(users), "users")
	b.ReportMetric(f.span.Seconds(), "sim_s")
	b.ReportMetric(float64(2*oneWay)/float64(time.Millisecond), "rtt_ms")
	if f.importJobs > 0 {
		b.ReportMetric(float64(f.importJobs), "jobs")
		b.ReportMetric(100*f.slotsBusy, "slots_busy_%")
		b.ReportMetric(float64(f.polls), "polls")
		b.ReportMetric(1, "pollbucket:"+f.pollBucket)
		b.ReportMetric(f.pollBucketAllowed, "pollbucket_allowed")
		b.ReportMetric(float64(f.pollBucketUsed), "pollbucket_admitted")
		b.ReportMetric(100*float64(f.polls)/max(f.pollBucketAllowed, 1), "polls/bucket_allowed_%")
	}
}

// stopReason is the end of a run's error: what the tenant answered and
// what was being done, without the input's temporary path.
func stopReason(err error) string {
	parts := strings.Split(err.Error(), ": ")
	for i, p := range parts {
		if i > 0 && p != "" && p[0] >= '1' && p[0] <= '5' {
			return strings.Join(parts[i-1:], ": ")
		}
	}
	return err.Error()
}

// runOnPlan runs w once on a fresh tenant of plan p and returns its
// figures, and the error that stopped it (a run that completes but leaves a
// record unsettled or a user missing is stopped too).
func runOnPlan(b *testing.B, p sandbox.Plan, w workload, in string, users int) (planFigures, error) {
	b.Helper()
	clk := clock.NewFake(simStart)
	srv := sandbox.New(sandbox.Config{Clock: clk, Plan: p, JobDelay: w.jobDelay})
	var existing int
	if w.upsert {
		existing = seedEveryOther(b, srv, in)
	}
	tp := newTape(srv, clk)
	const domain = "127.0.0.1:8787" // loopback: plain http, never dialled
	env := run.Env{
		Clock:   clk,
		Version: "bench",
		Target:  run.TenantOf(domain, "bench", ""),
		Connect: func() (run.Tenant, error) {
			// As the cli builds it (cli/connect.go) with the default flags:
			// no --rate, --max-retries 5. Only the transport is in memory.
			return management.New(management.Config{
				Domain: domain, ClientID: "bench", ClientSecret: "bench-secret", Version: "bench",
				Base: simtest.Transport{Handler: tp, Clock: clk, Latency: oneWay}, Clock: clk,
				Throttle: throttle.Options{MaxRetries: run.DefaultMaxRetries},
			})
		},
	}
	spec := run.Spec{Mode: w.mode, Connection: connection, Upsert: w.upsert, Inputs: []string{in},
		Settings: run.Defaults(), ReportPath: filepath.Join(b.TempDir(), "report.ndjson")}
	spec.VerifyEmail = w.verify
	var sum *run.Summary
	err := simtest.Run(clk, func() error {
		var err error
		sum, err = run.Run(context.Background(), env, spec)
		return err
	})
	f := figuresOf(tp.recorded(), srv.Stats().Buckets, 2*w.jobDelay)
	if err != nil {
		return f, err
	}
	return f, complete(sum, srv, w, users, existing)
}

// complete checks that a run settled every record as the workload
// expects and that the tenant holds every user.
func complete(sum *run.Summary, srv *sandbox.Server, w workload, users, existing int) error {
	c := sum.Counts
	settled := c[string(report.Created)] + c[string(report.Imported)] + c[string(report.Updated)]
	if settled != users || sum.Records != users || srv.Stats().Users != users {
		return fmt.Errorf("%d of %d records created, imported or updated (counts %v), tenant holds %d users", settled, users, c, srv.Stats().Users)
	}
	if w.upsert && c[string(report.Updated)] != existing {
		return fmt.Errorf("%d users updated, want the %d that existed", c[string(report.Updated)], existing)
	}
	if w.verify && (sum.Verified == nil || sum.Verified.Sent != users) {
		return fmt.Errorf("verification emails %+v, want %d sent", sum.Verified, users)
	}
	return nil
}

// workloadInput generates the users of w as NDJSON. For --verify-email
// every user is unverified, so that each created user costs a
// verification job: the request mix the issue describes.
func workloadInput(b *testing.B, w workload, n int) string {
	b.Helper()
	mode := input.ModeImport
	if w.mode == run.ModeCreate {
		mode = input.ModeCreate
	}
	path := genFile(b, b.TempDir(), n, input.FormatNDJSON, gen.GenOptions{Mode: mode})
	if !w.verify {
		return path
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	const verified = `"email_verified":true`
	if !strings.Contains(string(data), verified) {
		b.Fatalf("generated users carry no %s: the generator changed", verified)
	}
	data = []byte(strings.ReplaceAll(string(data), verified, `"email_verified":false`))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// seedEveryOther puts every other user of the NDJSON input in the tenant
// before the run (created a day earlier, so never taken for the run's own)
// and returns how many.
func seedEveryOther(b *testing.B, srv *sandbox.Server, path string) int {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	before := simStart.Add(-24 * time.Hour)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	n := 0
	for i := 0; sc.Scan(); i++ {
		if i%2 == 1 {
			continue
		}
		var u struct {
			Email string `json:"email"`
		}
		if err := json.Unmarshal(sc.Bytes(), &u); err != nil {
			b.Fatal(err)
		}
		srv.AddUser(management.User{Email: u.Email, CreatedAt: &before}, connection)
		n++
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}
