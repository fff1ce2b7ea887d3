package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/pipeline"
	"github.com/a0bulk/a0bulk/syncstate"
)

// syncPlan is what `sync --dry-run` prints (one JSON object with --output json).
type syncPlan struct {
	Command     string          `json:"command"`
	DryRun      bool            `json:"dry_run"`
	Mode        string          `json:"mode"`
	State       string          `json:"state"`
	StateExists bool            `json:"state_exists"`
	Records     int             `json:"records"`
	Create      int             `json:"would_create"`
	Update      int             `json:"would_update"`
	Skip        int             `json:"would_skip"`
	Invalid     int             `json:"invalid"`
	Problems    []recordProblem `json:"invalid_records,omitempty"`
	ExitCode    int             `json:"exit_code"`
}

// runDrySync reads the input and the state and says what a sync would do.
// It makes no call to the tenant at all (not even the connection lookup):
// the state alone decides. It takes the state's lock like a sync, so it
// never reads a state another sync is writing; a missing state is not
// created, it simply means every valid user would be created.
func runDrySync(ctx context.Context, s *IOStreams, g globalOptions, o syncOptions) error {
	plan := &syncPlan{Command: "sync", DryRun: true, Mode: o.Mode, State: o.StatePath}
	var st stateReader
	switch _, err := os.Stat(o.StatePath); {
	case err == nil:
		store, err := syncstate.Open(o.StatePath, clock.Real{})
		if err != nil {
			var le *syncstate.LockedError
			if errors.As(err, &le) {
				return fmt.Errorf("another sync is running: %w", err)
			}
			return fmt.Errorf("opening the sync state: %w", err)
		}
		defer store.Close()
		st, plan.StateExists = store, true
	case errors.Is(err, fs.ErrNotExist):
	default:
		return fmt.Errorf("opening the sync state: %w", err)
	}

	listing := g.Verbose && !g.JSON
	err := o.input.stream(ctx, s, nil, func(rec input.Record) error {
		plan.Records++
		var verdict syncVerdict
		if rec.Valid() {
			v, _, _, err := judge(st, rec, o.Full)
			if err != nil {
				return err
			}
			verdict = v
			// What create.Runner would refuse for a user it must send.
			if o.Mode == "create" && verdict != syncUnchanged && rec.Password == "" && !o.RandomPassword {
				rec.Errors = append(rec.Errors, input.FieldError{Field: "password", Reason: "required for a database connection (or use --random-password)"})
			}
		}
		if !rec.Valid() {
			plan.Invalid++
			if len(plan.Problems) < maxListedProblems {
				plan.Problems = append(plan.Problems, recordProblem{File: rec.File, Line: rec.Line, Reason: pipeline.Describe(rec.Errors)})
			}
			return nil
		}
		what := ""
		switch verdict {
		case syncNew:
			plan.Create++
			what = "create"
		case syncChanged:
			plan.Update++
			what = "update"
		default:
			plan.Skip++
			what = "skip"
		}
		if listing {
			fmt.Fprintf(s.Out, "would %s %s (%s:%d)\n", what, rec.User.Email, rec.File, rec.Line)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var result error
	if plan.Invalid > 0 {
		result = &IncompleteError{Invalid: plan.Invalid}
	}
	plan.ExitCode = ExitCode(result)
	if g.JSON {
		if err := printJSON(s.Out, plan); err != nil {
			return err
		}
	} else {
		for _, p := range plan.Problems {
			fmt.Fprintf(s.Out, "%s:%d: %s\n", p.File, p.Line, p.Reason)
		}
		state := o.StatePath
		if !plan.StateExists {
			state += " (not created yet: every valid user is new)"
		}
		fmt.Fprintf(s.Out, "sync dry run (%s mode), state %s\n", o.Mode, state)
		fmt.Fprintf(s.Out, "records: %d: would create %d, would update %d, would skip %d (unchanged), invalid %d\n",
			plan.Records, plan.Create, plan.Update, plan.Skip, plan.Invalid)
		fmt.Fprintln(s.Out, "nothing was sent: a dry run makes no call to the tenant")
	}
	if result != nil {
		// The plan already names the invalid records.
		return errors.Join(errSilent, result)
	}
	return nil
}
