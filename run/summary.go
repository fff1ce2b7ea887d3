package run

import (
	"context"
	"errors"
	"fmt"
	"sync"

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
	Warnings []string       `json:"warnings,omitempty"`
	Problems []string       `json:"problems,omitempty"`
	Resume   string         `json:"resume_command,omitempty"`
	ExitCode int            `json:"exit_code"`
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

// finish flushes the journal, builds the summary and picks the error that
// decides the exit code: a stop first, then a run that could not complete,
// then records that did not succeed (outcomeOf; nil: outcome).
func finish(ctx context.Context, spec Spec, journal *report.Writer, problems *problemCollector, warnings []string, outcomeOf func(report.Tally) error, errs ...error) (*Summary, error) {
	if err := journal.Close(); err != nil {
		errs = append(errs, fmt.Errorf("flushing report: %w", err))
	}
	t := journal.Tally()
	sum := &Summary{Command: string(spec.Mode), Report: journal.Path(), Records: t.Total(), Counts: map[string]int{},
		Chunks: t.ChunksSubmitted, Warnings: warnings, Problems: problems.list()}
	for _, st := range report.FinalStatuses {
		sum.Counts[string(st)] = t.Final[st]
	}
	if t.VerificationSent+t.VerificationFailed > 0 {
		sum.Verified = &VerifyCounts{Sent: t.VerificationSent, Failed: t.VerificationFailed}
	}
	var runErr error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			runErr = err
			break
		}
	}
	hint := spec.resumeHint(journal.Path())
	switch {
	case ctx.Err() != nil:
		sum.Resume = hint
		runErr = &StoppedError{Cause: context.Cause(ctx), Resume: hint}
	case runErr != nil:
		sum.Resume = hint
	case outcomeOf != nil:
		runErr = outcomeOf(t)
	default:
		runErr = outcome(t)
	}
	return sum, runErr
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
