package cli

import (
	"errors"
	"fmt"

	"github.com/a0bulk/a0bulk/run"
	"github.com/a0bulk/a0bulk/words"
)

// The dry-run and validate renderings of a run.Plan: one planner, a shape
// per command (their JSON is part of the contract).

// importPlan is what `validate` and `import --dry-run` print: what the run
// would send, and how the estimate was made.
type importPlan struct {
	Records    int           `json:"records"`
	Valid      int           `json:"valid"`
	Invalid    int           `json:"invalid"`
	Jobs       int           `json:"jobs"`
	ChunkBytes []int         `json:"chunk_bytes"`
	Limit      int           `json:"chunk_limit"`
	Fill       float64       `json:"fill"`
	Problems   []run.Problem `json:"invalid_records,omitempty"`
	Connection string        `json:"connection,omitempty"`
	Estimate   string        `json:"estimate"`
	Resume     *resumePlan   `json:"resume,omitempty"`
	// Hashes is what --hashes would join (the first lines of its listing).
	Hashes *run.HashSummary `json:"password_hashes,omitempty"`
}

// resumePlan is what a --resume or --retry-failed dry run leaves of its
// report: the plan (jobs, requests, estimate) is of ToSend only.
type resumePlan struct {
	Done    int `json:"done"`
	Settle  int `json:"to_settle"`
	Retry   int `json:"to_retry,omitempty"`
	ToSend  int `json:"to_send"`
	Records int `json:"records"`
}

func resumeOf(plan *run.Plan) *resumePlan {
	if !plan.Resumed {
		return nil
	}
	return &resumePlan{Done: plan.Done, Settle: plan.Settle, Retry: plan.Retry, ToSend: plan.Send, Records: plan.Records}
}

// printResume says what a resumed plan leaves out.
func printResume(s *IOStreams, r *resumePlan) {
	if r == nil {
		return
	}
	fmt.Fprintf(s.Out, "resume: %d of %d records final already (not sent again), %d in jobs the tenant accepted (settled by reading them), %d to send",
		r.Done, r.Records, r.Settle, r.ToSend)
	if r.Retry > 0 {
		fmt.Fprintf(s.Out, " (%d of them failed before: retried)", r.Retry)
	}
	fmt.Fprintln(s.Out)
}

func printImportPlan(s *IOStreams, g globalOptions, plan *run.Plan, limit int) error {
	p := importPlan{Records: plan.Records, Valid: plan.Valid, Invalid: plan.Invalid, Jobs: len(plan.ChunkBytes),
		ChunkBytes: plan.ChunkBytes, Limit: limit, Fill: fill(plan.ChunkBytes, limit), Problems: plan.Problems, Connection: plan.Connection,
		Resume: resumeOf(plan), Hashes: plan.Hashes}
	p.Estimate = fmt.Sprintf("%s of at most %d bytes; Auth0 runs at most 2 at once per tenant, so the run takes about %s of job processing time (Auth0 publishes no job speed: time one job of this size to turn this into minutes)",
		words.Count(p.Jobs, "import job"), limit, words.Count((p.Jobs+1)/2, "round"))
	var err error
	if g.JSON {
		err = printJSON(s.Out, p)
	} else {
		printProblems(s, p.Problems, p.Invalid)
		fmt.Fprintf(s.Out, "records: %d (valid %d, invalid %d)\n", p.Records, p.Valid, p.Invalid)
		printHashes(s.Out, p.Hashes)
		if p.Connection != "" {
			fmt.Fprintf(s.Out, "connection: %s\n", p.Connection)
		}
		printResume(s, p.Resume)
		if p.Jobs > 0 {
			smallest, largest := p.ChunkBytes[0], p.ChunkBytes[0]
			for _, n := range p.ChunkBytes {
				smallest, largest = min(smallest, n), max(largest, n)
			}
			fmt.Fprintf(s.Out, "import files: %d (limit %d bytes; largest %d, smallest %d, last %d; average fill %.1f%%)\n",
				p.Jobs, p.Limit, largest, smallest, p.ChunkBytes[len(p.ChunkBytes)-1], 100*p.Fill)
		}
		fmt.Fprintf(s.Out, "estimate: %s\n", p.Estimate)
	}
	if err != nil {
		return err
	}
	return planOutcome(plan)
}

// fill is the average size of all chunks but the last, over the limit: the
// last is whatever is left and says nothing about packing.
func fill(sizes []int, limit int) float64 {
	if len(sizes) < 2 {
		if len(sizes) == 1 {
			return float64(sizes[0]) / float64(limit)
		}
		return 0
	}
	total := 0
	for _, n := range sizes[:len(sizes)-1] {
		total += n
	}
	return float64(total) / float64(len(sizes)-1) / float64(limit)
}

// createPlan is what `create --dry-run` prints.
type createPlan struct {
	Records    int           `json:"records"`
	Valid      int           `json:"valid"`
	Invalid    int           `json:"invalid"`
	Requests   int           `json:"requests"`
	Rate       float64       `json:"rate_per_second"`
	RateSource string        `json:"rate_source"`
	Duration   string        `json:"estimated_duration"`
	Connection string        `json:"connection"`
	Problems   []run.Problem `json:"invalid_records,omitempty"`
	Resume     *resumePlan   `json:"resume,omitempty"`
}

func printCreatePlan(s *IOStreams, g globalOptions, plan *run.Plan) error {
	p := createPlan{Records: plan.Records, Valid: plan.Valid, Invalid: plan.Invalid, Requests: plan.Requests,
		Rate: plan.Rate, RateSource: plan.RateSource, Duration: plan.Duration.String(), Connection: plan.Connection, Problems: plan.Problems,
		Resume: resumeOf(plan)}
	if g.JSON {
		if err := printJSON(s.Out, p); err != nil {
			return err
		}
	} else {
		printProblems(s, p.Problems, 0)
		fmt.Fprintf(s.Out, "records: %d (valid %d, invalid %d)\nconnection: %s\n", p.Records, p.Valid, p.Invalid, p.Connection)
		printResume(s, p.Resume)
		fmt.Fprintf(s.Out, "estimate: %d requests at %.1f/s (%s) ≈ %s, plus a look-up per existing user\n", p.Requests, p.Rate, p.RateSource, p.Duration)
	}
	if p.Invalid > 0 {
		return &run.IncompleteError{Invalid: p.Invalid}
	}
	return nil
}

// syncPlan is what `sync --dry-run` prints (one JSON object with --output json).
type syncPlan struct {
	Command     string        `json:"command"`
	DryRun      bool          `json:"dry_run"`
	Mode        string        `json:"mode"`
	State       string        `json:"state"`
	StateExists bool          `json:"state_exists"`
	Records     int           `json:"records"`
	Create      int           `json:"would_create"`
	Update      int           `json:"would_update"`
	Skip        int           `json:"would_skip"`
	Invalid     int           `json:"invalid"`
	Problems    []run.Problem `json:"invalid_records,omitempty"`
	// Hashes is what --hashes would join, and withhold from updates.
	Hashes   *run.HashSummary `json:"password_hashes,omitempty"`
	ExitCode int              `json:"exit_code"`
}

func printSyncPlan(s *IOStreams, g globalOptions, spec run.Spec, plan *run.Plan) error {
	p := syncPlan{Command: "sync", DryRun: true, Mode: spec.SyncMode, State: spec.State, StateExists: plan.StateExists,
		Records: plan.Records, Create: plan.New, Update: plan.Changed, Skip: plan.Unchanged, Invalid: plan.Invalid, Problems: plan.Problems,
		Hashes: plan.Hashes}
	result := planOutcome(plan)
	p.ExitCode = ExitCode(result)
	if g.JSON {
		if err := printJSON(s.Out, p); err != nil {
			return err
		}
	} else {
		printProblems(s, p.Problems, 0)
		state := p.State
		if !p.StateExists {
			state += " (not created yet: every valid user is new)"
		}
		fmt.Fprintf(s.Out, "sync dry run (%s mode), state %s\n", p.Mode, state)
		fmt.Fprintf(s.Out, "records: %d: would create %d, would update %d, would skip %d (unchanged), invalid %d\n",
			p.Records, p.Create, p.Update, p.Skip, p.Invalid)
		printHashes(s.Out, p.Hashes)
		fmt.Fprintln(s.Out, "nothing was sent: a dry run makes no call to the tenant")
	}
	return result
}

// printProblems lists the invalid records a plan names, and how many more
// there are when more than listed (total 0: not said).
func printProblems(s *IOStreams, problems []run.Problem, total int) {
	for _, pr := range problems {
		fmt.Fprintf(s.Out, "%s:%d: %s\n", pr.File, pr.Line, pr.Reason)
	}
	if total > len(problems) {
		fmt.Fprintf(s.Out, "… and %s\n", words.Count(total-len(problems), "more invalid record"))
	}
}

// planOutcome: a plan with invalid records exits 3, silently (the plan
// already names them).
func planOutcome(plan *run.Plan) error {
	if plan.Invalid > 0 {
		return errors.Join(errSilent, &run.IncompleteError{Invalid: plan.Invalid})
	}
	return nil
}
