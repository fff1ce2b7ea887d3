package jobs

import (
	"context"
	"fmt"
	"strings"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/words"
)

// Codes a0bulk writes for outcomes the tenant gives no code for.
const (
	CodeJobFailed       = "JOB_FAILED"
	CodeJobExpired      = "JOB_EXPIRED"
	CodeJobNotFound     = "JOB_NOT_FOUND"
	CodePayloadTooLarge = "PAYLOAD_TOO_LARGE"
	CodeDuplicatedUser  = "DUPLICATED_USER"
)

// SummaryMismatch records a job whose own summary disagrees with what the
// journal got for its chunk. It is reported, never hidden: it means either
// the join of errors to records or the tenant's tally is off.
type SummaryMismatch struct {
	Chunk   int
	JobID   string
	Summary management.JobSummary
	// Records is the chunk size; Succeeded/NotSucceeded what was written.
	Records, Succeeded, NotSucceeded int
	// Unmatched counts per-user errors that matched no record of the chunk.
	Unmatched int
}

func (m SummaryMismatch) String() string {
	return fmt.Sprintf("chunk %d (%s): job summary inserted=%d updated=%d failed=%d total=%d, report has %s: %d succeeded, %d not, %s no record",
		m.Chunk, m.JobID, m.Summary.Inserted, m.Summary.Updated, m.Summary.Failed, m.Summary.Total,
		words.Count(m.Records, "record"), m.Succeeded, m.NotSucceeded, words.Count(m.Unmatched, "error")+" "+words.Agree(m.Unmatched, "matches", "match"))
}

// settle reads the finished job's errors and writes each record's final
// line. partial: some records of the chunk were settled before (a resume),
// so the job's summary and errors cover more than c.
func (s *Scheduler) settle(ctx context.Context, c input.Chunk, job *management.Job, partial bool) error {
	if job.Status == management.JobExpired {
		// Expired is a completed job more than 2 hours old: its users were
		// imported (or refused), and only the tenant still says which.
		return s.settleByLookup(ctx, c, job.ID, CodeJobExpired,
			"the import job expired (it completed more than 2 hours before it was read) and no longer reports each user's outcome")
	}
	var errs *management.JobErrors
	if !partial && allSucceeded(job, len(c.Records)) {
		// The tenant's own tally says no record failed: there are no
		// errors to read, and the request would take a token the next
		// chunk's POST needs.
		errs = &management.JobErrors{Kind: management.JobErrorsNone}
	} else {
		var err error
		if errs, err = s.API.JobErrors(ctx, job.ID); err != nil {
			if job.Status != management.JobFailed {
				return fmt.Errorf("reading the job's errors: %w", err)
			}
			s.logf("job %s failed and its errors could not be read: %v", job.ID, err)
			errs = nil
		}
	}
	if job.Status == management.JobFailed || (errs != nil && errs.Kind == management.JobErrorsFailure) {
		reason := job.StatusDetails
		if errs != nil && errs.Failure != nil && errs.Failure.StatusDetails != "" {
			reason = errs.Failure.StatusDetails
		}
		if reason == "" {
			reason = "the import job failed"
		}
		// A failed job may still have inserted users (one that timed out
		// after 2 hours; or an earlier POST of the chunk, whose answer was
		// lost, did): each is looked up before it is called failed.
		return s.settleByLookup(ctx, c, job.ID, CodeJobFailed, reason)
	}
	if errs == nil {
		errs = &management.JobErrors{Kind: management.JobErrorsNone}
	}
	entries, unmatched := Outcomes(c, job.ID, s.Upsert, errs)
	note := s.logf
	if partial {
		// Errors of the records settled before match none of c: expected.
		note = s.tracef
	}
	for _, u := range unmatched {
		note("chunk %d (%s): an error for email %q user_id %q matches no record of the chunk: %s",
			c.Seq, job.ID, u.User.Email, u.User.UserID, joinMessages(u.Errors))
	}
	// The tenant's tally counts what it saw: compare before our own lookups.
	if !partial {
		s.checkSummary(c, job, entries, len(unmatched))
	}
	if err := s.claimOwnDuplicates(ctx, c.Seq, entries); err != nil {
		return err
	}
	return s.writeEntries(entries)
}

// allSucceeded reports whether a completed job's summary accounts for all
// records of its chunk as inserted or updated, none failed.
func allSucceeded(job *management.Job, records int) bool {
	sum := job.Summary
	return job.Status == management.JobCompleted && sum != nil && records > 0 &&
		sum.Failed == 0 && sum.Total == records && sum.Inserted+sum.Updated == records
}

// settleByLookup settles every record of c from the tenant: the job gives
// them all code and reason, and each is looked up (see resolve). A record
// the lookup does not find while a job whose answer was lost may still
// insert it gets no final line (see holdBack).
func (s *Scheduler) settleByLookup(ctx context.Context, c input.Chunk, jobID, code, reason string) error {
	entries := make([]report.Entry, 0, len(c.Records))
	for _, r := range c.Records {
		e := report.Entry{File: r.File, Line: r.Line, Record: r.Ordinal, Email: r.Email, Status: report.Failed, JobID: jobID, Code: code, Reason: reason, Chunk: c.Seq}
		fate, err := s.resolve(ctx, &e)
		if err != nil {
			return err
		}
		if fate == absent && s.holdBack(c.Seq, e) {
			continue
		}
		entries = append(entries, e)
	}
	if held := len(c.Records) - len(entries); held > 0 {
		s.logf("chunk %d (%s): %s not found in the tenant %s left unsettled: a job whose answer was lost may still insert them", c.Seq, jobID, words.Count(held, "record"), words.Agree(held, "is", "are"))
	}
	return s.writeEntries(entries)
}

func (s *Scheduler) writeEntries(entries []report.Entry) error {
	for _, e := range entries {
		if err := s.write(e); err != nil {
			return err
		}
	}
	return nil
}

// claimOwnDuplicates turns DUPLICATED_USER into created for users that an
// earlier attempt of this run made (their chunk was sent twice, or queued by
// a run that died before it learned the outcome): such a user was created at
// or after the run started. Users that were in the tenant before stay
// skipped. Without a lookup, every duplicate stays skipped.
//
// In an upsert, Auth0 may refuse an existing user whose line carries a
// password hash ("…the user already has password hash defined", a support
// article; the hash is insert-only) instead of updating it: after a
// resend, that user is the one the first POST inserted, and is claimed the
// same way.
func (s *Scheduler) claimOwnDuplicates(ctx context.Context, seq int, entries []report.Entry) error {
	for i := range entries {
		e := &entries[i]
		switch why := s.refusedAsExisting(e); {
		case why == "":
			continue
		case why == CodeDuplicatedUser && !s.mayHaveCreated(seq, e.Key()):
			continue
		}
		if _, err := s.resolve(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// hashDefined is the part of Auth0's per-user error for a password hash in
// an upsert of a user who has one that names the cause.
const hashDefined = "already has password hash defined"

// refusedAsExisting says why e's job refused it because the user exists:
// CodeDuplicatedUser, or in an upsert hashDefined, or "". A hash refusal is
// always looked up (they are rare: a sync withholds the hashes of users it
// knows): the user may be one that a killed run's job, or this run's first
// POST of a resent chunk, inserted moments before.
func (s *Scheduler) refusedAsExisting(e *report.Entry) string {
	switch {
	case e.Status == report.Skipped && e.Code == CodeDuplicatedUser:
		return CodeDuplicatedUser
	case s.Upsert && e.Status == report.Failed && strings.Contains(e.Reason, hashDefined):
		return hashDefined
	}
	return ""
}

// checkSummary compares the job's tally with what was written.
func (s *Scheduler) checkSummary(c input.Chunk, job *management.Job, entries []report.Entry, unmatched int) {
	if job.Summary == nil && unmatched == 0 {
		return
	}
	m := SummaryMismatch{Chunk: c.Seq, JobID: job.ID, Records: len(c.Records), Unmatched: unmatched}
	if job.Summary != nil {
		m.Summary = *job.Summary
	}
	for _, e := range entries {
		if e.Status == report.Created || e.Status == report.Imported {
			m.Succeeded++
		} else {
			m.NotSucceeded++
		}
	}
	ok := unmatched == 0
	if job.Summary != nil {
		ok = ok && m.Summary.Total == m.Records &&
			m.Summary.Inserted+m.Summary.Updated == m.Succeeded &&
			m.Summary.Failed == m.NotSucceeded
	}
	if ok {
		return
	}
	s.logf("summary mismatch: %s", m)
	s.mu.Lock()
	s.mismatches = append(s.mismatches, m)
	s.mu.Unlock()
}

// Outcomes joins a finished job's errors (Kind None or Users) back to the
// chunk's records, by email (case-insensitive) or else user_id, and returns
// one final entry per record plus the errors that matched no record.
func Outcomes(c input.Chunk, jobID string, upsert bool, errs *management.JobErrors) ([]report.Entry, []management.UserImportError) {
	byEmail := map[string][]int{}
	byID := map[string][]int{}
	for i, r := range c.Records {
		if r.Email != "" {
			byEmail[strings.ToLower(r.Email)] = append(byEmail[strings.ToLower(r.Email)], i)
		}
		if r.UserID != "" {
			byID[normID(r.UserID)] = append(byID[normID(r.UserID)], i)
		}
	}
	perRecord := make([][]management.ImportErrorItem, len(c.Records))
	matched := make([]bool, len(c.Records))
	var unmatched []management.UserImportError
	if errs != nil && errs.Kind == management.JobErrorsUsers {
		for _, ue := range errs.Users {
			var idx []int
			if email := ue.User.Email; email != "" && !masked(email) {
				idx = byEmail[strings.ToLower(email)]
			}
			if len(idx) == 0 && ue.User.UserID != "" && !masked(ue.User.UserID) {
				idx = byID[normID(ue.User.UserID)]
			}
			if len(idx) == 0 {
				unmatched = append(unmatched, ue)
				continue
			}
			items := ue.Errors
			if len(items) == 0 {
				items = []management.ImportErrorItem{{Code: "IMPORT_ERROR", Message: "listed among the job's errors without a reason"}}
			}
			for _, i := range idx {
				matched[i] = true
				perRecord[i] = append(perRecord[i], items...)
			}
		}
	}
	success := report.Created
	if upsert {
		success = report.Imported
	}
	entries := make([]report.Entry, len(c.Records))
	for i, r := range c.Records {
		e := report.Entry{File: r.File, Line: r.Line, Record: r.Ordinal, Email: r.Email, JobID: jobID, Chunk: c.Seq, Status: success}
		if matched[i] {
			e.Status, e.Code, e.Reason = classify(perRecord[i], upsert)
		}
		entries[i] = e
	}
	return entries, unmatched
}

// classify turns one record's errors into its final status: an existing
// user without upsert is skipped (it is already in the tenant, possibly from
// an earlier attempt of this very run), anything else failed.
func classify(items []management.ImportErrorItem, upsert bool) (report.Status, string, string) {
	code := ""
	allDup := true
	for _, it := range items {
		if it.Code != CodeDuplicatedUser {
			allDup = false
			if code == "" {
				code = it.Code
			}
		}
	}
	if allDup && !upsert {
		return report.Skipped, CodeDuplicatedUser, joinMessages(items)
	}
	if code == "" {
		code = items[0].Code
	}
	return report.Failed, code, joinMessages(items)
}

func joinMessages(items []management.ImportErrorItem) string {
	parts := make([]string, 0, len(items))
	for _, it := range items {
		msg := it.Message
		if msg == "" {
			msg = it.Code
		}
		if it.Path != "" {
			msg = it.Path + ": " + msg
		}
		parts = append(parts, msg)
	}
	return strings.Join(parts, "; ")
}

// masked: the tenant echoes sensitive values as "*****".
func masked(v string) bool { return strings.Trim(v, "*") == "" }

// normID drops the connection prefix Auth0 adds, so "auth0|x" matches "x".
func normID(id string) string {
	if i := strings.IndexByte(id, '|'); i >= 0 {
		return id[i+1:]
	}
	return id
}

// inConnection reports whether u has an identity in the named connection
// (any user, when the name is not known).
func inConnection(u management.User, connection string) bool {
	if connection == "" {
		return true
	}
	for _, id := range u.Identities {
		if id.Connection == connection {
			return true
		}
	}
	return false
}
