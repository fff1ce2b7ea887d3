package management

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// ErrConnectionNotFound: no connection of that name exists in the tenant.
var ErrConnectionNotFound = errors.New("connection not found")

// ConnectionByName resolves a connection by its name. Successful lookups are
// cached for the client's life: connection reads are rate-limited hard.
func (c *Client) ConnectionByName(ctx context.Context, name string) (*Connection, error) {
	c.mu.Lock()
	if conn, ok := c.conns[name]; ok {
		c.mu.Unlock()
		cp := *conn
		return &cp, nil
	}
	c.mu.Unlock()

	q := url.Values{"name": {name}, "include_totals": {"true"}}
	_, data, err := c.do(ctx, request{method: http.MethodGet, path: "/api/v2/connections", query: q})
	if err != nil {
		return nil, fmt.Errorf("resolving connection %q: %w", name, err)
	}
	conns, _, err := decodeConnections(data)
	if err != nil {
		return nil, fmt.Errorf("resolving connection %q: %w", name, err)
	}
	// The name filter is the server's; check it, in case it is ignored.
	for i := range conns {
		if conns[i].Name == name {
			conn, cached := conns[i], conns[i]
			c.mu.Lock()
			c.conns[name] = &cached
			c.mu.Unlock()
			return &conn, nil
		}
	}
	// The operator mistyped the name, or gave another tenant's: say which
	// connections this tenant has, where the users could go.
	names, total, lerr := c.databaseConnectionNames(ctx)
	return nil, &ConnectionNotFoundError{Name: name, Database: names, Total: total, ListErr: lerr}
}

// ConnectionNotFoundError is ErrConnectionNotFound with the tenant's
// database connections (strategy auth0), by name: the ones a0bulk could
// import into. Database is empty, with ListErr, when they could not be read.
type ConnectionNotFoundError struct {
	Name     string
	Database []string
	Total    int // database connections in the tenant; more than len(Database) when they fill more than a page
	ListErr  error
}

// shownConnections bounds the names an error lists.
const shownConnections = 10

func (e *ConnectionNotFoundError) Error() string {
	msg := fmt.Sprintf("the tenant has no connection named %q", e.Name)
	switch {
	case e.ListErr != nil:
		return msg + fmt.Sprintf(" (its database connections could not be listed: %v)", e.ListErr)
	case len(e.Database) == 0:
		return msg + ", and no database connection (strategy auth0) to import users into"
	}
	return msg + "; its database connections: " + NameList(e.Database, e.Total)
}

// NameList shows the first names of a listing of total: "a, b and 3 more".
func NameList(names []string, total int) string {
	shown := names[:min(len(names), shownConnections)]
	list := strings.Join(shown, ", ")
	if more := max(total, len(names)) - len(shown); more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	return list
}

func (e *ConnectionNotFoundError) Is(target error) bool { return target == ErrConnectionNotFound }

// databaseConnectionNames lists the names of the tenant's database
// connections, sorted: one page of at most 100 (GET /connections takes
// strategy, fields, per_page). The strategy is checked here too, in case
// the filter is ignored.
// DatabaseConnectionNames lists the tenant's database connections (strategy
// auth0), the first page of them, with their total: where users can go.
func (c *Client) DatabaseConnectionNames(ctx context.Context) ([]string, int, error) {
	return c.databaseConnectionNames(ctx)
}

func (c *Client) databaseConnectionNames(ctx context.Context) ([]string, int, error) {
	q := url.Values{"strategy": {"auth0"}, "fields": {"name,strategy"}, "include_fields": {"true"},
		"per_page": {"100"}, "page": {"0"}, "include_totals": {"true"}}
	_, data, err := c.do(ctx, request{method: http.MethodGet, path: "/api/v2/connections", query: q})
	if err != nil {
		return nil, 0, err
	}
	conns, total, err := decodeConnections(data)
	if err != nil {
		return nil, 0, err
	}
	var names []string
	for _, conn := range conns {
		if conn.IsDatabase() {
			names = append(names, conn.Name)
		}
	}
	if len(names) < len(conns) { // the filter was ignored: the total counts others
		total = len(names)
	}
	sort.Strings(names)
	return names, total, nil
}

// decodeConnections accepts both forms of GET /connections: a bare array, or
// the include_totals object.
// The total is the object's, or the array's length.
func decodeConnections(data []byte) ([]Connection, int, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var list []Connection
		err := decodeJSON(trimmed, &list, "connections")
		return list, len(list), err
	}
	var page ConnectionList
	err := decodeJSON(trimmed, &page, "connections")
	return page.Connections, page.Total, err
}

// ImportUsers starts a bulk import job. send_completion_email is always sent
// explicitly: the API defaults it to true, which a migration rarely wants.
func (c *Client) ImportUsers(ctx context.Context, r ImportRequest) (*Job, error) {
	body, ctype, err := importForm(r)
	if err != nil {
		return nil, fmt.Errorf("starting import job: %w", err)
	}
	_, data, err := c.do(ctx, request{method: http.MethodPost, path: "/api/v2/jobs/users-imports", body: body, contentType: ctype})
	if err != nil {
		return nil, fmt.Errorf("starting import job: %w", err)
	}
	var job Job
	if err := decodeJSON(data, &job, "import job"); err != nil {
		return nil, fmt.Errorf("starting import job: %w", err)
	}
	return &job, nil
}

func importForm(r ImportRequest) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="users"; filename="users.json"`)
	h.Set("Content-Type", "application/json")
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(r.Users); err != nil {
		return nil, "", err
	}
	fields := [][2]string{
		{"connection_id", r.ConnectionID},
		{"upsert", strconv.FormatBool(r.Upsert)},
		{"send_completion_email", strconv.FormatBool(r.SendCompletionEmail)},
	}
	if r.ExternalID != "" {
		fields = append(fields, [2]string{"external_id", r.ExternalID})
	}
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// ExportUsers starts a users-export job (scope read:users). The job is
// read with Job until it is completed; its Location is then a signed link
// to the gzip file, good for about 60 seconds (ParseLocation).
func (c *Client) ExportUsers(ctx context.Context, r ExportRequest) (*Job, error) {
	var job Job
	if err := c.sendJSON(ctx, http.MethodPost, "/api/v2/jobs/users-exports", r, &job, "export job"); err != nil {
		return nil, fmt.Errorf("starting export job: %w", err)
	}
	return &job, nil
}

// Job reads a job's status.
func (c *Client) Job(ctx context.Context, id string) (*Job, error) {
	_, data, err := c.do(ctx, request{method: http.MethodGet, path: "/api/v2/jobs/" + url.PathEscape(id)})
	if err != nil {
		return nil, fmt.Errorf("reading job %s: %w", id, err)
	}
	var job Job
	if err := decodeJSON(data, &job, "job"); err != nil {
		return nil, fmt.Errorf("reading job %s: %w", id, err)
	}
	return &job, nil
}

// JobErrors reads the errors union of a job; see DecodeJobErrors.
func (c *Client) JobErrors(ctx context.Context, id string) (*JobErrors, error) {
	status, data, err := c.do(ctx, request{method: http.MethodGet, path: "/api/v2/jobs/" + url.PathEscape(id) + "/errors"})
	if err != nil {
		return nil, fmt.Errorf("reading errors of job %s: %w", id, err)
	}
	je, err := DecodeJobErrors(status, data)
	if err != nil {
		return nil, fmt.Errorf("reading errors of job %s: %w", id, err)
	}
	return je, nil
}

// SendVerificationEmail starts a verification-email job for one user.
func (c *Client) SendVerificationEmail(ctx context.Context, r VerificationEmailRequest) (*Job, error) {
	var job Job
	if err := c.sendJSON(ctx, http.MethodPost, "/api/v2/jobs/verification-email", r, &job, "verification job"); err != nil {
		return nil, fmt.Errorf("sending verification email to %s: %w", r.UserID, err)
	}
	return &job, nil
}

// CreateUser creates one user. A 409 (IsConflict) means it already exists.
func (c *Client) CreateUser(ctx context.Context, r CreateUserRequest) (*User, error) {
	var u User
	if err := c.sendJSON(ctx, http.MethodPost, "/api/v2/users", r, &u, "user"); err != nil {
		return nil, fmt.Errorf("creating user: %w", err)
	}
	return &u, nil
}

// UpdateUser patches one user; only the set fields are sent.
func (c *Client) UpdateUser(ctx context.Context, id string, r UpdateUserRequest) (*User, error) {
	var u User
	if err := c.sendJSON(ctx, http.MethodPatch, "/api/v2/users/"+url.PathEscape(id), r, &u, "user"); err != nil {
		return nil, fmt.Errorf("updating user %s: %w", id, err)
	}
	return &u, nil
}

// User reads one user by id.
func (c *Client) User(ctx context.Context, id string) (*User, error) {
	_, data, err := c.do(ctx, request{method: http.MethodGet, path: "/api/v2/users/" + url.PathEscape(id)})
	if err != nil {
		return nil, fmt.Errorf("reading user %s: %w", id, err)
	}
	var u User
	if err := decodeJSON(data, &u, "user"); err != nil {
		return nil, fmt.Errorf("reading user %s: %w", id, err)
	}
	return &u, nil
}

// UsersByEmail finds the users with that address. The lookup is
// case-sensitive while database connections store addresses lower-cased, so
// the lower-cased address is the one looked up. No match is an empty slice.
func (c *Client) UsersByEmail(ctx context.Context, email string) ([]User, error) {
	q := url.Values{"email": {strings.ToLower(strings.TrimSpace(email))}}
	_, data, err := c.do(ctx, request{method: http.MethodGet, path: "/api/v2/users-by-email", query: q})
	if err != nil {
		return nil, fmt.Errorf("looking up users by email: %w", err)
	}
	users := []User{}
	if len(bytes.TrimSpace(data)) == 0 {
		return users, nil
	}
	if err := decodeJSON(data, &users, "users"); err != nil {
		return nil, fmt.Errorf("looking up users by email: %w", err)
	}
	if users == nil {
		users = []User{}
	}
	return users, nil
}

func (c *Client) sendJSON(ctx context.Context, method, path string, in, out any, what string) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encoding request: %w", err)
	}
	_, data, err := c.do(ctx, request{method: method, path: path, body: body, contentType: "application/json"})
	if err != nil {
		return err
	}
	return decodeJSON(data, out, what)
}
