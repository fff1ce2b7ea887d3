package input

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// reservedAppMetadata are app_metadata keys Auth0 keeps for itself (prose
// rule of the import schema).
var reservedAppMetadata = map[string]bool{
	"__tenant": true, "_id": true, "blocked": true, "clientID": true, "created_at": true,
	"email_verified": true, "email": true, "globalClientID": true, "global_client_id": true,
	"identities": true, "lastIP": true, "lastLogin": true, "loginsCount": true,
	"metadata": true, "multifactor_last_modified": true, "multifactor": true,
	"updated_at": true, "user_id": true,
}

// Length caps: Auth0's profile limits where it documents them, generous
// elsewhere. They catch mis-mapped columns long before the tenant does.
var maxLen = []struct {
	field string
	get   func(*User) string
	max   int
}{
	{"email", func(u *User) string { return u.Email }, 254},
	{"given_name", func(u *User) string { return u.GivenName }, 150},
	{"family_name", func(u *User) string { return u.FamilyName }, 150},
	{"name", func(u *User) string { return u.Name }, 300},
	{"nickname", func(u *User) string { return u.Nickname }, 300},
	{"username", func(u *User) string { return u.Username }, 128},
	{"user_id", func(u *User) string { return u.UserID }, 255},
	{"picture", func(u *User) string { return u.Picture }, 2048},
}

var (
	algorithms       = set("argon2", "bcrypt", "hmac", "ldap", "md4", "md5", "sha1", "sha256", "sha512", "pbkdf2", "scrypt")
	encodings        = set("base64", "hex", "utf8")
	digests          = set("md4", "md5", "ripemd160", "sha1", "sha224", "sha256", "sha384", "sha512", "whirlpool")
	positions        = set("prefix", "suffix")
	passwordEncoding = set("ascii", "utf8", "utf16le", "ucs2", "latin1", "binary")
)

func set(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// validateUser appends to rec every schema and prose-rule violation of
// rec.User (and, in create mode, of the record's create-only shape).
func validateUser(rec *Record, mode Mode) {
	u := &rec.User
	add := func(f, format string, a ...any) {
		rec.Errors = append(rec.Errors, FieldError{Field: f, Reason: fmt.Sprintf(format, a...)})
	}
	if u.Email == "" {
		add("email", "required")
	} else if spaced(u.Email) {
		add("email", "%s", spacedReason(u.Email))
	} else if r := emailProblem(u.Email); r != "" {
		add("email", "%s", r)
	}
	for _, f := range []struct {
		name string
		v    string
	}{{"user_id", u.UserID}, {"username", u.Username}, {"phone_number", u.PhoneNumber}, {"picture", u.Picture}} {
		if spaced(f.v) {
			add(f.name, "%s", spacedReason(f.v))
		}
	}
	for _, l := range maxLen {
		// A string of at most max bytes has at most max characters.
		if s := l.get(u); len(s) > l.max && utf8.RuneCountInString(s) > l.max {
			add(l.field, "longer than %d characters", l.max)
		}
	}
	if u.Username != "" && !spaced(u.Username) && strings.ContainsAny(u.Username, " \t\r\n") {
		add("username", "contains whitespace")
	}
	if u.PhoneNumber != "" && !spaced(u.PhoneNumber) && !isE164(u.PhoneNumber) {
		add("phone_number", "not E.164 (want + then country code and number, e.g. +12125550001)")
	}
	if u.Picture != "" && !spaced(u.Picture) && !isURL(u.Picture) {
		add("picture", "not an http(s) URL")
	}
	switch {
	case spaced(u.PasswordHash):
		// Never quote the value: it is a secret.
		add("password_hash", "has spaces around it: remove them")
	case u.PasswordHash != "" && !IsPasswordHash(u.PasswordHash):
		add("password_hash", "%s", PasswordHashProblem(u.PasswordHash))
	}
	if u.PasswordHash != "" && u.CustomPasswordHash != nil {
		add("custom_password_hash", "password_hash and custom_password_hash are mutually exclusive")
	}
	if h := u.CustomPasswordHash; h != nil {
		validateCustomHash(h, add)
	}
	for k := range u.AppMetadata {
		if reservedAppMetadata[k] {
			add("app_metadata."+k, "reserved by Auth0")
		}
	}
	checkMetaKeys("app_metadata", u.AppMetadata, add)
	checkMetaKeys("user_metadata", u.UserMetadata, add)
	if u.MFAFactors != nil {
		validateMFA(u.MFAFactors, add)
	}
	if mode == ModeCreate {
		// POST /users takes a plaintext password, not hashes or factors.
		if u.PasswordHash != "" {
			add("password_hash", "not accepted by create mode (use import)")
		}
		if u.CustomPasswordHash != nil {
			add("custom_password_hash", "not accepted by create mode (use import)")
		}
		if u.MFAFactors != nil {
			add("mfa_factors", "not accepted by create mode (use import)")
		}
	}
}

// PasswordHashProblem says why s is not a password_hash Auth0 takes (never
// quoting s: it is a secret). A bcrypt hash of another cost is one
// custom_password_hash takes (algorithm bcrypt, any cost: Auth0's "Bulk
// User Import Database Schema and Examples"), and the reason says so.
func PasswordHashProblem(s string) string {
	if cost, ok := BcryptCost(s); ok {
		if cost != 10 {
			return fmt.Sprintf("bcrypt cost %d: Auth0 takes password_hash at cost 10 only; give it as custom_password_hash with algorithm bcrypt, which takes any cost", cost)
		}
		return "a $2y$ bcrypt hash: Auth0 takes password_hash as $2a$ or $2b$ only; give it as custom_password_hash with algorithm bcrypt, which takes $2y$"
	}
	return "not a bcrypt hash of cost 10 ($2a$ or $2b$, cost 10, then 53 characters)"
}

func validateCustomHash(h *CustomPasswordHash, add func(string, string, ...any)) {
	const p = "custom_password_hash."
	enum := func(f string, v string, allowed map[string]bool) {
		if v != "" && !allowed[v] {
			add(p+f, "%q is not one of the allowed values", truncate(v, 20))
		}
	}
	if h.Algorithm == "" {
		add(p+"algorithm", "required")
	} else {
		enum("algorithm", h.Algorithm, algorithms)
	}
	if h.Hash == nil {
		add(p+"hash", "required")
	} else {
		if h.Hash.Value == "" {
			add(p+"hash.value", "required")
		}
		enum("hash.encoding", h.Hash.Encoding, encodings)
		enum("hash.digest", h.Hash.Digest, digests)
		if k := h.Hash.Key; k != nil {
			if k.Value == "" {
				add(p+"hash.key.value", "required")
			}
			enum("hash.key.encoding", k.Encoding, encodings)
		}
		if h.Algorithm == "hmac" {
			if h.Hash.Key == nil {
				add(p+"hash.key", "required for hmac")
			}
			if h.Hash.Digest == "" {
				add(p+"hash.digest", "required for hmac")
			}
		}
	}
	if s := h.Salt; s != nil {
		if s.Value == "" {
			add(p+"salt.value", "required")
		}
		enum("salt.encoding", s.Encoding, encodings)
		enum("salt.position", s.Position, positions)
	}
	if h.Password != nil {
		enum("password.encoding", h.Password.Encoding, passwordEncoding)
	}
	if h.Algorithm == "scrypt" {
		if h.KeyLen == nil {
			add(p+"keylen", "required for scrypt")
		}
		if h.Cost != nil && (*h.Cost < 2 || *h.Cost&(*h.Cost-1) != 0) {
			add(p+"cost", "must be a power of two greater than one")
		}
		if h.BlockSize != nil && *h.BlockSize <= 0 {
			add(p+"blockSize", "must be positive")
		}
		if h.Parallelization != nil && *h.Parallelization <= 0 {
			add(p+"parallelization", "must be positive")
		}
	}
	if h.KeyLen != nil && *h.KeyLen <= 0 {
		add(p+"keylen", "must be greater than zero")
	}
}

func validateMFA(fs []MFAFactor, add func(string, string, ...any)) {
	if len(fs) < 1 || len(fs) > 10 {
		add("mfa_factors", "must hold 1 to 10 factors, has %d", len(fs))
	}
	for i, f := range fs {
		name := fmt.Sprintf("mfa_factors[%d]", i)
		n := 0
		if f.TOTP != nil {
			n++
			if !isBase32(f.TOTP.Secret) {
				add(name+".totp.secret", "not unpadded base32 (A-Z, 2-7)")
			}
		}
		if f.Phone != nil {
			n++
			if !isMFAPhone(f.Phone.Value) {
				add(name+".phone.value", "not a phone number (+ then up to 15 digits)")
			}
		}
		if f.Email != nil {
			n++
			if spaced(f.Email.Value) {
				add(name+".email.value", "%s", spacedReason(f.Email.Value))
			} else if r := emailProblem(f.Email.Value); r != "" {
				add(name+".email.value", "%s", r)
			}
		}
		if n != 1 {
			add(name, "must hold exactly one of totp, phone, email; has %d", n)
		}
	}
}

// checkMetaKeys: Auth0 rejects metadata property names containing '.' or
// starting with '$' (they are MongoDB-style paths on its side), at any depth.
func checkMetaKeys(path string, m map[string]any, add func(string, string, ...any)) {
	for k, v := range m {
		if strings.Contains(k, ".") || strings.HasPrefix(k, "$") || k == "" {
			add(path, "property name %q must be non-empty, without '.' and not start with '$'", truncate(k, 40))
			continue
		}
		if sub, ok := v.(map[string]any); ok {
			checkMetaKeys(path+"."+k, sub, add)
		}
	}
}

// spaced: s has spaces around it, as a spreadsheet cell often does. The
// schema takes no such email, id or number (and Auth0 would store a
// username or user_id with them), and "not an email address" alone does
// not show what is wrong, so it is said. Values are not trimmed: what is
// sent is what the input says, and the fix belongs in the source.
func spaced(s string) bool { return s != "" && strings.TrimSpace(s) != s }

func spacedReason(s string) string {
	return fmt.Sprintf("has spaces around it (%s): remove them", strconv.Quote(truncate(s, 60)))
}

func isURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// emailProblem is a pragmatic address check, not full RFC 5322: one '@', a
// dot-atom local part of at most 64 bytes, a domain of at least two
// LDH-style labels (internationalised letters allowed). It returns "" when
// the address looks deliverable.
func emailProblem(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "not an email address: no @"
	}
	local, domain := s[:at], s[at+1:]
	switch {
	case local == "":
		return "not an email address: empty local part"
	case len(local) > 64:
		return "not an email address: local part longer than 64 bytes"
	case strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, ".."):
		return "not an email address: misplaced dot in local part"
	}
	for _, r := range local {
		if r <= ' ' || r == 0x7f || r < utf8.RuneSelf && strings.IndexByte(`@"(),:;<>[\]`, byte(r)) >= 0 {
			return fmt.Sprintf("not an email address: %q not allowed in local part", r)
		}
	}
	if len(domain) > 253 {
		return "not an email address: domain too long"
	}
	if !strings.Contains(domain, ".") {
		return "not an email address: domain needs a dot"
	}
	for rest := domain; ; {
		l, after, more := strings.Cut(rest, ".")
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "not an email address: bad domain label"
		}
		for _, r := range l {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 0x7f) {
				return fmt.Sprintf("not an email address: %q not allowed in domain", r)
			}
		}
		if !more {
			return ""
		}
		rest = after
	}
}
