package jobs

import (
	"context"
	"fmt"
	"strings"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
)

// Codes a0bulk writes for outcomes the tenant gives no code for.
const (
	CodeJobFailed       = "JOB_FAILED"
	CodeJobExpired      = "JOB_EXPIRED"
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
	return fmt.Sprintf("chunk %d (%s): job summary inserted=%d updated=%d failed=%d total=%d, report has %d records: %d succeeded, %d not, %d errors matched no record",
		m.Chunk, m.JobID, m.Summary.Inserted, m.Summary.Updated, m.Summary.Failed, m.Summary.Total,
		m.Records, m.Succeeded, m.NotSucceeded, m.Unmatched)
}

// settle reads the finished job's errors and writes each record's final line.
func (s *Scheduler) settle(ctx context.Context, c input.Chunk, job *management.Job) error {
	if job.Status == management.JobExpired {
		return s.writeAll(c, job.ID, report.Failed, CodeJobExpired, "the import job expired before it finished")
	}
	errs, err := s.API.JobErrors(ctx, job.ID)
	if err != nil {
		if job.Status != management.JobFailed {
			return fmt.Errorf("reading the job's errors: %w", err)
		}
		s.logf("job %s failed and its errors could not be read: %v", job.ID, err)
		errs = nil
	}
	if job.Status == management.JobFailed || (errs != nil && errs.Kind == management.JobErrorsFailure) {
		reason := job.StatusDetails
		if errs != nil && errs.Failure != nil && errs.Failure.StatusDetails != "" {
			reason = errs.Failure.StatusDetails
		}
		if reason == "" {
			reason = "the import job failed"
		}
		return s.writeAll(c, job.ID, report.Failed, CodeJobFailed, reason)
	}
	if errs == nil {
		errs = &management.JobErrors{Kind: management.JobErrorsNone}
	}
	entries, unmatched := Outcomes(c, job.ID, s.Upsert, errs)
	for _, u := range unmatched {
		s.logf("chunk %d (%s): an error for email %q user_id %q matches no record of the chunk: %s",
			c.Seq, job.ID, u.User.Email, u.User.UserID, joinMessages(u.Errors))
	}
	// The tenant's tally counts what it saw: compare before our own lookups.
	s.checkSummary(c, job, entries, len(unmatched))
	if err := s.claimOwnDuplicates(ctx, c.Seq, entries); err != nil {
		return err
	}
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
func (s *Scheduler) claimOwnDuplicates(ctx context.Context, seq int, entries []report.Entry) error {
	if s.Users == nil || s.RunStarted.IsZero() {
		return nil
	}
	for i := range entries {
		e := &entries[i]
		if e.Status != report.Skipped || e.Code != CodeDuplicatedUser || !s.mayHaveCreated(seq, e.Key()) {
			continue
		}
		users, err := s.Users.UsersByEmail(ctx, e.Email)
		if err != nil {
			return fmt.Errorf("looking up %s, refused as a duplicate after a resend: %w", e.Key(), err)
		}
		for _, u := range users {
			if !inConnection(u, s.Connection) {
				continue // the same email in another connection is another user
			}
			if u.CreatedAt != nil && !u.CreatedAt.Before(s.RunStarted) {
				e.Status, e.Code, e.Reason, e.UserID = report.Created, "", "", u.UserID
				break
			}
		}
	}
	return nil
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
