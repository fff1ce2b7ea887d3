package run

// Retry in place (--retry-failed REPORT): a resume of the report that also
// sends again the records whose final line is failed, read from the run's
// own inputs (checked by hash, as a resume checks them) and appended to the
// same report, so that one report stays the truth of the migration.
//
// The journal of a retried record: its old final line (failed), then
// `retrying` (written before the record goes anywhere: it supersedes the
// failed line), then the usual queued/submitted or sending lines, then one
// new final line. Between `retrying` and the new final line the record is
// in flight: a resume (or another retry) sends it again, and since the
// failed attempt, or the retry's own, may have created the user after all
// (a failed job that inserted some users, a create whose answer was lost),
// it is looked up first: a user created since the run began is the run's
// (created), as for a failed job.
//
// A report that is itself incomplete is resumed by the retry in the same
// pass: its unsettled records are settled or sent exactly as --resume
// would. Invalid records are not retried: their input did not change.

import (
	"fmt"
	"github.com/a0bulk/a0bulk/words"
	"sync/atomic"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/report"
)

// retryPlan is the admit of a retry: resume's, plus failed records sent
// again.
type retryPlan struct {
	resume  *resumePlan
	journal report.Journal
	// retried counts the records this run reopened; invalid those it left
	// invalid (their input is unchanged, so they still are).
	retried, invalid atomic.Int64
}

func newRetryPlan(resume *resumePlan, journal report.Journal) *retryPlan {
	return &retryPlan{resume: resume, journal: journal}
}

// admit decides for a record read again: a failed one is reopened (its
// retrying line written) and sent; anything else as a resume decides.
func (p *retryPlan) admit(rec *input.Record) (bool, error) {
	k := keyOf(*rec)
	final, ok := p.resume.state.FinalOf(k)
	switch {
	case !ok:
		return p.resume.admit(rec) // unsettled, or reopened by an earlier retry
	case final.Status == report.Invalid:
		p.invalid.Add(1)
		return false, nil
	case final.Status != report.Failed:
		return false, nil
	case !rec.Valid():
		// Failed when sent, invalid by today's rules: its failure stands.
		p.invalid.Add(1)
		return false, nil
	}
	e := report.At(k)
	e.Email, e.Status, e.Code = rec.User.Email, report.Retrying, final.Code
	e.Reason = "sending again after: " + final.Reason
	if err := p.journal.Record(e); err != nil {
		return false, fmt.Errorf("reopening %s for the retry: %w", k, err)
	}
	p.resume.markRetried(k)
	p.retried.Add(1)
	return true, nil
}

// RetryCounts say what a retry did besides the run's counts.
type RetryCounts struct {
	// Retried records had a failed line and were sent again.
	Retried int `json:"retried"`
	// Invalid records were not retried: their input did not change.
	InvalidNotRetried int `json:"invalid_not_retried"`
}

func (p *retryPlan) counts() *RetryCounts {
	return &RetryCounts{Retried: int(p.retried.Load()), InvalidNotRetried: int(p.invalid.Load())}
}

// note is the warning a retry gives about what it did not retry.
func (c *RetryCounts) note(mode Mode, reportPath string) string {
	if c.InvalidNotRetried == 0 {
		return ""
	}
	return fmt.Sprintf("%s not retried: the input did not change, so they are still invalid (a0bulk report failures %s lists them; fix them in a copy of the input and %s that as a new run)",
		words.Count(c.InvalidNotRetried, "invalid record"), reportPath, mode)
}
