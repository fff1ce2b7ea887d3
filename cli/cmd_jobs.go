package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/preflight"
	"github.com/a0bulk/a0bulk/progress"
	"github.com/a0bulk/a0bulk/words"
)

func jobsCommand(s *IOStreams) *ucli.Command {
	flags := concat(tenantFlags(), outputFlags())
	return &ucli.Command{
		Name:  "jobs",
		Usage: "status, wait and errors of any Auth0 job",
		Description: `Examples:
   a0bulk jobs status job_6nNLiwFZksN0YmRR
   a0bulk jobs wait --timeout 30m job_6nNLiwFZksN0YmRR
   a0bulk jobs errors --output json job_6nNLiwFZksN0YmRR`,
		Subcommands: []*ucli.Command{
			{
				Name: "status", Usage: "print a job", ArgsUsage: "JOB_ID", Flags: flags,
				Action: func(c *ucli.Context) error {
					return withJob(c, s, func(ctx context.Context, g globalOptions, client *management.Client, id string) error {
						job, err := client.Job(ctx, id)
						if err != nil {
							return err
						}
						return printJob(s, g, job)
					})
				},
			},
			{
				Name: "wait", Usage: "wait until a job is completed, failed or expired, showing its progress", ArgsUsage: "JOB_ID",
				Flags: concat(flags, []ucli.Flag{&ucli.DurationFlag{Name: "timeout", Value: 2 * time.Hour, Usage: "give up (exit 1; the job goes on) after this long"}}),
				Action: func(c *ucli.Context) error {
					return withJob(c, s, func(ctx context.Context, g globalOptions, client *management.Client, id string) error {
						return waitJob(ctx, s, g, client, id, c.Duration("timeout"))
					})
				},
			},
			{
				Name: "errors", Usage: "print a job's errors (per-user errors, or why the job failed)", ArgsUsage: "JOB_ID", Flags: flags,
				Action: func(c *ucli.Context) error {
					return withJob(c, s, func(ctx context.Context, g globalOptions, client *management.Client, id string) error {
						errs, err := client.JobErrors(ctx, id)
						if err != nil {
							return err
						}
						return printJobErrors(s, g, id, errs)
					})
				},
			},
		},
	}
}

// waitJob is `jobs wait`: it shows the job's progress while it waits
// (stderr: a line redrawn in place on a terminal, a plain line at each
// change elsewhere), prints the job when it ends, and exits 1 unless it
// completed. A timeout, or a signal, stops the waiting, not the job.
func waitJob(ctx context.Context, s *IOStreams, g globalOptions, client *management.Client, id string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errWaitTimedOut)
	defer cancel()
	watch := progress.WatchJob(s.ErrOut, progress.JobOptions{Quiet: g.Quiet, Bar: s.ProgressTTY() && !g.NoProgress, Width: s.TerminalWidth})
	var last *management.Job
	job, err := jobs.Wait(ctx, watchedJobs{api: client, show: func(j *management.Job) {
		last = j
		watch.Show(progress.JobState{ID: j.ID, Status: j.Status, Percent: j.PercentageDone, Left: j.TimeLeftSeconds})
	}}, id, nil)
	watch.Stop()
	if err != nil {
		cause := context.Cause(ctx)
		if last != nil && cause != nil {
			// What the job was doing when the wait stopped: scripts read it
			// on stdout, as when it ends.
			if perr := printJob(s, g, last); perr != nil {
				return perr
			}
		}
		switch {
		case errors.Is(cause, errWaitTimedOut):
			return &waitTimeoutError{ID: id, Timeout: timeout, Last: last}
		case cause != nil && errors.Is(err, context.Canceled):
			return fmt.Errorf("stopped waiting for job %s, which goes on in the tenant (a0bulk jobs wait %s waits again): %w", id, id, cause)
		}
		return fmt.Errorf("waiting for job %s: %w", id, err)
	}
	if err := printJob(s, g, job); err != nil {
		return err
	}
	if job.Status != management.JobCompleted {
		return fmt.Errorf("job %s ended %s", id, job.Status)
	}
	return nil
}

// errWaitTimedOut is the cause of a wait's context when --timeout ends it.
var errWaitTimedOut = errors.New("--timeout reached")

// waitTimeoutError is a `jobs wait` that gave up (exit 1): what it waited
// for, how long, and how to go on.
type waitTimeoutError struct {
	ID      string
	Timeout time.Duration
	Last    *management.Job // the last read of the job, nil when none answered
}

func (e *waitTimeoutError) Error() string {
	state := "it never answered"
	if e.Last != nil {
		state = "it was " + e.Last.Status
		if e.Last.PercentageDone != nil {
			state += fmt.Sprintf(", %d%% done", *e.Last.PercentageDone)
		}
	}
	return fmt.Sprintf("gave up waiting for job %s after %s (--timeout; %s). The job goes on in the tenant: "+
		"a0bulk jobs wait %s waits again (--timeout sets how long), a0bulk jobs status %s shows it", e.ID, e.Timeout, state, e.ID, e.ID)
}

// watchedJobs reads jobs through api and shows each read.
type watchedJobs struct {
	api  *management.Client
	show func(*management.Job)
}

func (w watchedJobs) Job(ctx context.Context, id string) (*management.Job, error) {
	j, err := w.api.Job(ctx, id)
	if err == nil {
		w.show(j)
	}
	return j, err
}

func withJob(c *ucli.Context, s *IOStreams, fn func(context.Context, globalOptions, *management.Client, string) error) error {
	g, err := readGlobal(c)
	if err != nil {
		return err
	}
	if c.NArg() != 1 {
		return usagef("give exactly one job id (flags go before it)")
	}
	client, err := connectFor(c, s, g, preflight.Use{Command: "jobs"})
	if err != nil {
		return err
	}
	return fn(c.Context, g, client, c.Args().First())
}

// printJob shows a job. An export job's location is a signed link to
// every exported user: only its host is ever shown.
func printJob(s *IOStreams, g globalOptions, full *management.Job) error {
	redacted := full.Redacted()
	job := &redacted
	if g.JSON {
		return printJSON(s.Out, job)
	}
	fmt.Fprintf(s.Out, "%s  %s  %s", job.ID, job.Type, job.Status)
	if job.PercentageDone != nil {
		fmt.Fprintf(s.Out, "  %d%%", *job.PercentageDone)
	}
	if job.TimeLeftSeconds != nil {
		fmt.Fprintf(s.Out, "  %ds left", *job.TimeLeftSeconds)
	}
	fmt.Fprintln(s.Out)
	if job.Connection != "" || job.ConnectionID != "" {
		fmt.Fprintf(s.Out, "connection: %s (%s)\n", job.Connection, job.ConnectionID)
	}
	if job.Summary != nil {
		fmt.Fprintf(s.Out, "summary: total %d, inserted %d, updated %d, failed %d\n", job.Summary.Total, job.Summary.Inserted, job.Summary.Updated, job.Summary.Failed)
	}
	if job.Type == management.JobTypeExport {
		printExportJob(s, job)
	}
	if job.StatusDetails != "" {
		fmt.Fprintf(s.Out, "details: %s\n", job.StatusDetails)
	}
	return nil
}

// printExportJob shows what an export job was asked for, and where its
// file is (the host only: a0bulk export downloads it).
func printExportJob(s *IOStreams, job *management.Job) {
	limit := "all users"
	if job.Limit > 0 {
		limit = "at most " + words.Count(job.Limit, "user")
	}
	fmt.Fprintf(s.Out, "export: %s, %s, %s\n", job.Format, limit, words.Count(len(job.Fields), "field"))
	if job.Location != "" {
		fmt.Fprintf(s.Out, "location: %s (a signed link, not shown; it lasts 60 seconds: a0bulk export downloads the file)\n", job.Location)
	}
}

// jobErrorsOutput is the JSON form of the errors union: kind says which
// member the tenant returned.
type jobErrorsOutput struct {
	JobID   string                       `json:"job_id"`
	Kind    string                       `json:"kind"`
	Users   []management.UserImportError `json:"users,omitempty"`
	Failure *management.Job              `json:"failure,omitempty"`
}

func printJobErrors(s *IOStreams, g globalOptions, id string, errs *management.JobErrors) error {
	out := jobErrorsOutput{JobID: id, Kind: errs.Kind.String()}
	switch errs.Kind {
	case management.JobErrorsUsers:
		out.Users = errs.Users
	case management.JobErrorsFailure:
		out.Failure = errs.Failure
	}
	if g.JSON {
		return printJSON(s.Out, out)
	}
	switch errs.Kind {
	case management.JobErrorsNone:
		fmt.Fprintf(s.Out, "%s: no errors\n", id)
	case management.JobErrorsFailure:
		fmt.Fprintf(s.Out, "%s: the job failed: %s\n", id, errs.Failure.StatusDetails)
	case management.JobErrorsUsers:
		for _, u := range errs.Users {
			who := u.User.Email
			if who == "" {
				who = u.User.UserID
			}
			for _, e := range u.Errors {
				fmt.Fprintf(s.Out, "%s\t%s\t%s", who, e.Code, e.Message)
				if e.Path != "" {
					fmt.Fprintf(s.Out, "\t%s", e.Path)
				}
				fmt.Fprintln(s.Out)
			}
		}
	}
	return nil
}
