package create

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/management"
)

// invalidReason says why rec must not be sent ("" when it may), in the
// report's "field: reason; …" form.
func (r *Runner) invalidReason(rec *input.Record) string {
	if !rec.Valid() {
		parts := make([]string, 0, len(rec.Errors))
		for _, e := range rec.Errors {
			parts = append(parts, e.Error())
		}
		return strings.Join(parts, "; ")
	}
	if fe := MissingPassword(rec, r.RandomPassword, r.Passwordless); fe != nil {
		return fe.Error()
	}
	return ""
}

// MissingPassword is create mode's password rule: nil when rec may be sent,
// else the field error to report it invalid with. A user on a database
// connection needs a password: the record's own, or a random one
// (randomPassword); a passwordless connection takes none.
func MissingPassword(rec *input.Record, randomPassword, passwordless bool) *input.FieldError {
	if rec.Password != "" || randomPassword || passwordless {
		return nil
	}
	return &input.FieldError{
		Field:  "password",
		Reason: "required to create a user on a database connection (give a password column, use --random-password, or import password hashes with `a0bulk import`)",
	}
}

// createRequest maps an import user onto POST /users. Password hashes and
// MFA factors have no place in that endpoint and are never sent.
func (r *Runner) createRequest(rec *input.Record) (management.CreateUserRequest, error) {
	u := rec.User
	no := false
	req := management.CreateUserRequest{
		Connection:    r.Connection,
		Email:         u.Email,
		Username:      u.Username,
		UserID:        u.UserID,
		PhoneNumber:   u.PhoneNumber,
		EmailVerified: u.EmailVerified,
		// POST /users emails every new user unless told not to; with
		// VerifyEmail the Verifier sends the email after the create.
		VerifyEmail:   &no,
		PhoneVerified: u.PhoneVerified,
		GivenName:     u.GivenName,
		FamilyName:    u.FamilyName,
		Name:          u.Name,
		Nickname:      u.Nickname,
		Picture:       u.Picture,
		Blocked:       u.Blocked,
		UserMetadata:  u.UserMetadata,
		AppMetadata:   u.AppMetadata,
	}
	if !r.Passwordless {
		req.Password = rec.Password
		if req.Password == "" && r.RandomPassword {
			p, err := RandomPassword()
			if err != nil {
				return req, err
			}
			req.Password = p
		}
	}
	return req, nil
}

// updateRequest maps the input onto PATCH /users/{id} for an existing user:
// only the fields the input has. The email is how the user was found, so it
// does not change; a random password never replaces an existing one.
func (r *Runner) updateRequest(rec *input.Record, existing *management.User) management.UpdateUserRequest {
	u := rec.User
	req := management.UpdateUserRequest{
		PhoneNumber:   u.PhoneNumber,
		EmailVerified: u.EmailVerified,
		PhoneVerified: u.PhoneVerified,
		GivenName:     u.GivenName,
		FamilyName:    u.FamilyName,
		Name:          u.Name,
		Nickname:      u.Nickname,
		Picture:       u.Picture,
		Blocked:       u.Blocked,
		UserMetadata:  u.UserMetadata,
		AppMetadata:   u.AppMetadata,
	}
	if u.Username != "" && u.Username != existing.Username {
		req.Username = u.Username
	}
	if rec.Password != "" && !r.Passwordless {
		req.Password = rec.Password
	}
	if req.Username != "" || req.Password != "" {
		// Auth0 requires the connection when these change.
		req.Connection = r.Connection
	}
	return req
}

const (
	lowers   = "abcdefghijkmnopqrstuvwxyz"
	uppers   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	digits   = "23456789"
	specials = "!#$%&*+-=?@^_~"
	pwLen    = 24
)

// RandomPassword returns a password from crypto/rand that satisfies every
// Auth0 password policy up to "excellent": 24 characters, each class at
// least twice, never three identical characters in a row.
func RandomPassword() (string, error) {
	classes := []string{lowers, uppers, digits, specials}
	all := lowers + uppers + digits + specials
	for {
		b := make([]byte, 0, pwLen)
		for _, c := range classes {
			for range 2 {
				ch, err := pick(c)
				if err != nil {
					return "", err
				}
				b = append(b, ch)
			}
		}
		for len(b) < pwLen {
			ch, err := pick(all)
			if err != nil {
				return "", err
			}
			b = append(b, ch)
		}
		// Fisher–Yates, so the guaranteed characters sit anywhere.
		for i := len(b) - 1; i > 0; i-- {
			n, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
			if err != nil {
				return "", fmt.Errorf("generating a password: %w", err)
			}
			j := int(n.Int64())
			b[i], b[j] = b[j], b[i]
		}
		if !tripled(b) {
			return string(b), nil
		}
	}
}

func pick(set string) (byte, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
	if err != nil {
		return 0, fmt.Errorf("generating a password: %w", err)
	}
	return set[n.Int64()], nil
}

func tripled(b []byte) bool {
	for i := 2; i < len(b); i++ {
		if b[i] == b[i-1] && b[i] == b[i-2] {
			return true
		}
	}
	return false
}
