package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"strings"
	"time"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/management"
)

// finish runs an import job to its end at j.doneAt: the injected failure,
// or every user processed. Callers hold s.mu.
func (s *Server) finish(j *job) {
	switch j.typ {
	case typeVerification:
		finishVerification(j)
		return
	case typeExport:
		s.finishExport(j)
		return
	}
	if n := s.cfg.Faults.FailEveryNthJob; n > 0 && j.seq%n == 0 {
		j.final, j.details = management.JobFailed, FailedJobDetails
		j.users = nil
		return
	}
	j.final, j.summary = management.JobCompleted, s.process(j, j.users, j.doneAt)
	j.users = nil
}

// timeOut fails an import job still running at its 2-hour deadline. The
// users it processed by then, in proportion to its processing time (the
// second half of its run, as percentage_done shows), stay processed:
// Auth0 says a timed-out job may have inserted some. Callers hold s.mu.
func (s *Server) timeOut(j *job, deadline time.Time) {
	start := j.doneAt.Add(-j.doneAt.Sub(j.created) / 2)
	n := 0
	if deadline.After(start) {
		n = int(int64(len(j.users)) * int64(deadline.Sub(start)) / int64(j.doneAt.Sub(start)))
	}
	s.process(j, j.users[:n], deadline)
	j.final, j.details, j.users = management.JobFailed, TimedOutJobDetails, nil
}

// process imports users at time at: per-user validation, duplicate
// detection, insert and upsert. Invalid users never fail the job; they
// count in summary.failed and are listed among its errors.
func (s *Server) process(j *job, users []json.RawMessage, at time.Time) *management.JobSummary {
	sum := &management.JobSummary{Total: len(users)}
	seen := map[string]bool{}
	at = at.UTC().Truncate(time.Millisecond)
	for _, raw := range users {
		u, echo, probs := validateImportUser(raw)
		fail := func(ps ...problem) {
			j.errors = append(j.errors, userError{User: echo, Errors: ps})
			sum.Failed++
		}
		if len(probs) > 0 {
			fail(probs...)
			continue
		}
		key := strings.ToLower(u.Email)
		if seen[key] {
			fail(problem{Code: "DUPLICATED_USER", Message: "The user is duplicated in the same import file"})
			continue
		}
		seen[key] = true
		existing := s.findByEmail(j.connName, u.Email)
		if u.Username != "" {
			if other := s.findByUsername(j.connName, u.Username); other != nil && !sameUser(other, existing) {
				fail(problem{Code: "CONFLICT_USERNAME", Message: "The username provided is in use already."})
				continue
			}
		}
		switch {
		case existing != nil && !j.upsert:
			fail(problem{Code: "DUPLICATED_USER", Message: DuplicatedUserMessage})
		case existing != nil && s.cfg.RefuseHashUpsert && (u.PasswordHash != "" || u.CustomPasswordHash != nil):
			// Hashes are insert-only: every user of a database connection
			// has one (an import without gets a random one), and, says a
			// support article, Auth0 fails an upsert that sends another
			// (auth0-facts.md; it gives the message and no code, so none
			// is made up here).
			fail(problem{Message: PasswordHashDefinedMessage})
		case existing != nil:
			upsertUser(existing, u, at)
			s.users.save(existing, existing.user.Email)
			sum.Updated++
		default:
			id := "auth0|" + u.UserID
			if u.UserID == "" {
				id = "auth0|" + s.hex(24)
			}
			if s.users.byID(id) != nil {
				fail(problem{Code: "CONFLICT", Message: "The user_id is already in use by another user."})
				continue
			}
			s.users.add(newImportedUser(u, id, j.connName, at))
			sum.Inserted++
		}
	}
	return sum
}

func newImportedUser(u *input.User, id, connection string, at time.Time) *storedUser {
	email := strings.ToLower(u.Email)
	mu := management.User{
		UserID: id, Email: email, EmailVerified: boolPtr(u.EmailVerified != nil && *u.EmailVerified),
		Username: u.Username, PhoneNumber: u.PhoneNumber, GivenName: u.GivenName, FamilyName: u.FamilyName,
		Name: orDefault(u.Name, email), Nickname: orDefault(u.Nickname, strings.SplitN(email, "@", 2)[0]),
		Picture: u.Picture, Blocked: u.Blocked, CreatedAt: &at, UpdatedAt: &at,
		Identities:   []management.Identity{identityFor(id, connection)},
		UserMetadata: maps.Clone(u.UserMetadata), AppMetadata: maps.Clone(u.AppMetadata),
	}
	su := &storedUser{user: mu, connection: connection, hasPassword: u.PasswordHash != "" || u.CustomPasswordHash != nil,
		hashSHA256: hashFingerprint(u)}
	if u.PasswordHash != "" {
		su.passwordHash, su.passwordSet = u.PasswordHash, at
	}
	return su
}

// PasswordHashDefinedMessage is Auth0's per-user error for a password hash
// sent in an upsert of a user who has one (support article "Auth0 Bulk
// User Import Without Password Hashes").
const PasswordHashDefinedMessage = "A custom_password_hash was provided, but the user already has password hash defined"

// hashFingerprint is the SHA-256 of the hash u was imported with (hex; ""
// without one), so that tests can tell which hash a user got without the
// tenant keeping or showing the hash itself.
func hashFingerprint(u *input.User) string {
	v := u.PasswordHash
	if h := u.CustomPasswordHash; v == "" && h != nil && h.Hash != nil {
		v = h.Hash.Value
	}
	if v == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

// upsertUser applies an import upsert: given attributes replace the stored
// ones and metadata objects are overwritten, not merged. Password hashes are
// insert-only and ignored here.
func upsertUser(su *storedUser, u *input.User, at time.Time) {
	m := &su.user
	setIf(&m.Username, u.Username)
	setIf(&m.PhoneNumber, u.PhoneNumber)
	setIf(&m.GivenName, u.GivenName)
	setIf(&m.FamilyName, u.FamilyName)
	setIf(&m.Name, u.Name)
	setIf(&m.Nickname, u.Nickname)
	setIf(&m.Picture, u.Picture)
	if u.EmailVerified != nil {
		m.EmailVerified = boolPtr(*u.EmailVerified)
	}
	if u.Blocked != nil {
		m.Blocked = boolPtr(*u.Blocked)
	}
	if u.UserMetadata != nil {
		m.UserMetadata = maps.Clone(u.UserMetadata)
	}
	if u.AppMetadata != nil {
		m.AppMetadata = maps.Clone(u.AppMetadata)
	}
	m.UpdatedAt = &at
}
