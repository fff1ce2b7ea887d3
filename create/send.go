package create

import (
	"context"
	"fmt"
	"strings"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/words"
)

// outcome is a record's final line.
type outcome struct {
	status       report.Status
	userID       string
	code, reason string
}

// OwesVerification reports whether a user created from rec is sent a
// verification email under --verify-email: it has an email, not already
// verified.
func OwesVerification(rec *input.Record) bool {
	verified := rec.User.EmailVerified != nil && *rec.User.EmailVerified
	return rec.User.Email != "" && !verified
}

// send creates or updates one valid record. It returns an error only when
// the run must stop; the record then stays `sending`.
func (r *Runner) send(ctx context.Context, rec *input.Record) error {
	req, err := r.createRequest(rec)
	if err != nil {
		return err
	}
	if err := r.write(*rec, report.Sending, "", "", ""); err != nil {
		return err
	}
	out, err := r.create(ctx, rec, req)
	if err != nil {
		return err
	}
	if err := r.write(*rec, out.status, out.userID, out.code, out.reason); err != nil {
		return err
	}
	if out.status == report.Created && r.VerifyEmail && r.Verifier != nil && OwesVerification(rec) {
		return r.Verifier.Send(ctx, report.Key{File: rec.File, Line: rec.Line, Record: rec.Ordinal}, rec.User.Email, out.userID)
	}
	return nil
}

// create POSTs the user. A POST without an answer is settled by reading the
// tenant back before it is ever sent again, so no user is created twice.
func (r *Runner) create(ctx context.Context, rec *input.Record, req management.CreateUserRequest) (outcome, error) {
	// unanswered counts this run's attempts without an answer: after the
	// first, each is a retry of the run's budget (MaxRetries);
	// maybeSent says some attempt, this run's or a dead run's, may have
	// created the user, so a 409 must be checked, not taken as "existed".
	unanswered, maybeSent := 0, false
	if r.WasSending != nil && r.WasSending(report.Key{File: rec.File, Line: rec.Line, Record: rec.Ordinal}) {
		// An earlier run sent it and died without the answer. That attempt
		// does not count against this run's bound: each run gets its own.
		maybeSent = true
		found, err := r.lookup(ctx, rec.User.Email)
		if err != nil && err != errNoEmail {
			return outcome{}, err
		}
		if found != nil {
			if r.ours(found) {
				return outcome{status: report.Created, userID: found.UserID}, nil
			}
			return r.existing(ctx, rec, found, "the user already exists")
		}
	}
	for {
		u, err := r.API.CreateUser(ctx, req)
		if err == nil {
			return outcome{status: report.Created, userID: u.UserID}, nil
		}
		if ctx.Err() != nil {
			return outcome{}, ctx.Err()
		}
		v := management.Classify(err) // a custom domain's 409 is no user conflict: StopRun
		switch {
		case v.Action == management.ReadBack:
			unanswered++
			maybeSent = true
			found, lerr := r.lookup(ctx, rec.User.Email)
			if lerr == errNoEmail {
				return outcome{status: report.Failed, code: CodeUnknownFate, reason: "no answer from the tenant, and no email to check whether the user was created"}, nil
			}
			if lerr != nil {
				return outcome{}, lerr
			}
			if found != nil {
				if r.ours(found) {
					return outcome{status: report.Created, userID: found.UserID}, nil
				}
				return r.existing(ctx, rec, found, "the user already exists")
			}
			if unanswered > r.MaxRetries {
				return outcome{status: report.Failed, code: CodeUnknownFate,
					reason: fmt.Sprintf("no answer from the tenant after %s, and the user is not found by email", words.Count(unanswered, "attempt"))}, nil
			}
			continue // not created: sending again cannot create it twice
		case v.Action == management.FailRecord && management.IsConflict(err):
			if maybeSent {
				// An unanswered attempt may have created it after all.
				found, lerr := r.lookup(ctx, rec.User.Email)
				if lerr != nil && lerr != errNoEmail {
					return outcome{}, lerr
				}
				if found != nil && r.ours(found) {
					return outcome{status: report.Created, userID: found.UserID}, nil
				}
			}
			return r.existing(ctx, rec, nil, v.Reason)
		}
		return r.refused(v)
	}
}

// existing settles a user that is already in the tenant: skipped, or with
// upsert updated from the input.
func (r *Runner) existing(ctx context.Context, rec *input.Record, found *management.User, why string) (outcome, error) {
	if !r.Upsert {
		return outcome{status: report.Skipped, code: CodeUserExists, reason: why}, nil
	}
	if found == nil {
		var err error
		found, err = r.lookup(ctx, rec.User.Email)
		if err == errNoEmail || (err == nil && found == nil) {
			return outcome{status: report.Failed, code: CodeUserExists,
				reason: why + "; it could not be found by email in connection " + r.Connection + " to update it"}, nil
		}
		if err != nil {
			return outcome{}, err
		}
	}
	req := r.updateRequest(rec, found)
	for attempt := 1; ; attempt++ {
		u, err := r.API.UpdateUser(ctx, found.UserID, req)
		if err == nil {
			id := u.UserID
			if id == "" {
				id = found.UserID
			}
			return outcome{status: report.Updated, userID: id}, nil
		}
		if ctx.Err() != nil {
			return outcome{}, ctx.Err()
		}
		// The same PATCH twice has the same effect: safe to send again.
		v := management.Classify(err)
		if v.Action == management.ReadBack && attempt <= r.MaxRetries {
			continue
		}
		if v.Action == management.ReadBack {
			return outcome{status: report.Failed, userID: found.UserID, code: CodeUnknownFate,
				reason: fmt.Sprintf("no answer from the tenant to the update after %s", words.Count(attempt, "attempt"))}, nil
		}
		o, ferr := r.refused(v)
		o.userID = found.UserID
		return o, ferr
	}
}

// refused turns a verdict into a failed outcome, or the error that stops the
// run: an answer about the run rather than the record (401, 403, 429, 5xx,
// a refused custom domain, a missing scope), or the tenant unreachable, fails
// every later request alike. A Retry (the import-job limit) has no wait here
// and stops the run too.
func (r *Runner) refused(v management.Verdict) (outcome, error) {
	switch v.Action {
	case management.FailRecord:
		return outcome{status: report.Failed, code: v.Code, reason: v.Reason}, nil
	case management.ReadBack:
		return outcome{status: report.Failed, code: CodeUnknownFate, reason: "no answer from the tenant"}, nil
	}
	return outcome{}, v.Err
}

// lookup finds the user with this email in the run's connection (nil if
// none). Database connections store emails lower-cased and the lookup is
// case-sensitive, so it asks for the lower-cased address.
func (r *Runner) lookup(ctx context.Context, email string) (*management.User, error) {
	if email == "" {
		return nil, errNoEmail
	}
	users, err := r.API.UsersByEmail(ctx, strings.ToLower(email))
	if err != nil {
		// v.Err is err, or its typed form (custom domain, missing scope).
		return nil, fmt.Errorf("looking the user up by email: %w", management.Classify(err).Err)
	}
	for i := range users {
		for _, id := range users[i].Identities {
			if id.Connection == r.Connection {
				return &users[i], nil
			}
		}
	}
	// The tenant lists identities on every user; without them, trust the
	// only answer.
	if len(users) == 1 && len(users[0].Identities) == 0 {
		return &users[0], nil
	}
	return nil, nil
}

// ours: the user was created by this run (at or after it began).
func (r *Runner) ours(u *management.User) bool {
	return u.CreatedAt != nil && !u.CreatedAt.Before(r.RunStarted)
}
