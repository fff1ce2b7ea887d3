package run

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/report"
)

// Summary is what a finished (or stopped) run tells the operator; the cli
// prints it as text or as one JSON object, and sets ExitCode.
type Summary struct {
	Command  string         `json:"command"`
	Report   string         `json:"report,omitempty"`
	Records  int            `json:"records"`
	Counts   map[string]int `json:"counts"`
	Verified *VerifyCounts  `json:"verification,omitempty"`
	Chunks   int            `json:"chunks_submitted,omitempty"`
	// Buckets are the tenant's rate-limit buckets the run's requests went
	// to: requests, 429s and time waited in each (bucketsOf).
	Buckets  []BucketCounts `json:"rate_limit_buckets,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
	Problems []string       `json:"problems,omitempty"`
	Resume   string         `json:"resume_command,omitempty"`
	// Progress says whether the run is complete ("N of M records final"),
	// resumable, or needs verify.
	Progress report.Progress `json:"progress"`
	ExitCode int             `json:"exit_code"`
}

// readCount counts the records a run reads, and whether it read them all,
// for its end-of-run line.
type readCount struct {
	n    atomic.Int64
	done atomic.Bool
}

// count wraps a source so that its records are counted.
func (c *readCount) count(src source) source {
	return func(ctx context.Context, fn func(input.Record) error) error {
		err := src(ctx, func(rec input.Record) error {
			c.n.Add(1)
			return fn(rec)
		})
		c.done.Store(err == nil)
		return err
	}
}

// VerifyCounts are the verification emails of a run.
type VerifyCounts struct {
	Sent   int `json:"sent"`
	Failed int `json:"failed"`
}

// outcome turns a complete run's counts into its error: an
// *IncompleteError when some records are invalid or failed.
func outcome(t report.Tally) error {
	if n, f := t.Final[report.Invalid], t.Final[report.Failed]; n+f > 0 {
		return &IncompleteError{Invalid: n, Failed: f}
	}
	return nil
}

// finish writes the end-of-run line (unless read is nil: verify --report
// appends to another run's report), flushes the journal, builds the summary
// and picks the error that decides the exit code: a stop first, then a run
// that could not complete, then records that did not succeed (outcomeOf;
// nil: outcome). tenant's requests are counted by bucket (nil: none).
func finish(ctx context.Context, spec Spec, journal *report.Writer, problems *problemCollector, read *readCount, warnings []string, outcomeOf func(report.Tally) error, tenant Tenant, errs ...error) (*Summary, error) {
	t := journal.Tally()
	inFlight := journal.InFlight()
	var end *report.End
	if read != nil {
		end = &report.End{Outcome: report.EndComplete, RecordsRead: int(read.n.Load()), InputRead: read.done.Load(),
			Final: t.Records, InFlight: inFlight}
		switch {
		case ctx.Err() != nil:
			end.Outcome = report.EndStopped
		case firstError(errs) != nil:
			end.Outcome = report.EndFailed
		}
		if err := journal.End(*end); err != nil {
			errs = append(errs, fmt.Errorf("writing the end-of-run line: %w", err))
		}
	}
	if err := journal.Close(); err != nil {
		errs = append(errs, fmt.Errorf("flushing report: %w", err))
	}
	sum := &Summary{Command: string(spec.Mode), Report: journal.Path(), Records: t.Total(), Counts: map[string]int{},
		Chunks: t.ChunksSubmitted, Buckets: bucketsOf(tenant), Warnings: warnings, Problems: problems.list()}
	for _, st := range report.FinalStatuses {
		sum.Counts[string(st)] = t.Final[st]
	}
	if t.VerificationSent+t.VerificationFailed > 0 {
		sum.Verified = &VerifyCounts{Sent: t.VerificationSent, Failed: t.VerificationFailed}
	}
	runErr := firstError(errs)
	sum.Progress = report.JudgeRun(string(spec.Mode), end, t, inFlight)
	hint := spec.resumeHint(journal.Path())
	switch {
	case ctx.Err() != nil:
		sum.Resume = hint
		runErr = &StoppedError{Cause: context.Cause(ctx), Resume: hint}
	case runErr != nil:
		sum.Resume = hint
		runErr = refusedStop(runErr, hint)
	case sum.Progress.State == report.StateIncomplete && end != nil:
		// Nothing failed, yet records are not final (a job that may still
		// import them): never exit 0 on a run that is not done.
		sum.Resume = hint
		runErr = fmt.Errorf("the run ended incomplete (%s)", sum.Progress)
	case outcomeOf != nil:
		runErr = outcomeOf(t)
	default:
		runErr = outcome(t)
	}
	if sum.Resume == "" && end != nil {
		sum.Resume = NextStep(string(spec.Mode), journal.Path(), sum.Progress.State)
	}
	return sum, runErr
}

// firstError is the error that stopped a run: the first one that is not a
// cancellation (a signal is told by ctx).
func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return nil
}

// maxProblems bounds the records a summary names: enough to see what went
// wrong without scrolling past thousands; the report has them all.
const maxProblems = 10

// problemCollector remembers the first invalid or failed records as
// "file:line: reason", fed by the journal like every other count.
type problemCollector struct {
	mu    sync.Mutex
	lines []string
}

func (p *problemCollector) Observe(e report.Entry) {
	if e.Status != report.Invalid && e.Status != report.Failed {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lines) >= maxProblems {
		return
	}
	line := fmt.Sprintf("%s: %s", e.Key(), e.Status)
	if e.Code != "" && e.Code != "INVALID" {
		line += " " + e.Code
	}
	if e.Reason != "" {
		line += ": " + e.Reason
	}
	p.lines = append(p.lines, line)
}

func (p *problemCollector) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}
