package jobs

import (
	"context"
	"fmt"
	"strings"

	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
)

// A job does not always say what became of a record: a job that expired
// (it completed more than 2 hours ago and no longer reports per-user
// outcomes), failed (it may have timed out after inserting some users),
// or is gone (job data lives 24 hours); and a DUPLICATED_USER may be a user
// an earlier attempt of this very run created. Such records are looked up
// in the tenant before their final line is written. Users created at or
// after the run's start (the tenant's clock) are this run's: the input never
// holds an email twice, so no other record of the run can claim them.

// tenantFate is what the tenant holds for a record's email in the run's
// connection, relative to the run's start.
type tenantFate int

const (
	notLookedUp  tenantFate = iota // no lookup was possible (no Users or RunStarted)
	absent                         // no user with the email in the connection
	createdByRun                   // created at or after the run began
	updatedByRun                   // there before the run, updated since it began
	untouched                      // there before the run, not updated since
)

// fateOf looks the email up in the run's connection. Database connections
// store emails lower-cased and the lookup is case-sensitive, so it asks for
// the lower-cased address.
func (s *Scheduler) fateOf(ctx context.Context, email string) (tenantFate, *management.User, error) {
	if email == "" {
		return absent, nil, nil
	}
	users, err := s.Users.UsersByEmail(ctx, strings.ToLower(email))
	if err != nil {
		return absent, nil, err
	}
	for i := range users {
		u := &users[i]
		if !inConnection(*u, s.Connection) {
			continue // the same email in another connection is another user
		}
		switch {
		case u.CreatedAt != nil && !u.CreatedAt.Before(s.RunStarted):
			return createdByRun, u, nil
		case u.UpdatedAt != nil && !u.UpdatedAt.Before(s.RunStarted):
			return updatedByRun, u, nil
		}
		return untouched, u, nil
	}
	return absent, nil, nil
}

// canLookUp: the scheduler was given what a lookup needs.
func (s *Scheduler) canLookUp() bool { return s.Users != nil && !s.RunStarted.IsZero() }

// resolve rewrites e, the line the job's own answer gives the record (a
// failed line with the job's code, or skipped DUPLICATED_USER), from what
// the tenant holds:
//
//	created since the run began      → created (upsert: imported)
//	there before, no upsert          → skipped DUPLICATED_USER
//	there before, upsert             → imported if updated since the run began, else e
//	absent                           → e
//
// Without a lookup (no Users or no RunStarted) e stays as it is. It
// returns what the tenant holds.
func (s *Scheduler) resolve(ctx context.Context, e *report.Entry) (tenantFate, error) {
	if !s.canLookUp() {
		return notLookedUp, nil
	}
	fate, u, err := s.fateOf(ctx, e.Email)
	if err != nil {
		return fate, fmt.Errorf("looking up %s in the tenant: %w", e.Key(), err)
	}
	success := report.Created
	if s.Upsert {
		success = report.Imported
	}
	switch {
	case fate == createdByRun, fate == updatedByRun && s.Upsert:
		e.Status, e.Code, e.Reason, e.UserID = success, "", "", u.UserID
	case fate == absent:
		if e.Status == report.Failed {
			e.Reason += "; the user is not in the tenant"
		}
	case !s.Upsert:
		if e.Status != report.Skipped {
			e.Status, e.Code, e.Reason = report.Skipped, CodeDuplicatedUser, "the user was in the tenant before the run began"
		}
		e.UserID = u.UserID
	default: // upsert, there before and not updated by this run
		e.Reason += "; the user, in the tenant before the run began, was not updated since"
		e.UserID = u.UserID
	}
	return fate, nil
}
