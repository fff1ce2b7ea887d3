package modeltest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/run"
	"github.com/a0bulk/a0bulk/sandbox"
	"github.com/a0bulk/a0bulk/throttle"
)

const connection = "Username-Password-Authentication"

// Bounds that turn a product bug into a mismatch instead of a hang.
const (
	// maxAttempts: runs of one schedule (kills plus runs that stopped on
	// their own, e.g. a lost import answer, and the one that completes).
	maxAttempts = 25
	// attemptTimeout is a hang guard only: an attempt takes milliseconds of
	// wall time, every wait being simulated.
	attemptTimeout = 3 * time.Minute
)

// tally is what a schedule did, for the soak's figure.
type tally struct {
	runs, kills, stoppedOnOwn, records int
	resetBefore, resetAfter, err5xx    int
	failedJobs, tokens                 int
	finals                             map[report.Status]int // of the checked reports
}

func (a *tally) addFinals(counts map[report.Status]int) {
	if a.finals == nil {
		a.finals = map[report.Status]int{}
	}
	for st, n := range counts {
		a.finals[st] += n
	}
}

func (a *tally) add(b tally) {
	a.runs += b.runs
	a.kills += b.kills
	a.stoppedOnOwn += b.stoppedOnOwn
	a.records += b.records
	a.resetBefore += b.resetBefore
	a.resetAfter += b.resetAfter
	a.err5xx += b.err5xx
	a.failedJobs += b.failedJobs
	a.tokens += b.tokens
	a.addFinals(b.finals)
}

func (a tally) faults() int {
	return a.resetBefore + a.resetAfter + a.err5xx + a.failedJobs + a.tokens
}

// world is one schedule being played: a sandbox tenant on a simulated
// clock, a directory of inputs, reports and state, and what was seen.
type world struct {
	s     schedule
	dir   string
	clk   *simClock
	sb    *sandbox.Server
	host  string
	rng   *rand.Rand // kill points and gaps; the schedule itself is drawn apart
	mm    mismatches
	log   []string
	tally tally
}

// play runs the schedule to its end; the world it returns holds what
// contradicts the tenant (no mismatch: no report lied), the runs' log and
// the tally.
func play(s schedule, dir string) *world {
	start := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	w := &world{s: s, dir: dir, clk: newSimClock(start), rng: rand.New(rand.NewPCG(s.seed, 0x6b696c6c))}
	// Auth0's sources differ on a password hash in an upsert of an
	// existing user (ignored, or the user fails): every other schedule
	// plays the refusal, which a run must see through as it does a
	// DUPLICATED_USER (jobs.Scheduler.claimOwnDuplicates).
	refuseHash := s.seed%2 == 0
	w.sb = sandbox.New(sandbox.Config{Clock: w.clk, JobDelay: s.jobDelay, TokenLifetime: s.token, Faults: s.faults, RefuseHashUpsert: refuseHash})
	hs := httptest.NewServer(w.sb)
	defer hs.Close()
	w.host = strings.TrimPrefix(hs.URL, "http://")

	if s.mode == run.ModeSync {
		w.playSync()
	} else {
		w.playMigrate()
	}
	w.checkUnique()
	st := w.sb.Stats()
	w.tally.resetBefore, w.tally.resetAfter, w.tally.err5xx = st.Faults.ResetBefore, st.Faults.ResetAfter, st.Faults.Error5xx
	if n := s.faults.FailEveryNthJob; n > 0 {
		w.tally.failedJobs = st.ImportJobs / n
	}
	// Token requests beyond the first of each run: refreshes.
	w.tally.tokens = max(0, st.Requests["POST /oauth/token"]-w.tally.runs)
	return w
}

func (w *world) logf(format string, args ...any) { w.log = append(w.log, fmt.Sprintf(format, args...)) }

// newInput writes the records in the schedule's format.
func (w *world) newInput(name string, recs []*record) string {
	path := filepath.Join(w.dir, name+extension(w.s.format))
	if err := writeInput(path, w.s.format, recs, w.s.sendsCreates()); err != nil {
		w.mm.addf("writing the input: %v", err)
	}
	return path
}

// seedTenant puts the records' users that exist before the run in the tenant.
func (w *world) seedTenant(recs []*record) {
	for _, r := range recs {
		if r.pre {
			w.sb.AddUser(management.User{Email: r.email, GivenName: "Before"}, connection)
		}
	}
	// The run starts later than anything the tenant held before it.
	w.clk.Advance(time.Minute)
}

// tenant is who the tenant holds now.
func (w *world) tenant() tenantView {
	v := tenantView{}
	for _, u := range w.sb.Users() {
		if u.Connection == connection {
			v[strings.ToLower(u.Email)] = true
		}
	}
	return v
}

// checkUnique: nobody is in the tenant twice.
func (w *world) checkUnique() {
	seen := map[string]bool{}
	for _, u := range w.sb.Users() {
		k := u.Connection + "/" + strings.ToLower(u.Email)
		if seen[k] {
			w.mm.addf("user %s is in the tenant twice", u.Email)
		}
		seen[k] = true
	}
}

// baseSpec is a fresh run of the schedule's mode on input.
func (w *world) baseSpec(mode run.Mode, input, reportPath string) run.Spec {
	s := w.s
	spec := run.Spec{Mode: mode, Connection: connection, Upsert: s.upsert, Inputs: []string{input}, ReportPath: reportPath}
	spec.Settings = run.Defaults()
	spec.ChunkBytes, spec.MaxJobs, spec.Concurrency, spec.MaxRetries, spec.Rate = s.chunkBytes, s.maxJobs, s.concurrency, s.maxRetries, 1000
	return spec
}

// playMigrate is an import or a create: a fresh run, killed and resumed
// until it completes.
func (w *world) playMigrate() {
	recs := makeRecords(w.rng, w.s.records, fmt.Sprintf("s%d", w.s.seed), w.s.input)
	input := w.newInput("users", recs)
	w.seedTenant(recs)
	w.tally.records += len(recs)
	before := w.tenant()
	reportPath := filepath.Join(w.dir, "run.ndjson")
	spec := w.baseSpec(w.s.mode, input, reportPath)
	var sum *run.Summary
	for kills := 0; ; {
		if w.tally.runs >= maxAttempts {
			w.mm.addf("the run did not complete in %d attempts", maxAttempts)
			return
		}
		plan := killPlan{}
		if kills < w.s.kills {
			plan = w.killPlan(len(recs))
		}
		res := w.attempt(spec, plan, reportPath)
		if res.hung {
			return
		}
		if res.killed {
			kills++
		} else if done, ok := w.settled(res); !ok {
			return
		} else if done {
			sum = res.sum
			break
		}
		w.pause(res.killed)
		w.waitAsTold(res.err)
		spec = w.nextSpec(spec, reportPath)
	}
	w.tally.addFinals(expectation{report: reportPath, input: input, recs: recs, before: before, now: w.tenant(), summary: sum}.check(&w.mm))
}

// nextSpec resumes from the report when it has its header; a run killed
// before writing one is started afresh (as an operator would).
func (w *world) nextSpec(fresh run.Spec, reportPath string) run.Spec {
	if fi, err := os.Stat(reportPath); err != nil || fi.Size() == 0 {
		return fresh
	}
	spec, err := run.Recorded(reportPath, fresh.Mode)
	if err != nil {
		w.mm.addf("reading the report back for --resume: %v", err)
		return fresh
	}
	return spec
}

// playSync syncs rounds of input, each run again (a sync's resume) until
// one run of it completes; the completed run of each round is checked.
func (w *world) playSync() {
	recs := makeRecords(w.rng, w.s.records, fmt.Sprintf("s%d", w.s.seed), w.s.input)
	w.seedTenant(recs)
	w.tally.records += len(recs) * w.s.rounds
	state := filepath.Join(w.dir, "sync.state")
	for round := 1; round <= w.s.rounds; round++ {
		if round > 1 {
			// The next night's sync; some users changed at the source.
			w.clk.Advance(time.Duration(1+w.rng.IntN(20)) * time.Hour)
			for _, r := range recs {
				if w.rng.Float64() < w.s.changed {
					r.given += "-changed"
				}
			}
		}
		input := w.newInput(fmt.Sprintf("users-%d", round), recs)
		for k, kills := 1, 0; ; k++ {
			if w.tally.runs >= maxAttempts*w.s.rounds {
				w.mm.addf("round %d: the sync did not complete in %d runs", round, k-1)
				return
			}
			reportPath := filepath.Join(w.dir, fmt.Sprintf("sync-%d-%d.ndjson", round, k))
			spec := w.baseSpec(run.ModeSync, input, reportPath)
			spec.Upsert, spec.SyncMode, spec.State = false, string(w.s.syncMode), state
			plan := killPlan{}
			if kills < w.s.kills {
				plan = w.killPlan(len(recs))
			}
			before := w.tenant()
			res := w.attempt(spec, plan, reportPath)
			if res.hung {
				return
			}
			// Every run's report, even a killed one, ends each record once.
			readFinals(reportPath, input, recs, &w.mm, true)
			if res.killed {
				kills++
			} else if done, ok := w.settled(res); !ok {
				return
			} else if done {
				w.logf("round %d: checked against run %d", round, w.tally.runs)
				w.tally.addFinals(expectation{report: reportPath, input: input, recs: recs, before: before, now: w.tenant(), summary: res.sum}.check(&w.mm))
				break
			}
			w.pause(res.killed)
			w.waitAsTold(res.err)
		}
	}
}

// killPlan draws where the next kill lands: mostly at a journal line
// within what a run of n records writes (a queued or sending line and a
// final line each, chunk lines), often while a write is in flight (after
// the tenant acted, before its answer), sometimes at the very start.
func (w *world) killPlan(n int) killPlan {
	p := killPlan{torn: w.s.torn && w.rng.IntN(2) == 0, tornAt: w.rng.Float64()}
	switch x := w.rng.IntN(8); {
	case x == 0:
		p.atRequest = 1 + w.rng.IntN(3)
	case x < 4:
		writes := n // one POST per user
		if !w.s.sendsCreates() {
			writes = 1 + n*250/w.s.chunkBytes // about one POST per import file
		}
		p.atWrite = 1 + w.rng.IntN(writes)
	default:
		p.atLine = 1 + w.rng.IntN(2*n+n/4+2)
	}
	return p
}

// pause is the time between two runs: at least two seconds, since runs are
// dated by the tenant's Date header, which has whole seconds (a run started
// within the second another one created a user would take it for its own:
// the harness does not hunt that edge).
// waitAsTold waits, as the operator is told to, until a run that left
// records for a lost import job to finish says a resume can settle them.
func (w *world) waitAsTold(err error) {
	var wait *jobs.WaitForLostJobs
	if errors.As(err, &wait) {
		if d := wait.Until.Sub(w.clk.Now()); d > 0 {
			w.clk.Advance(d)
		}
	}
}

func (w *world) pause(killed bool) {
	d := time.Duration(2+w.rng.IntN(30)) * time.Second
	if killed && w.s.gap {
		d = time.Duration(w.rng.Int64N(int64(3 * time.Hour)))
	}
	w.clk.Advance(d)
}

// settled reads how an attempt that was not killed ended: done (it
// completed), or to be run again (it stopped on its own, exit 1). ok is
// false when the schedule cannot go on.
func (w *world) settled(res attemptResult) (done, ok bool) {
	var usage *run.UsageError
	var stopped *run.StoppedError
	var inc *run.IncompleteError
	switch {
	case res.err == nil || errors.As(res.err, &inc):
		if res.sum == nil {
			w.mm.addf("run %d completed without a summary", w.tally.runs)
			return false, false
		}
		return true, true
	case errors.As(res.err, &usage):
		w.mm.addf("run %d: usage error: %v", w.tally.runs, res.err)
		return false, false
	case errors.As(res.err, &stopped):
		w.mm.addf("run %d stopped though nobody stopped it: %v", w.tally.runs, res.err)
		return false, false
	}
	w.tally.stoppedOnOwn++
	w.logf("run %d stopped on its own: %v", w.tally.runs, res.err)
	return false, true
}

type attemptResult struct {
	sum    *run.Summary
	err    error
	killed bool
	hung   bool
}

// attempt is one process: one call of the run core, with its own HTTP
// connections, killed by plan.
func (w *world) attempt(spec run.Spec, plan killPlan, reportPath string) attemptResult {
	w.tally.runs++
	n := w.tally.runs
	base := http.DefaultTransport.(*http.Transport).Clone()
	defer base.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ks := &killSwitch{next: base, report: reportPath, state: spec.State, plan: plan, cancel: cancel}
	jitter := &lockedRand{r: rand.New(rand.NewPCG(w.s.seed, uint64(n)))}
	env := run.Env{
		Clock: w.clk,
		Connect: func() (run.Tenant, error) {
			return management.New(management.Config{
				Domain: w.host, ClientID: "model-client", ClientSecret: "model-secret", Base: ks, Clock: w.clk,
				Throttle: throttle.Options{Rate: spec.Rate, MaxRate: spec.Rate, MaxRetries: spec.MaxRetries, Clock: w.clk, Rand: jitter.Float64},
			})
		},
		Progress: func(run.Task) run.Progress { return ks },
	}
	done := make(chan attemptResult, 1)
	go func() {
		sum, err := run.Run(ctx, env, spec)
		done <- attemptResult{sum: sum, err: err}
	}()
	var res attemptResult
	select {
	case res = <-done:
	case <-time.After(attemptTimeout):
		w.mm.addf("run %d hung (more than %s of wall time)", n, attemptTimeout)
		return attemptResult{hung: true}
	}
	res.killed = ks.wasKilled()
	if err := ks.cut(); err != nil {
		w.mm.addf("run %d: emulating the kill: %v", n, err)
	}
	what := "completed"
	switch {
	case res.killed:
		what = fmt.Sprintf("killed after %d journal lines (plan %+v)", ks.linesAtT, plan)
	case res.err != nil:
		what = "ended: " + res.err.Error()
	}
	w.logf("run %d (%s): %s", n, describeSpec(spec), what)
	if res.killed {
		w.tally.kills++
	}
	return res
}

func describeSpec(s run.Spec) string {
	if s.Resume != "" {
		return "--resume " + filepath.Base(s.Resume)
	}
	return "fresh " + filepath.Base(s.ReportPath)
}

// lockedRand is a seeded jitter source the throttle may call from several
// goroutines.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (l *lockedRand) Float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}
