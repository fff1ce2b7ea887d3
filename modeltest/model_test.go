package modeltest

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/a0bulk/a0bulk/report"
)

// The flags only this package knows: pass them after the package, e.g.
//
//	go test ./modeltest -run TestModel -seed 17
//	go test ./modeltest -run TestModel -schedules 300 -first 1000 -dims all
var (
	flagSeed      = flag.Uint64("seed", 0, "replay this one schedule (0: run -schedules of them)")
	flagSchedules = flag.Int("schedules", defaultSchedules, "how many schedules to run, seeds -first, -first+1, …")
	flagFirst     = flag.Uint64("first", 1, "the first seed of -schedules")
	flagKeep      = flag.Bool("keep", false, "keep each schedule's inputs, reports and state, and print where")
	flagDims      = flag.String("dims", "default", `enabled dimensions: "default" (all but the known-failing), "all", or a comma list (+name / -name change the default)`)
)

// defaultSchedules keeps `make test` short; `make soak` runs hundreds.
const defaultSchedules = 64

// outcome is one schedule's result.
type outcome struct {
	seed  uint64
	desc  string
	mm    mismatches
	tally tally
	known []string // known-failing dimensions the schedule used
}

// TestModel plays seeded schedules of faults and kills over import, create
// and sync runs, each resumed (or run again) until it completes, and checks
// every report against the tenant. A failure prints its seed and how to
// replay it.
func TestModel(t *testing.T) {
	dims, err := parseDims(*flagDims)
	if err != nil {
		t.Fatal(err)
	}
	seeds := []uint64{*flagSeed}
	if *flagSeed == 0 {
		seeds = seeds[:0]
		for i := range *flagSchedules {
			seeds = append(seeds, *flagFirst+uint64(i))
		}
	}
	var (
		mu       sync.Mutex
		outcomes []outcome
	)
	t.Run("schedules", func(t *testing.T) {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
				t.Parallel()
				s, err := draw(seed, dims)
				if err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				dir := t.TempDir()
				if *flagKeep {
					if dir, err = os.MkdirTemp("", fmt.Sprintf("modeltest-seed%d-", seed)); err != nil {
						t.Fatal(err)
					}
					t.Logf("seed %d: files kept in %s", seed, dir)
				}
				w := play(s, dir)
				o := outcome{seed: seed, desc: s.String(), mm: w.mm, tally: w.tally, known: s.knownFailingUsed()}
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
				t.Logf("seed %d: %s\n  %s", seed, s, strings.Join(w.log, "\n  "))
				if len(w.mm) > 0 {
					t.Errorf("seed %d: %s\n  %s\nreplay: %s",
						seed, w.mm[0], strings.Join(w.mm[1:min(len(w.mm), 8)], "\n  "), replay(seed, dims, s.concurrency > 1 || s.maxJobs > 1))
				}
			})
		}
	})
	printFigure(t, outcomes, dims)
}

// replay is the command that plays seed again. A seed fixes the schedule,
// the tenant's faults and the kill points, not how the run's goroutines
// interleave: a concurrent schedule is replayed a number of times.
func replay(seed uint64, dims dimSet, concurrent bool) string {
	count := ""
	if concurrent {
		count = " -count=20"
	}
	cmd := fmt.Sprintf("go test -race%s ./modeltest -run TestModel -seed %d", count, seed)
	def, _ := parseDims("default")
	var diff []string
	for _, n := range allDims {
		switch {
		case dims[n] && !def[n]:
			diff = append(diff, "+"+n)
		case !dims[n] && def[n]:
			diff = append(diff, "-"+n)
		}
	}
	if len(diff) > 0 {
		cmd += " -dims=" + strings.Join(diff, ",")
	}
	return cmd
}

// printFigure prints the figure (stdout, so `make soak` shows it) and, on
// failure, one line per failing seed.
func printFigure(t *testing.T, outcomes []outcome, dims dimSet) {
	sort.Slice(outcomes, func(i, j int) bool { return outcomes[i].seed < outcomes[j].seed })
	var sum tally
	var failing []string
	for _, o := range outcomes {
		sum.add(o.tally)
		if len(o.mm) > 0 {
			known := "none"
			if len(o.known) > 0 {
				known = strings.Join(o.known, ",")
			}
			failing = append(failing, fmt.Sprintf("seed %d [known-failing dims used: %s] (%s): %s", o.seed, known, o.desc, o.mm[0]))
		}
	}
	var finals []string
	for _, st := range report.FinalStatuses {
		finals = append(finals, fmt.Sprintf("%d %s", sum.finals[st], st))
	}
	fig := fmt.Sprintf("modeltest: %d schedules, %d runs, %d kills, %d stopped on their own, %d faults "+
		"(%d resets before, %d after, %d 5xx, %d failed jobs, %d token refreshes), %d records (checked: %s), %d mismatches\n"+
		"modeltest: dims %s",
		len(outcomes), sum.runs, sum.kills, sum.stoppedOnOwn, sum.faults(),
		sum.resetBefore, sum.resetAfter, sum.err5xx, sum.failedJobs, sum.tokens, sum.records, strings.Join(finals, ", "), len(failing), dims)
	fmt.Fprintln(os.Stdout, fig)
	t.Log(fig)
	if len(failing) > 0 {
		t.Errorf("%d of %d schedules found a report that lies:\n%s", len(failing), len(outcomes), strings.Join(failing, "\n"))
	}
}
