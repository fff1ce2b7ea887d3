package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
)

// VerifyAPI is the part of the Management API the Verifier uses. The client
// behind it carries the Auth0-Custom-Domain header, when one is configured.
type VerifyAPI interface {
	SendVerificationEmail(ctx context.Context, r management.VerificationEmailRequest) (*management.Job, error)
	UsersByEmail(ctx context.Context, email string) ([]management.User, error)
	// Job reads a verification job back (GET /api/v2/jobs/{id}).
	Job(ctx context.Context, id string) (*management.Job, error)
}

// Codes of verification_failed lines a0bulk writes itself.
const (
	CodeUserNotFound = "USER_NOT_FOUND"
	CodeAmbiguous    = "AMBIGUOUS_USER"
	CodeUnknownFate  = "UNKNOWN_FATE"
)

// Verifier sends verification emails, one job per user. A job is only a
// request: the Verifier journals it (verification_sending with its job id),
// reads it back in the background (verifywait.go) and journals
// verification_sent only when it completed, verification_failed otherwise.
// Safe for concurrent use; call Wait after the last Send or Resume.
type Verifier struct {
	API     VerifyAPI
	Journal report.Journal
	// ClientID selects the application whose email template and links the
	// email uses (optional).
	ClientID string
	// Connection, when set, picks the user of that connection when an email
	// belongs to several users (optional).
	Connection string
	// Clock stamps the lines and paces the job reads (default: the wall
	// clock).
	Clock clock.Clock
	// FirstRead is the wait before a new job is first read back (default
	// DefaultVerifyFirstRead); later reads back off as Wait's do.
	FirstRead time.Duration
	// MaxInFlight bounds the jobs being read back at once (default
	// DefaultVerifyInFlight): beyond it Send waits for one to end.
	MaxInFlight int
	// MaxReads bounds the job reads in flight at once (default
	// DefaultVerifyReads), so polls never crowd the paced client.
	MaxReads int

	mu sync.Mutex
	// cache holds recent lookups by email (a retried send looks its user up
	// again). It is emptied when it reaches lookupCacheMax entries: a
	// verify of 10M users must not remember all of them.
	cache map[string][]management.User
	bg    background
}

// lookupCacheMax bounds Verifier.cache.
const lookupCacheMax = 4096

// Send requests one verification email and hands its job to the background,
// which reads it back under ctx (so ctx must last as long as the run). With
// userID "" the user is looked up by email (results are cached). Per-user
// failures are journalled and Send returns nil; it returns an error only
// when the run must stop: a *management.CustomDomainError, a
// *management.MissingScopeError, another answer about the run (401, 403,
// 429, 5xx; see management.Classify), a journal failure, ctx, or such an
// error met earlier while reading a job back.
func (v *Verifier) Send(ctx context.Context, key report.Key, email, userID string) error {
	if err := v.bg.failure(); err != nil {
		return err
	}
	line := report.At(key)
	line.Email, line.UserID = email, userID
	if userID == "" {
		u, code, reason, err := v.resolve(ctx, email)
		if err != nil {
			return err
		}
		if u == nil {
			return v.write(line, report.VerificationFailed, "", code, reason)
		}
		line.UserID = u.UserID
		if u.EmailVerified != nil && *u.EmailVerified {
			// Auth0 emails a verified user all the same: the job only
			// asks for the email.
			return v.write(line, report.VerificationSkipped, "", report.CodeEmailVerified, "the tenant says this email is already verified: not emailed")
		}
	}
	// The read-back slot is taken before the request: a job once asked for
	// is always read back (or left, with its id, to a resume).
	if err := v.hold(ctx); err != nil {
		return err
	}
	job, err := v.request(ctx, line)
	if err != nil || job == nil {
		v.bg.release()
		return err
	}
	v.readBack(ctx, line, job.ID, true)
	return nil
}

// Resume reads back the job of an email an earlier run requested (its
// verification_sending line carries jobID), instead of sending it again,
// and journals its outcome as Send does. Errors are Send's.
func (v *Verifier) Resume(ctx context.Context, key report.Key, email, userID, jobID string) error {
	if err := v.bg.failure(); err != nil {
		return err
	}
	if err := v.hold(ctx); err != nil {
		return err
	}
	line := report.At(key)
	line.Email, line.UserID = email, userID
	v.readBack(ctx, line, jobID, false)
	return nil
}

// request POSTs the verification job, journalled before (verification_sending)
// and after (the same, with the job id). It returns a nil job when the
// outcome is journalled already (a refusal, or no answer).
func (v *Verifier) request(ctx context.Context, line report.Entry) (*management.Job, error) {
	if err := v.write(line, report.VerificationSending, "", "", ""); err != nil {
		return nil, err
	}
	job, err := v.API.SendVerificationEmail(ctx, management.VerificationEmailRequest{UserID: line.UserID, ClientID: v.ClientID})
	if err != nil {
		return nil, v.refused(ctx, line, err)
	}
	if job.ID == "" {
		return nil, v.write(line, report.VerificationFailed, "", CodeUnknownFate,
			"the tenant accepted the request but named no job to read back: the email may or may not have been sent")
	}
	return job, v.write(line, report.VerificationSending, job.ID, "", "")
}

// refused journals a request that got no job, or returns the error that
// stops the run.
func (v *Verifier) refused(ctx context.Context, line report.Entry, err error) error {
	verdict, stop := v.classify(ctx, err)
	if stop != nil {
		return fmt.Errorf("sending a verification email to %s: %w", line.Email, stop)
	}
	switch verdict.Action {
	case management.ReadBack:
		// Sending again could email the user twice; say so instead.
		return v.write(line, report.VerificationFailed, "", CodeUnknownFate, "no answer from the tenant: the email may or may not have been sent")
	case management.FailRecord:
		return v.write(line, report.VerificationFailed, "", verdict.Code, verdict.Reason)
	}
	return v.write(line, report.VerificationFailed, "", "REQUEST_FAILED", err.Error())
}

// classify returns err's verdict and, when the run must stop, the error to
// stop with (nil otherwise). Unlike management.Classify, a request that never
// reached the tenant (no answer, nothing typed in the chain) only fails this
// user: the verification_failed line lets a later verify send it again.
func (v *Verifier) classify(ctx context.Context, err error) (management.Verdict, error) {
	if ctx.Err() != nil {
		return management.Verdict{Action: management.StopRun, Err: ctx.Err()}, ctx.Err()
	}
	verdict := management.Classify(err)
	switch verdict.Action {
	case management.FailRecord, management.ReadBack:
		return verdict, nil
	}
	if unanswered(err) {
		return verdict, nil
	}
	// StopRun, or Retry: the job limit is for imports and has no wait here.
	return verdict, verdict.Err
}

// unanswered: err carries no answer from the tenant (no *APIError, nor a
// typed refusal, in its chain).
func unanswered(err error) bool {
	if _, ok := management.AsAPIError(err); ok {
		return false
	}
	var cd *management.CustomDomainError
	var ms *management.MissingScopeError
	return !errors.As(err, &cd) && !errors.As(err, &ms)
}

// resolve finds the user of email: (nil, code, reason, nil) when there is
// no single answer.
func (v *Verifier) resolve(ctx context.Context, email string) (u *management.User, code, reason string, err error) {
	key := strings.ToLower(email)
	v.mu.Lock()
	users, cached := v.cache[key]
	v.mu.Unlock()
	if !cached {
		users, err = v.API.UsersByEmail(ctx, key)
		if err != nil {
			if _, stop := v.classify(ctx, err); stop != nil {
				return nil, "", "", fmt.Errorf("looking up %s: %w", email, stop)
			}
			return nil, "LOOKUP_FAILED", "looking the user up by email: " + err.Error(), nil
		}
		v.mu.Lock()
		if v.cache == nil {
			v.cache = map[string][]management.User{}
		}
		if len(v.cache) >= lookupCacheMax {
			clear(v.cache)
		}
		v.cache[key] = users
		v.mu.Unlock()
	}
	switch {
	case len(users) == 0:
		return nil, CodeUserNotFound, "user not found", nil
	case len(users) == 1:
		return &users[0], "", "", nil
	}
	if v.Connection != "" {
		for i, u := range users {
			for _, idn := range u.Identities {
				if idn.Connection == v.Connection {
					return &users[i], "", "", nil
				}
			}
		}
	}
	return nil, CodeAmbiguous, fmt.Sprintf("%d users have this email", len(users)), nil
}

func (v *Verifier) write(e report.Entry, st report.Status, jobID, code, reason string) error {
	e.Status, e.JobID, e.Code, e.Reason, e.At = st, jobID, code, reason, v.clock().Now().UTC()
	if err := v.Journal.Record(e); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}
