package sandbox

// The password-hash export, as Auth0 support delivers it (auth0-facts.md
// "The password-hash export"; support article "How to Use the Password
// Hashes Export from Auth0", community 58730): NDJSON, one user per line,
// `{"_id":{"$oid":…},"email_verified":…,"email":…,"passwordHash":"$2b$10$…",
// "password_set_date":{"$date":…},"tenant":…,"connection":…,
// "_tmp_is_unique":true,"identifiers":[{"type":"email","value":…,
// "verified":…}],"alt_id":…}`. "Every user will have an _id field, while
// the alt_id is optional": a user whose id Auth0 generated (24 hex
// digits after "auth0|") is auth0|_id; one whose id was given (an import's
// user_id, a custom database) has it as alt_id, and the _id is Auth0's
// internal one. Only users with a password have a line. The export is a
// file Auth0 support hands over, never an API: the sandbox writes it at
// start (`a0bulk sandbox --hash-export FILE`, of the seeded users) and
// serves it at GET /sandbox/hash-export (of the users it holds then).

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// hashExportPath serves the export.
const hashExportPath = "/sandbox/hash-export"

// bcryptCost is Auth0's: bcrypt with 10 salt rounds.
const bcryptCost = 10

// keepPassword keeps the bcrypt hash of password as su's, when the tenant
// keeps them (Config.KeepPasswordHashes). Callers hold s.mu.
func (s *Server) keepPassword(su *storedUser, password string, at time.Time) {
	if !s.cfg.KeepPasswordHashes {
		return
	}
	// bcrypt refuses only passwords over 72 bytes; Auth0 takes at most 72.
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return
	}
	// Go writes the $2a$ variant; Auth0's (node's bcrypt) is $2b$, the same
	// hash for any password under 255 bytes.
	su.passwordHash, su.passwordSet = "$2b$"+strings.TrimPrefix(string(h), "$2a$"), at
}

// PasswordHash returns the bcrypt hash the tenant holds for the user with
// userID (for tests: a migrate with hashes carried them over), and whether
// it holds one.
func (s *Server) PasswordHash(userID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceJobs(s.clock.Now())
	su := s.users.byID(userID)
	if su == nil || su.passwordHash == "" {
		return "", false
	}
	return su.passwordHash, true
}

// hashLine is one line of the export, its keys in Auth0's order.
type hashLine struct {
	ID            oid          `json:"_id"`
	EmailVerified bool         `json:"email_verified"`
	Email         string       `json:"email,omitempty"`
	PasswordHash  string       `json:"passwordHash"`
	PasswordSet   date         `json:"password_set_date"`
	Tenant        string       `json:"tenant"`
	Connection    string       `json:"connection"`
	Unique        bool         `json:"_tmp_is_unique"`
	Identifiers   []identifier `json:"identifiers"`
	AltID         string       `json:"alt_id,omitempty"`
}

type oid struct {
	OID string `json:"$oid"`
}

type date struct {
	Date string `json:"$date"`
}

type identifier struct {
	Type     string `json:"type"`
	Value    string `json:"value"`
	Verified bool   `json:"verified"`
}

// objectID is an id Auth0 generated: 24 hex digits (a MongoDB ObjectId).
var objectID = regexp.MustCompile(`^[0-9a-f]{24}$`)

// hashLineOf is su's line, or false when su has no hash.
func hashLineOf(su *storedUser) (hashLine, bool) {
	if su.passwordHash == "" {
		return hashLine{}, false
	}
	u := su.user
	verified := u.EmailVerified != nil && *u.EmailVerified
	l := hashLine{
		EmailVerified: verified, Email: u.Email, PasswordHash: su.passwordHash,
		PasswordSet: date{timestamp(su.passwordSet)}, Tenant: tenantName, Connection: su.connection, Unique: true,
	}
	if u.Email != "" {
		l.Identifiers = []identifier{{Type: "email", Value: u.Email, Verified: verified}}
	}
	id := strings.TrimPrefix(u.UserID, "auth0|")
	if objectID.MatchString(id) {
		l.ID.OID = id
	} else {
		// A given id is the alt_id; the internal _id is derived from it,
		// so that the same tenant writes the same file.
		sum := sha256.Sum256([]byte(u.UserID))
		l.ID.OID, l.AltID = hex.EncodeToString(sum[:12]), id
	}
	return l, true
}

// WriteHashExport writes the password-hash export of every user the
// tenant holds with a password hash, in creation order, a batch at a time
// (the lock is not held while w writes), and returns how many it wrote.
func (s *Server) WriteHashExport(w io.Writer) (int, error) {
	const batch = 1000
	bw := bufio.NewWriterSize(w, 64<<10)
	n := 0
	for from := 0; ; from += batch {
		var lines []hashLine
		s.mu.Lock()
		if from == 0 {
			s.advanceJobs(s.clock.Now())
		}
		total := s.users.count()
		i := from
		s.users.each(from, func(su *storedUser) bool {
			if l, ok := hashLineOf(su); ok {
				lines = append(lines, l)
			}
			i++
			return i < from+batch
		})
		s.mu.Unlock()
		for _, l := range lines {
			b, _ := json.Marshal(l) // plain fields: cannot fail
			if _, err := bw.Write(append(b, '\n')); err != nil {
				return n, err
			}
			n++
		}
		if from+batch >= total {
			return n, bw.Flush()
		}
	}
}

// serveHashExport is GET /sandbox/hash-export: the export of the users the
// tenant holds now.
func (s *Server) serveHashExport(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	_, _ = s.WriteHashExport(w)
}

// WriteHashExportFile writes the export to path, a new file (0600, never
// through a symbolic link, never over an existing file: it holds every
// user's password hash), and returns how many users it holds.
func (s *Server) WriteHashExportFile(path string) (int, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if errors.Is(err, os.ErrExist) {
		return 0, fmt.Errorf("%s exists: the sandbox never overwrites a file (remove it, or choose another name)", path)
	}
	if err != nil {
		return 0, err
	}
	n, err := s.WriteHashExport(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return 0, fmt.Errorf("writing %s: %w", path, err)
	}
	return n, nil
}
