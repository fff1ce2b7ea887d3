package run

import (
	"context"
	"errors"
	"fmt"
	"github.com/a0bulk/a0bulk/words"
	"sync"
	"sync/atomic"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/jobs"
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
	// Problems name the first records that did not succeed; a job or
	// chunk that failed as a whole is one line, with its record count.
	Problems []string `json:"problems,omitempty"`
	// Reasons are the most frequent reasons records failed or are invalid
	// (verify: emails failed), each with a count and one example.
	Reasons []report.Reason `json:"reasons,omitempty"`
	// Retry is what a --retry-failed run sent again.
	Retry *RetryCounts `json:"retry,omitempty"`
	// Hashes is what the --hashes join did (and what a sync withheld).
	Hashes *HashSummary `json:"password_hashes,omitempty"`
	Resume string       `json:"resume_command,omitempty"`
	// RetryCommand sends the failed records of a complete run again.
	RetryCommand string `json:"retry_command,omitempty"`
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

// VerifyCounts are the verification emails of a run. A verify run counts
// its own records only, each once: emailed (sent, failed, or pending when
// the run stopped before the job's outcome), not emailed because the email
// is verified already, emailed by an earlier verify, or not a user the
// report's run created, imported or updated.
type VerifyCounts struct {
	Sent   int `json:"sent"`
	Failed int `json:"failed"`
	// Pending: requested, outcome unknown (the run stopped first).
	Pending int `json:"pending,omitempty"`
	// AlreadyVerified: not emailed, their email is verified (the input or
	// the tenant says so).
	AlreadyVerified int `json:"already_verified,omitempty"`
	// SentBefore: an earlier verify emailed them; not sent again.
	SentBefore int `json:"sent_before,omitempty"`
	// NotEligible: records of the report that its run did not create,
	// import or update (failed, invalid, skipped), or invalid records of a
	// verify's own report: nobody to email.
	NotEligible int `json:"not_eligible,omitempty"`
}

// String is the counts for people: "sent 3, failed 0, already verified 6
// (not emailed)".
func (c VerifyCounts) String() string {
	s := fmt.Sprintf("sent %d, failed %d", c.Sent, c.Failed)
	for _, part := range []struct {
		n    int
		what string
	}{
		{c.Pending, "of unknown outcome (the run stopped first)"},
		{c.AlreadyVerified, "already verified (not emailed)"},
		{c.SentBefore, "sent by an earlier verify (not sent again)"},
		{c.NotEligible, "not to email (the run did not create, import or update them, or they are invalid)"},
	} {
		if part.n > 0 {
			s += fmt.Sprintf(", %d %s", part.n, part.what)
		}
	}
	return s
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
		Chunks: t.ChunksSubmitted, Buckets: bucketsOf(tenant), Warnings: warnings, Problems: problems.list(), Reasons: journal.Reasons()}
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
	if sum.Resume == "" && sum.Progress.State != report.StateIncomplete {
		sum.RetryCommand = RetryStep(string(spec.Mode), journal.Path(), t.Final[report.Failed])
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

// maxProblems bounds the lines a summary's problem list has: enough to see
// what went wrong without scrolling past thousands; the report has them all.
const maxProblems = 10

// problemCollector remembers the first invalid or failed records as
// "file:line: reason", fed by the journal like every other count. The
// records of a job or chunk that failed as a whole (its status_details on
// every one of them) are one line: the chunk, its job, the reason and how
// many records.
type problemCollector struct {
	mu     sync.Mutex
	lines  []problemLine
	chunks map[chunkProblem]int // → index in lines
}

// chunkProblem is a job or chunk that failed as a whole.
type chunkProblem struct {
	chunk     int
	job, code string
	reason    string
}

type problemLine struct {
	text    string        // one record's problem
	chunk   *chunkProblem // or a chunk's
	records int
	first   report.Key
}

// chunkCodes are the codes a0bulk gives every record of a job that failed,
// expired or is gone: the job's outcome, not the record's.
var chunkCodes = map[string]bool{jobs.CodeJobFailed: true, jobs.CodeJobExpired: true, jobs.CodeJobNotFound: true}

// wholeChunk reports whether e failed with its whole chunk: its job's
// outcome, or the POST of its chunk refused (no job id).
func wholeChunk(e report.Entry) bool {
	return e.Status == report.Failed && e.Chunk > 0 && (e.JobID == "" || chunkCodes[e.Code])
}

func (p *problemCollector) Observe(e report.Entry) {
	if e.Status != report.Invalid && e.Status != report.Failed {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if wholeChunk(e) {
		key := chunkProblem{chunk: e.Chunk, job: e.JobID, code: e.Code}
		if i, ok := p.chunks[key]; ok {
			p.lines[i].records++
			return
		}
		if len(p.lines) >= maxProblems {
			return
		}
		if p.chunks == nil {
			p.chunks = map[chunkProblem]int{}
		}
		p.chunks[key] = len(p.lines)
		key.reason = e.Reason
		p.lines = append(p.lines, problemLine{chunk: &key, records: 1, first: e.Key()})
		return
	}
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
	p.lines = append(p.lines, problemLine{text: line})
}

func (p *problemCollector) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.lines))
	for _, l := range p.lines {
		if l.chunk == nil {
			out = append(out, l.text)
			continue
		}
		c := l.chunk
		name := fmt.Sprintf("chunk %d", c.chunk)
		if c.job != "" {
			name += " (" + c.job + ")"
		}
		out = append(out, fmt.Sprintf("%s: %s failed %s, from %s: %s", name, words.Count(l.records, "record"), c.code, l.first, c.reason))
	}
	return out
}
