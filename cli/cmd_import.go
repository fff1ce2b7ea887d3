package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/pipeline"
	"github.com/a0bulk/a0bulk/report"
)

// importOptions are the flags of `a0bulk import`.
type importOptions struct {
	runOptions
	SendCompletionEmail bool
	ChunkBytes          int
	MaxJobs             int
	SlotWait            time.Duration
}

// maxImportFile is Auth0's cap on an import file (facts: 500 KB, treated as
// 512,000 bytes).
const maxImportFile = 512000

func importCommand(s *IOStreams) *ucli.Command {
	return &ucli.Command{
		Name:      "import",
		Usage:     "import users with bulk-import jobs (files of at most 500 KB, 2 jobs at a time)",
		ArgsUsage: " ",
		Description: `Examples:
   a0bulk import --connection Username-Password-Authentication --input users.csv
   a0bulk import --connection DB --input export.ndjson --upsert --report run.ndjson
   a0bulk import --resume run.ndjson            # continue a stopped or failed run
   a0bulk import --connection DB --input users.json --dry-run`,
		Flags: concat(tenantFlags(), inputFlags(), outputFlags(), []ucli.Flag{
			&ucli.StringFlag{Name: "connection", Usage: "database connection `NAME`", EnvVars: []string{"A0BULK_CONNECTION"}},
			&ucli.BoolFlag{Name: "upsert", Usage: "update users that already exist (Auth0 overwrites their metadata)"},
			&ucli.BoolFlag{Name: "send-completion-email", Usage: "let Auth0 email the job's completion (off by default)"},
			&ucli.StringFlag{Name: "external-id", Usage: "external_id passed to every import job"},
			&ucli.IntFlag{Name: "chunk-bytes", Value: 500000, Usage: "largest import file, in bytes (at most 512000)"},
			&ucli.IntFlag{Name: "max-jobs", Value: 2, Usage: "import jobs in flight at once (Auth0 allows 2 per tenant)"},
			&ucli.StringFlag{Name: "report", Usage: "report `FILE` (default a0bulk-import-TIME.ndjson)"},
			&ucli.StringFlag{Name: "resume", Usage: "continue the run recorded in `REPORT`"},
			&ucli.BoolFlag{Name: "dry-run", Usage: "validate, plan the chunks and look up the connection; send nothing"},
			&ucli.DurationFlag{Name: "slot-wait", Value: 30 * time.Minute, Usage: "give up when no import slot frees up for this long"},
		}),
		Action: func(c *ucli.Context) error {
			g, err := readGlobal(c)
			if err != nil {
				return err
			}
			o, err := readImportOptions(c, s)
			if err != nil {
				return err
			}
			if o.DryRun {
				return runDryImport(c.Context, s, g, o)
			}
			return runImport(c.Context, s, g, o)
		},
	}
}

func readImportOptions(c *ucli.Context, s *IOStreams) (importOptions, error) {
	run, err := readRunOptions(c, s, "import", input.ModeImport)
	if err != nil {
		return importOptions{}, err
	}
	o := importOptions{
		runOptions:          run,
		SendCompletionEmail: c.Bool("send-completion-email"),
		ChunkBytes:          c.Int("chunk-bytes"),
		MaxJobs:             c.Int("max-jobs"),
		SlotWait:            c.Duration("slot-wait"),
	}
	if o.ChunkBytes <= 2 || o.ChunkBytes > maxImportFile {
		return o, usagef("--chunk-bytes must be between 3 and %d, got %d", maxImportFile, o.ChunkBytes)
	}
	if err := positiveInt("max-jobs", o.MaxJobs); err != nil {
		return o, err
	}
	return o, nil
}

func runImport(ctx context.Context, s *IOStreams, g globalOptions, o importOptions) error {
	log := g.logger(s)
	client, err := o.tenant.client(log, g.Verbose)
	if err != nil {
		return err
	}
	jp, err := planJournal(o.meaning, o.input, o.extra, o.ReportPath, o.Resume, clock.Real{})
	if err != nil {
		return err
	}
	conn, err := databaseConnection(ctx, client, o.meaning.Connection)
	if err != nil {
		return err
	}
	started := jp.startFrom(client)
	journal, state, err := jp.open()
	if err != nil {
		return err
	}
	defer journal.Close()

	counter := &byteCounter{}
	prog := newProgress(s, g, "import", o.input.totalBytes(), counter.Load)
	journal.Observe(prog.Observe)
	defer prog.Stop()

	workCtx, stopWork := graceContext(ctx, 10*time.Second)
	defer stopWork()
	plan := newResumePlan(state)
	sched := &jobs.Scheduler{
		Users: client, Connection: conn.Name, RunStarted: started, MaybeSent: plan.maybeSent,
		API: client, Journal: journal, Clock: clock.Real{},
		ConnectionID: conn.ID, Upsert: o.meaning.Upsert, ExternalID: o.meaning.ExternalID,
		SendCompletionEmail: o.SendCompletionEmail, MaxJobs: o.MaxJobs, SlotWait: o.SlotWait,
		Logf:   func(format string, args ...any) { log.Warn(fmt.Sprintf(format, args...)) },
		Tracef: func(format string, args ...any) { log.Debug(fmt.Sprintf(format, args...)) },
	}

	readErr, schedErr := pipeline.Import{
		Source: o.input.source(s, counter), Journal: journal, Scheduler: sched,
		ChunkBytes: o.ChunkBytes, FirstChunk: plan.nextChunk,
		Admit: plan.admit, OnRead: prog.RecordRead,
	}.Run(ctx, workCtx)
	settleErr := plan.settle(workCtx, sched)
	prog.Stop()

	sum := newRunSummary("import", journal.Path(), journal.Tally(), prog)
	for _, m := range sched.Mismatches() {
		sum.Warnings = append(sum.Warnings, m.String())
	}
	return finishRun(ctx, s, g, journal, sum, resumeHint("import", journal.Path()), readErr, schedErr, settleErr)
}

// finishRun flushes the journal, prints the summary and picks the error that
// decides the exit code: a signal first, then a run that could not complete,
// then records that did not succeed.
func finishRun(ctx context.Context, s *IOStreams, g globalOptions, journal *report.Writer, sum runSummary, hint string, errs ...error) error {
	if err := journal.Close(); err != nil {
		errs = append(errs, fmt.Errorf("flushing report: %w", err))
	}
	sum.Counts, sum.Records = tallyCounts(journal.Tally())
	var runErr error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			runErr = err
			break
		}
	}
	switch {
	case ctx.Err() != nil:
		sum.Resume = hint
		se := &SignalError{ResumeHint: hint}
		var cause *SignalError
		if errors.As(context.Cause(ctx), &cause) {
			se.Signal = cause.Signal
		}
		runErr = se
	case runErr != nil:
		sum.Resume = hint
	case sum.outcomeOf != nil:
		runErr = sum.outcomeOf(sum)
	default:
		runErr = sum.outcome()
	}
	sum.ExitCode = ExitCode(runErr)
	if err := sum.print(s, g); err != nil {
		return err
	}
	var inc *IncompleteError
	if errors.As(runErr, &inc) {
		return errors.Join(errSilent, runErr)
	}
	return runErr
}

func tallyCounts(t report.Tally) (map[string]int, int) {
	counts := map[string]int{}
	for _, st := range report.FinalStatuses {
		counts[string(st)] = t.Final[st]
	}
	return counts, t.Total()
}

func resumeHint(command, reportPath string) string {
	return fmt.Sprintf("a0bulk %s --resume %s", command, reportPath)
}

func concat(groups ...[]ucli.Flag) []ucli.Flag {
	var out []ucli.Flag
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}
