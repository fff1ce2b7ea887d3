// Package input turns input files into valid Auth0 import users: streaming
// readers (CSV, JSON array, NDJSON), column mapping, validation against the
// import schema and its prose rules, de-duplication and chunking. It works
// offline and never imports the Management API client.
package input

// User is one user in Auth0's bulk-import schema (import-user-schema.json).
// Field names and JSON tags are the schema's own; unknown properties are not
// representable, which is how additionalProperties:false is honoured.
type User struct {
	Email              string              `json:"email"`
	EmailVerified      *bool               `json:"email_verified,omitempty"`
	PhoneNumber        string              `json:"phone_number,omitempty"`
	PhoneVerified      *bool               `json:"phone_verified,omitempty"`
	UserID             string              `json:"user_id,omitempty"`
	Username           string              `json:"username,omitempty"`
	GivenName          string              `json:"given_name,omitempty"`
	FamilyName         string              `json:"family_name,omitempty"`
	Name               string              `json:"name,omitempty"`
	Nickname           string              `json:"nickname,omitempty"`
	Picture            string              `json:"picture,omitempty"`
	Blocked            *bool               `json:"blocked,omitempty"`
	PasswordHash       string              `json:"password_hash,omitempty"`
	CustomPasswordHash *CustomPasswordHash `json:"custom_password_hash,omitempty"`
	AppMetadata        map[string]any      `json:"app_metadata,omitempty"`
	UserMetadata       map[string]any      `json:"user_metadata,omitempty"`
	MFAFactors         []MFAFactor         `json:"mfa_factors,omitempty"`
}

// CustomPasswordHash is the schema's custom_password_hash object.
type CustomPasswordHash struct {
	Algorithm       string        `json:"algorithm"`
	Hash            *HashValue    `json:"hash"`
	Salt            *SaltValue    `json:"salt,omitempty"`
	Password        *PasswordSpec `json:"password,omitempty"`
	KeyLen          *int          `json:"keylen,omitempty"`
	Cost            *int          `json:"cost,omitempty"`
	BlockSize       *int          `json:"blockSize,omitempty"`
	Parallelization *int          `json:"parallelization,omitempty"`
}

// HashValue is custom_password_hash.hash.
type HashValue struct {
	Value    string    `json:"value"`
	Encoding string    `json:"encoding,omitempty"`
	Digest   string    `json:"digest,omitempty"`
	Key      *KeyValue `json:"key,omitempty"`
}

// KeyValue is custom_password_hash.hash.key.
type KeyValue struct {
	Value    string `json:"value"`
	Encoding string `json:"encoding,omitempty"`
}

// SaltValue is custom_password_hash.salt.
type SaltValue struct {
	Value    string `json:"value"`
	Encoding string `json:"encoding,omitempty"`
	Position string `json:"position,omitempty"`
}

// PasswordSpec is custom_password_hash.password.
type PasswordSpec struct {
	Encoding string `json:"encoding,omitempty"`
}

// MFAFactor holds exactly one of its fields.
type MFAFactor struct {
	TOTP  *TOTPFactor  `json:"totp,omitempty"`
	Phone *ValueFactor `json:"phone,omitempty"`
	Email *ValueFactor `json:"email,omitempty"`
}

// TOTPFactor is an authenticator-app secret in unpadded base32.
type TOTPFactor struct {
	Secret string `json:"secret"`
}

// ValueFactor is a phone or email MFA factor.
type ValueFactor struct {
	Value string `json:"value"`
}

// Record is one input record on its way through a0bulk. File and Line say
// where it came from (CSV: the line the record starts on; JSON array: the line
// where the object starts; NDJSON: the line) and follow it into the report,
// for people. Ordinal is what identifies it: many records can share a line
// (a minified JSON array is one line), never an ordinal.
type Record struct {
	File string
	Line int
	// Ordinal numbers the records of File from 1, in input order, counting
	// invalid ones; 0 when unknown (reports written before ordinals were
	// recorded are keyed by line alone).
	Ordinal int
	User    User
	// Password is a plaintext password from the input, used by create mode
	// only. It is never serialised into an import file or the report.
	Password string
	// HashLine is the line of the password-hash export (--hashes) the
	// user's hash was joined from; 0 when it was not. A hash from there is
	// insert-only and not part of what a sync compares.
	HashLine int
	// Errors holds every problem found while parsing, mapping or validating
	// this record. A record with errors is reported invalid and never sent.
	Errors []FieldError
}

// Valid reports whether the record may be sent to the tenant.
func (r *Record) Valid() bool { return len(r.Errors) == 0 }

// FieldError names what is wrong with one field of one record. Field uses the
// schema's dotted path (e.g. "custom_password_hash.keylen", "mfa_factors[1]");
// it is empty when the record as a whole is unreadable.
type FieldError struct {
	Field  string
	Reason string
}

func (e FieldError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return e.Field + ": " + e.Reason
}
