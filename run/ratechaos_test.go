package run

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
	"github.com/a0bulk/a0bulk/simtest"
	"github.com/a0bulk/a0bulk/throttle"
)

// Rate-limit chaos (issue 13): a sandbox on a plan preset, its faults
// seeded and timed on the fake clock, reached in memory, and the run built
// as the cli builds it (no --rate: the pacer learns the plan from the
// headers), played as a discrete-event simulation (simtest): a 30 s storm
// takes no wall time and no sleep, and every wait lasts exactly its
// tenant time.
// Each run must complete with exit 0 and be exact: one final line per
// record, every user in the tenant exactly once.

type rateChaos struct {
	name   string
	plan   sandbox.Plan
	faults sandbox.Faults
	cfg    func(*sandbox.Config)
	// proof says the fault happened; a fault that never fired proves nothing.
	proof func(sandbox.Stats) error
}

func stormed(st sandbox.Stats) error {
	if st.Faults.Storm == 0 {
		return fmt.Errorf("no request met the storm")
	}
	return nil
}

func drained(bucket string) func(sandbox.Stats) error {
	return func(st sandbox.Stats) error {
		if st.Buckets[bucket].RateLimited == 0 {
			return fmt.Errorf("bucket %s refused nothing while drained (%+v)", bucket, st.Buckets)
		}
		return nil
	}
}

func tokenResets(st sandbox.Stats) error {
	if st.Faults.TokenResets == 0 {
		return fmt.Errorf("no token request was reset")
	}
	return nil
}

var rateChaosCases = []rateChaos{
	{name: "30s storm at the start", plan: sandbox.PlanEssentials,
		faults: sandbox.Faults{StormDuration: 30 * time.Second}, proof: stormed},
	{name: "30s storm mid-run", plan: sandbox.PlanFree,
		faults: sandbox.Faults{StormStart: 8 * time.Second, StormDuration: 30 * time.Second}, proof: stormed},
	{name: "token resets at the start and on refresh", plan: sandbox.PlanEssentials,
		// The first two token requests and, after the first refresh, half
		// of the rest lose their connection; tokens live 10s.
		faults: sandbox.Faults{TokenResets: 2, TokenResetSkip: 0, TokenReset: 0.5},
		cfg:    func(c *sandbox.Config) { c.TokenLifetime = 10 * time.Second }, proof: tokenResets},
	{name: "users_write drained by another client", plan: sandbox.PlanEssentials,
		faults: sandbox.Faults{DrainBucket: "users_write", DrainDuration: 30 * time.Second}},
	{name: "other drained by another client", plan: sandbox.PlanEssentials,
		faults: sandbox.Faults{DrainBucket: "other", DrainDuration: 30 * time.Second},
		proof:  drained("other")},
	{name: "global drained by another client", plan: sandbox.PlanEnterprise,
		faults: sandbox.Faults{DrainBucket: "global", DrainDuration: 30 * time.Second},
		proof:  drained("global")},
}

func TestRateLimitChaos(t *testing.T) {
	for _, tc := range rateChaosCases {
		for _, mode := range []Mode{ModeImport, ModeCreate} {
			t.Run(tc.name+"/"+string(mode), func(t *testing.T) {
				proof := tc.proof
				if tc.faults.DrainBucket == "users_write" {
					if mode == ModeImport {
						t.Skip("an import writes no user through /users")
					}
					proof = drained("users_write")
				}
				runRateChaos(t, tc, mode, proof)
			})
		}
	}
}

func runRateChaos(t *testing.T, tc rateChaos, mode Mode, proof func(sandbox.Stats) error) {
	clk := clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	cfg := sandbox.Config{Clock: clk, Plan: tc.plan, JobDelay: 3 * time.Second, Faults: tc.faults}
	cfg.Faults.Seed = 13
	if tc.cfg != nil {
		tc.cfg(&cfg)
	}
	sb := sandbox.New(cfg)
	env := Env{Clock: clk, Grace: time.Millisecond,
		Connect: func() (Tenant, error) {
			return management.New(management.Config{
				Domain: "127.0.0.1:8787", ClientID: "cid", ClientSecret: "sec", Clock: clk, // never dialled
				Base:     simtest.Transport{Handler: sb, Clock: clk, Latency: 10 * time.Millisecond},
				Throttle: throttle.Options{MaxRetries: DefaultMaxRetries, Rand: func() float64 { return 0.5 }},
			})
		}}

	n, inMode := 120, input.ModeImport
	if mode == ModeCreate {
		n, inMode = 60, input.ModeCreate
	}
	spec := Spec{Mode: mode, Connection: "Username-Password-Authentication", Inputs: []string{usersFile(t, n, inMode)},
		Settings: Defaults(), ReportPath: filepath.Join(t.TempDir(), "run.ndjson")}
	// create --verify-email: its verification jobs go to "other", the
	// import's bucket, so every case has both kinds of bucket busy.
	spec.RandomPassword, spec.VerifyEmail = mode == ModeCreate, mode == ModeCreate
	spec.ChunkBytes = 8000 // several jobs, so the faults meet some mid-run
	spec.Concurrency = 4

	start := clk.Now()
	var sum *Summary
	err := simtest.Run(clk, func() error {
		var err error
		sum, err = Run(context.Background(), env, spec)
		return err
	})
	t.Logf("%s of tenant time, %d 429s, faults %+v", clk.Now().Sub(start), sb.Stats().RateLimited, sb.Stats().Faults)
	if err != nil {
		t.Fatalf("run: %v (the fault must be waited out, not stop the run)", err)
	}
	if proof != nil {
		if err := proof(sb.Stats()); err != nil {
			t.Fatalf("the fault did not happen: %v", err)
		}
	}
	want := report.Created // an import without --upsert says created too
	if sum.Records != n || sum.Counts[string(want)] != n {
		t.Errorf("summary: %d records, counts %v; want all %d %s", sum.Records, sum.Counts, n, want)
	}
	fin := finals(t, spec.ReportPath) // fails on a second final line
	if len(fin) != n {
		t.Errorf("%d records have a final line, want %d", len(fin), n)
	}
	seen := map[string]int{}
	for _, u := range sb.Users() {
		seen[strings.ToLower(u.User.Email)]++
	}
	for email, e := range fin {
		if e.Status != want {
			t.Errorf("%s: %s %s, want %s", email, e.Status, e.Code, want)
		}
		if seen[strings.ToLower(email)] != 1 {
			t.Errorf("%s: %d users in the tenant, want 1", email, seen[strings.ToLower(email)])
		}
	}
	if len(seen) != n {
		t.Errorf("the tenant holds %d users, want %d", len(seen), n)
	}
}
