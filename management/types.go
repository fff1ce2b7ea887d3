// Package management is a small, typed client for the parts of the Auth0
// Management API v2 that a0bulk uses. It knows no workflow: no chunks, no
// reports, no retries of its own (pacing and retries live in throttle/).
package management

import "time"

// Job status values as the API spells them.
const (
	JobPending    = "pending"
	JobProcessing = "processing"
	JobCompleted  = "completed"
	JobFailed     = "failed"
	JobExpired    = "expired"
)

// Job is GET /api/v2/jobs/{id} and the 201/202 bodies of the job-creating
// endpoints. Unknown fields are ignored: the recorded job carries
// `connection`, which the SDK models lack, and Auth0 adds fields over time.
type Job struct {
	ID              string      `json:"id"`
	Type            string      `json:"type"`
	Status          string      `json:"status"`
	CreatedAt       *time.Time  `json:"created_at,omitempty"`
	ConnectionID    string      `json:"connection_id,omitempty"`
	Connection      string      `json:"connection,omitempty"`
	ExternalID      string      `json:"external_id,omitempty"`
	Location        string      `json:"location,omitempty"`
	PercentageDone  *int        `json:"percentage_done,omitempty"`
	TimeLeftSeconds *int        `json:"time_left_seconds,omitempty"`
	StatusDetails   string      `json:"status_details,omitempty"`
	Summary         *JobSummary `json:"summary,omitempty"`
	// Format, Limit and Fields are an export job's (users_export): what
	// it was asked for, echoed. Auth0 reports no count of the users it
	// exported: Summary is an import job's only.
	Format string        `json:"format,omitempty"`
	Limit  int           `json:"limit,omitempty"`
	Fields []ExportField `json:"fields,omitempty"`
}

// Done reports whether the job has reached a final status.
func (j *Job) Done() bool {
	switch j.Status {
	case JobCompleted, JobFailed, JobExpired:
		return true
	}
	return false
}

// Job types as the API spells them.
const (
	JobTypeImport       = "users_import"
	JobTypeExport       = "users_export"
	JobTypeVerification = "verification_email"
)

// Export file formats of POST /jobs/users-exports: json is NDJSON, one
// user per line; csv has a header row.
const (
	ExportJSON = "json"
	ExportCSV  = "csv"
)

// ExportField is one element of an export job's fields: a user attribute
// (a path such as "user_metadata.country" or "identities[0].connection")
// and, optionally, the name it is exported under.
type ExportField struct {
	Name     string `json:"name"`
	ExportAs string `json:"export_as,omitempty"`
}

// ExportRequest is the JSON body of POST /api/v2/jobs/users-exports.
// Without ConnectionID every connection is exported; without Limit every
// user; without Fields Auth0's predefined set (undocumented).
type ExportRequest struct {
	ConnectionID string        `json:"connection_id,omitempty"`
	Format       string        `json:"format,omitempty"`
	Limit        int           `json:"limit,omitempty"`
	Fields       []ExportField `json:"fields,omitempty"`
}

// JobSummary is the per-job tally of an import job.
type JobSummary struct {
	Failed   int `json:"failed"`
	Updated  int `json:"updated"`
	Inserted int `json:"inserted"`
	Total    int `json:"total"`
}

// UserImportError is one element of the per-user form of GET /jobs/{id}/errors.
// User holds what the tenant echoed back of the submitted user, with sensitive
// values masked as "*****"; a0bulk only relies on email and user_id.
type UserImportError struct {
	User   ImportErrorUser   `json:"user"`
	Errors []ImportErrorItem `json:"errors"`
}

// ImportErrorUser is the echoed user in a UserImportError.
type ImportErrorUser struct {
	Email  string `json:"email,omitempty"`
	UserID string `json:"user_id,omitempty"`
	// Rest keeps the remaining echoed properties for display.
	Rest map[string]any `json:"-"`
}

// ImportErrorItem is one reason a user was refused by an import job.
type ImportErrorItem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Path    string `json:"path,omitempty"`
}

// JobErrorsKind says which member of the errors union a response was.
type JobErrorsKind int

const (
	// JobErrorsNone: 204 No Content, an empty 200 body, or an empty array:
	// nothing failed.
	JobErrorsNone JobErrorsKind = iota
	// JobErrorsUsers: a non-empty list of per-user import errors.
	JobErrorsUsers
	// JobErrorsFailure: the whole job failed; Failure says why.
	JobErrorsFailure
)

func (k JobErrorsKind) String() string {
	switch k {
	case JobErrorsNone:
		return "none"
	case JobErrorsUsers:
		return "users"
	case JobErrorsFailure:
		return "failure"
	}
	return "unknown"
}

// JobErrors is the union returned by GET /api/v2/jobs/{id}/errors. Switch on
// Kind: Users is set only for JobErrorsUsers, Failure only for JobErrorsFailure.
type JobErrors struct {
	Kind    JobErrorsKind
	Users   []UserImportError
	Failure *Job
}

// ImportRequest is the multipart form of POST /api/v2/jobs/users-imports.
type ImportRequest struct {
	ConnectionID string
	// Users is the file part: a JSON array of import users, at most 500 KB.
	Users               []byte
	Upsert              bool
	ExternalID          string
	SendCompletionEmail bool
}

// Connection is an element of GET /api/v2/connections.
type Connection struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Strategy string            `json:"strategy"`
	Options  ConnectionOptions `json:"options"`
}

// ConnectionOptions holds the options a0bulk looks at.
type ConnectionOptions struct {
	RequiresUsername bool `json:"requires_username,omitempty"`
}

// IsDatabase reports whether users of this connection live in Auth0's store.
func (c *Connection) IsDatabase() bool { return c.Strategy == "auth0" }

// ConnectionList is the include_totals=true form of GET /connections.
type ConnectionList struct {
	Total       int          `json:"total"`
	Start       int          `json:"start"`
	Limit       int          `json:"limit"`
	Connections []Connection `json:"connections"`
}

// User is the subset of the user object a0bulk reads back.
type User struct {
	UserID        string         `json:"user_id"`
	Email         string         `json:"email,omitempty"`
	EmailVerified *bool          `json:"email_verified,omitempty"`
	Username      string         `json:"username,omitempty"`
	PhoneNumber   string         `json:"phone_number,omitempty"`
	GivenName     string         `json:"given_name,omitempty"`
	FamilyName    string         `json:"family_name,omitempty"`
	Name          string         `json:"name,omitempty"`
	Nickname      string         `json:"nickname,omitempty"`
	Picture       string         `json:"picture,omitempty"`
	Blocked       *bool          `json:"blocked,omitempty"`
	CreatedAt     *time.Time     `json:"created_at,omitempty"`
	UpdatedAt     *time.Time     `json:"updated_at,omitempty"`
	Identities    []Identity     `json:"identities,omitempty"`
	UserMetadata  map[string]any `json:"user_metadata,omitempty"`
	AppMetadata   map[string]any `json:"app_metadata,omitempty"`
}

// Identity is one element of a user's identities.
type Identity struct {
	Connection string `json:"connection"`
	UserID     string `json:"user_id"`
	Provider   string `json:"provider"`
	IsSocial   bool   `json:"isSocial"`
}

// CreateUserRequest is the body of POST /api/v2/users. Password is plaintext
// and must never be logged; String() hides it.
type CreateUserRequest struct {
	Connection    string         `json:"connection"`
	Email         string         `json:"email,omitempty"`
	Password      string         `json:"password,omitempty"`
	Username      string         `json:"username,omitempty"`
	UserID        string         `json:"user_id,omitempty"`
	PhoneNumber   string         `json:"phone_number,omitempty"`
	EmailVerified *bool          `json:"email_verified,omitempty"`
	VerifyEmail   *bool          `json:"verify_email,omitempty"`
	PhoneVerified *bool          `json:"phone_verified,omitempty"`
	GivenName     string         `json:"given_name,omitempty"`
	FamilyName    string         `json:"family_name,omitempty"`
	Name          string         `json:"name,omitempty"`
	Nickname      string         `json:"nickname,omitempty"`
	Picture       string         `json:"picture,omitempty"`
	Blocked       *bool          `json:"blocked,omitempty"`
	UserMetadata  map[string]any `json:"user_metadata,omitempty"`
	AppMetadata   map[string]any `json:"app_metadata,omitempty"`
}

// String never prints the password.
func (r CreateUserRequest) String() string {
	return "CreateUserRequest{connection=" + r.Connection + " email=" + r.Email + "}"
}

// UpdateUserRequest is the body of PATCH /api/v2/users/{id}. Only set fields
// are sent. Connection is required by Auth0 when email, username or password
// change.
type UpdateUserRequest struct {
	Connection    string         `json:"connection,omitempty"`
	Email         string         `json:"email,omitempty"`
	Password      string         `json:"password,omitempty"`
	Username      string         `json:"username,omitempty"`
	PhoneNumber   string         `json:"phone_number,omitempty"`
	EmailVerified *bool          `json:"email_verified,omitempty"`
	VerifyEmail   *bool          `json:"verify_email,omitempty"`
	PhoneVerified *bool          `json:"phone_verified,omitempty"`
	GivenName     string         `json:"given_name,omitempty"`
	FamilyName    string         `json:"family_name,omitempty"`
	Name          string         `json:"name,omitempty"`
	Nickname      string         `json:"nickname,omitempty"`
	Picture       string         `json:"picture,omitempty"`
	Blocked       *bool          `json:"blocked,omitempty"`
	UserMetadata  map[string]any `json:"user_metadata,omitempty"`
	AppMetadata   map[string]any `json:"app_metadata,omitempty"`
}

// String never prints the password.
func (r UpdateUserRequest) String() string {
	return "UpdateUserRequest{email=" + r.Email + "}"
}

// VerificationEmailRequest is the body of POST /api/v2/jobs/verification-email.
type VerificationEmailRequest struct {
	UserID         string        `json:"user_id"`
	ClientID       string        `json:"client_id,omitempty"`
	Identity       *UserIdentity `json:"identity,omitempty"`
	OrganizationID string        `json:"organization_id,omitempty"`
}

// UserIdentity selects one identity of a user with several.
type UserIdentity struct {
	UserID       string `json:"user_id"`
	Provider     string `json:"provider"`
	ConnectionID string `json:"connection_id,omitempty"`
}

// TokenResponse is the body of a successful POST /oauth/token.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
	TokenType   string `json:"token_type"`
}
