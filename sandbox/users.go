package sandbox

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/a0bulk/a0bulk/management"
)

// storedUser is a user as the tenant holds it. A password is never kept:
// only whether one was given, and (hashexport.go) its bcrypt hash, as
// Auth0 keeps it, for the password-hash export.
type storedUser struct {
	user        management.User
	connection  string
	hasPassword bool
	// passwordHash is the user's bcrypt hash: imported (password_hash), seeded,
	// or made from a password when Config.KeepPasswordHashes; passwordSet
	// is when it was set. The lean store keeps neither.
	passwordHash string
	passwordSet  time.Time
	// implicitVerification: POST /users would have sent a verification email
	// because the body had neither verify_email:false nor email_verified:true.
	implicitVerification bool
	// ref is the lean store's record number + 1 (0 in the full store).
	ref uint32
	// hashSHA256 fingerprints the hash an import gave the user (full
	// store only; the lean one keeps hasPassword alone).
	hashSHA256 string
}

// SandboxUser is one element of GET /sandbox/users.
type SandboxUser struct {
	management.User
	Connection                string `json:"connection"`
	HasPassword               bool   `json:"has_password"`
	ImplicitVerificationEmail bool   `json:"implicit_verification_email,omitempty"`
	// PasswordHashSHA256 is the SHA-256 (hex) of the password hash the
	// user was imported with: which hash it got, never the hash.
	PasswordHashSHA256 string `json:"password_hash_sha256,omitempty"`
}

// AddUser seeds a pre-existing user into connection (by name). Missing
// user_id, identities and timestamps are filled in like Auth0 would.
func (s *Server) AddUser(u management.User, connection string) {
	s.addUser(u, connection, "")
}

// addUser is AddUser of a user whose password has the bcrypt hash
// passwordHash ("": none).
func (s *Server) addUser(u management.User, connection, passwordHash string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now().UTC().Truncate(time.Millisecond)
	if u.UserID == "" {
		u.UserID = "auth0|" + s.hex(24)
	}
	u.Email = strings.ToLower(u.Email)
	if u.CreatedAt == nil {
		u.CreatedAt = &now
	}
	if u.UpdatedAt == nil {
		u.UpdatedAt = u.CreatedAt
	}
	if len(u.Identities) == 0 {
		u.Identities = []management.Identity{identityFor(u.UserID, connection)}
	}
	su := &storedUser{user: u, connection: connection}
	if passwordHash != "" {
		su.hasPassword, su.passwordHash, su.passwordSet = true, passwordHash, *u.CreatedAt
	}
	s.users.add(su)
}

// Users returns every user the tenant holds, in creation order.
func (s *Server) Users() []SandboxUser {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceJobs(s.clock.Now())
	out := make([]SandboxUser, 0, s.users.count())
	s.users.each(0, func(su *storedUser) bool {
		out = append(out, su.sandboxUser())
		return true
	})
	return out
}

// streamUsers writes GET /sandbox/users a batch at a time, the lock taken
// per batch, so that a lean tenant of millions never holds them all as
// values (users added meanwhile may or may not appear).
func (s *Server) streamUsers(w http.ResponseWriter) {
	const batch = 1000
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	buf := []byte{'['}
	for from := 0; ; from += batch {
		s.mu.Lock()
		if from == 0 {
			s.advanceJobs(s.clock.Now())
		}
		i, n := from, s.users.count()
		s.users.each(from, func(su *storedUser) bool {
			if i > 0 {
				buf = append(buf, ',')
			}
			b, _ := json.Marshal(su.sandboxUser()) // plain fields: cannot fail
			buf = append(buf, b...)
			i++
			return i < from+batch
		})
		s.mu.Unlock()
		if from+batch >= n {
			buf = append(buf, ']')
		}
		if _, err := w.Write(buf); err != nil || from+batch >= n {
			return
		}
		buf = buf[:0]
	}
}

func (su *storedUser) sandboxUser() SandboxUser {
	return SandboxUser{User: copyUser(su.user), Connection: su.connection,
		HasPassword: su.hasPassword, ImplicitVerificationEmail: su.implicitVerification, PasswordHashSHA256: su.hashSHA256}
}

func copyUser(u management.User) management.User {
	u.UserMetadata = maps.Clone(u.UserMetadata)
	u.AppMetadata = maps.Clone(u.AppMetadata)
	u.Identities = append([]management.Identity(nil), u.Identities...)
	return u
}

func identityFor(userID, connection string) management.Identity {
	provider, id, ok := strings.Cut(userID, "|")
	if !ok {
		provider, id = "auth0", userID
	}
	return management.Identity{Connection: connection, UserID: id, Provider: provider}
}

// findByEmail: database connections store emails lower-cased, so matching is
// case-insensitive within one connection.
func (s *Server) findByEmail(connection, email string) *storedUser {
	return s.users.byEmail(connection, email)
}

func (s *Server) findByUsername(connection, username string) *storedUser {
	return s.users.byUsername(connection, username)
}

func (s *Server) connectionByName(name string) *management.Connection {
	for i := range s.conns {
		if s.conns[i].Name == name {
			return &s.conns[i]
		}
	}
	return nil
}

func (s *Server) connectionByID(id string) *management.Connection {
	for i := range s.conns {
		if s.conns[i].ID == id {
			return &s.conns[i]
		}
	}
	return nil
}

// getConnections is GET /api/v2/connections[?name=][&strategy=][&include_totals=true].
func (s *Server) getConnections(c *call) response {
	q := c.r.URL.Query()
	list := []management.Connection{}
	for _, conn := range s.conns {
		if (q.Has("name") && conn.Name != q.Get("name")) || (q.Has("strategy") && conn.Strategy != q.Get("strategy")) {
			continue
		}
		list = append(list, conn)
	}
	if q.Get("include_totals") == "true" {
		return reply(http.StatusOK, management.ConnectionList{Total: len(list), Start: 0, Limit: 50, Connections: list})
	}
	return reply(http.StatusOK, list)
}

// payloadError is Auth0's schema-validation 400; property, when known, is
// named the way the recorded connection_id message names it.
func payloadError(message string, property ...string) response {
	m := "Payload validation error: '" + message + "'"
	if len(property) > 0 && property[0] != "" {
		m += " on property " + property[0]
	}
	return errResp(http.StatusBadRequest, m, "invalid_body")
}

func payloadFromDecode(err error) response {
	p := describeDecodeError(err)
	if p.Code == "NOT_PASSED" { // the message already names the property
		return payloadError(p.Message)
	}
	return payloadError(p.Message, p.Path)
}

func userNotFound() response {
	return errResp(http.StatusNotFound, "The user does not exist.", "inexistent_user")
}

func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// postUser is POST /api/v2/users.
func (s *Server) postUser(c *call) response {
	var req management.CreateUserRequest
	if err := decodeStrict(c.body, &req); err != nil {
		return payloadFromDecode(err)
	}
	if req.Connection == "" {
		return payloadError("Missing required property: connection")
	}
	conn := s.connectionByName(req.Connection)
	if conn == nil {
		return errResp(http.StatusBadRequest, "The connection does not exist.", "inexistent_connection")
	}
	if !conn.IsDatabase() {
		return errResp(http.StatusBadRequest, "The connection "+conn.Name+" does not support creating users.", "operation_not_supported")
	}
	switch {
	case req.Email == "":
		return payloadError("Missing required property: email")
	case !isEmail(req.Email):
		return payloadError("Object didn't pass validation for format email: " + req.Email)
	case req.Password == "":
		return payloadError("Missing required property: password")
	case req.Username != "" && !conn.Options.RequiresUsername:
		return errResp(http.StatusBadRequest, "Cannot set username for connection without requires_username", "invalid_body")
	case req.Username == "" && conn.Options.RequiresUsername:
		return payloadError("Missing required property: username")
	case req.PhoneNumber != "" && !e164RE.MatchString(req.PhoneNumber):
		return payloadError("String does not match pattern " + e164Pattern + ": " + req.PhoneNumber)
	}
	if !passwordIsGood(req.Password) {
		return errResp(http.StatusBadRequest, "PasswordStrengthError: Password is too weak", "invalid_password")
	}
	userID := "auth0|" + req.UserID
	if req.UserID == "" {
		userID = "auth0|" + s.hex(24)
	}
	if s.findByEmail(conn.Name, req.Email) != nil || s.users.byID(userID) != nil {
		return errResp(http.StatusConflict, "The user already exists.", "auth0_idp_error")
	}
	if req.Username != "" && s.findByUsername(conn.Name, req.Username) != nil {
		return errResp(http.StatusBadRequest, "The username provided is in use already.", "auth0_idp_error")
	}
	now := c.now.UTC().Truncate(time.Millisecond)
	email := strings.ToLower(req.Email)
	u := management.User{
		UserID: userID, Email: email, EmailVerified: boolPtr(req.EmailVerified != nil && *req.EmailVerified),
		Username: req.Username, PhoneNumber: req.PhoneNumber, GivenName: req.GivenName,
		FamilyName: req.FamilyName, Name: orDefault(req.Name, email),
		Nickname: orDefault(req.Nickname, strings.SplitN(email, "@", 2)[0]), Picture: req.Picture,
		Blocked: req.Blocked, CreatedAt: &now, UpdatedAt: &now,
		Identities:   []management.Identity{identityFor(userID, conn.Name)},
		UserMetadata: req.UserMetadata, AppMetadata: req.AppMetadata,
	}
	// Auth0 sends a verification email unless told not to: verify_email
	// decides when present, else an unverified email gets one.
	sends := req.EmailVerified == nil || !*req.EmailVerified
	if req.VerifyEmail != nil {
		sends = *req.VerifyEmail
	}
	if sends {
		s.stats.implicit++
	}
	su := &storedUser{user: u, connection: conn.Name, hasPassword: true, implicitVerification: sends}
	s.keepPassword(su, req.Password, now)
	s.users.add(su)
	return reply(http.StatusCreated, copyUser(u))
}

// getUser is GET /api/v2/users/{id}.
func (s *Server) getUser(c *call) response {
	su := s.users.byID(c.id)
	if su == nil {
		return userNotFound()
	}
	return reply(http.StatusOK, copyUser(su.user))
}

// getUsersByEmail is GET /api/v2/users-by-email?email=. Like Auth0 the match
// is exact: the stored address is lower-cased, the query is not.
func (s *Server) getUsersByEmail(c *call) response {
	q := c.r.URL.Query()
	if !q.Has("email") {
		return errResp(http.StatusBadRequest, "Query validation error: 'Missing required property: email'.", "invalid_query_string")
	}
	email := q.Get("email")
	out := []management.User{}
	for _, su := range s.users.withEmail(email) {
		out = append(out, copyUser(su.user))
	}
	return reply(http.StatusOK, out)
}

// patchUser is PATCH /api/v2/users/{id}. Metadata is merged one level deep
// (a null value removes a key), as Auth0 does for PATCH.
func (s *Server) patchUser(c *call) response {
	su := s.users.byID(c.id)
	if su == nil {
		return userNotFound()
	}
	var req management.UpdateUserRequest
	if err := decodeStrict(c.body, &req); err != nil {
		return payloadFromDecode(err)
	}
	if req.Connection != "" && s.connectionByName(req.Connection) == nil {
		return errResp(http.StatusBadRequest, "The connection does not exist.", "inexistent_connection")
	}
	u := copyUser(su.user)
	if req.Email != "" {
		if !isEmail(req.Email) {
			return payloadError("Object didn't pass validation for format email: " + req.Email)
		}
		if other := s.findByEmail(su.connection, req.Email); other != nil && !sameUser(other, su) {
			return errResp(http.StatusBadRequest, "The specified new email already exists", "email_conflict")
		}
		u.Email = strings.ToLower(req.Email)
	}
	if req.Password != "" && !passwordIsGood(req.Password) {
		return errResp(http.StatusBadRequest, "PasswordStrengthError: Password is too weak", "invalid_password")
	}
	if req.Username != "" {
		conn := s.connectionByName(su.connection)
		if conn != nil && !conn.Options.RequiresUsername {
			return errResp(http.StatusBadRequest, "Cannot set username for connection without requires_username", "invalid_body")
		}
		u.Username = req.Username
	}
	setIf(&u.PhoneNumber, req.PhoneNumber)
	setIf(&u.GivenName, req.GivenName)
	setIf(&u.FamilyName, req.FamilyName)
	setIf(&u.Name, req.Name)
	setIf(&u.Nickname, req.Nickname)
	setIf(&u.Picture, req.Picture)
	if req.EmailVerified != nil {
		u.EmailVerified = boolPtr(*req.EmailVerified)
	}
	if req.Blocked != nil {
		u.Blocked = boolPtr(*req.Blocked)
	}
	u.UserMetadata = mergeMetadata(u.UserMetadata, req.UserMetadata)
	u.AppMetadata = mergeMetadata(u.AppMetadata, req.AppMetadata)
	now := c.now.UTC().Truncate(time.Millisecond)
	u.UpdatedAt = &now
	old := su.user.Email
	su.user = u
	if req.Password != "" {
		su.hasPassword = true
		s.keepPassword(su, req.Password, now)
	}
	s.users.save(su, old)
	return reply(http.StatusOK, copyUser(u))
}

func mergeMetadata(old, patch map[string]any) map[string]any {
	if patch == nil {
		return old
	}
	out := maps.Clone(old)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range patch {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func boolPtr(b bool) *bool { return &b }

// passwordIsGood is Auth0's default "good" policy: at least 8 characters
// and at least 3 of lower case, upper case, digits and special characters.
func passwordIsGood(p string) bool {
	if len([]rune(p)) < 8 {
		return false
	}
	var lower, upper, digit, special bool
	for _, r := range p {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			special = true
		}
	}
	n := 0
	for _, b := range []bool{lower, upper, digit, special} {
		if b {
			n++
		}
	}
	return n >= 3
}
