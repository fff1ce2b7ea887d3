// Package export runs a users-export job end to end: it starts the job,
// waits for it on the import poll schedule, downloads its file from the
// job's short-lived signed location at once (reading the job again for a
// fresh link when a download fails), and writes it whole to a file (0600,
// never overwriting, renamed into place only once complete and checked) or
// to stdout, gunzipped unless asked to keep it compressed.
package export

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/a0bulk/a0bulk/management"
)

// Auth0's limits on fields (auth0-facts.md "Export jobs"; the request
// schema's maxLength): the docs say "you can only export up to 30 fields"
// (under CSV, and as the reason to prefer JSON), so a0bulk keeps to 30 in
// both formats.
const (
	MaxFields       = 30
	maxFieldNameLen = 100
)

// DefaultFields are exported in json when no fields are given: everything
// the import schema can take back (input.User, less the password hashes,
// which exports never carry, and mfa_factors, which are not in a user's
// profile), plus created_at and identities, which identify a user when
// the export is joined with other data (user_id is already among them).
var DefaultFields = fieldList("email", "email_verified", "phone_number", "phone_verified", "user_id",
	"username", "given_name", "family_name", "name", "nickname", "picture", "blocked",
	"app_metadata", "user_metadata", "created_at", "identities")

// DefaultCSVFields are the csv default: the same, less what CSV cannot
// carry whole (metadata objects go field by field: --fields
// user_metadata.KEY) and the identities array.
var DefaultCSVFields = slices.DeleteFunc(slices.Clone(DefaultFields), func(f management.ExportField) bool {
	return f.Name == "app_metadata" || f.Name == "user_metadata" || f.Name == "identities"
})

func fieldList(names ...string) []management.ExportField {
	out := make([]management.ExportField, len(names))
	for i, n := range names {
		out[i] = management.ExportField{Name: n}
	}
	return out
}

// ParseFields reads --fields: comma-separated field names, each optionally
// followed by ":" and the name to export it as ("email,identities[0].connection:provider").
func ParseFields(s string) ([]management.ExportField, error) {
	var out []management.ExportField
	for _, part := range strings.Split(s, ",") {
		name, as, _ := strings.Cut(strings.TrimSpace(part), ":")
		name, as = strings.TrimSpace(name), strings.TrimSpace(as)
		if name == "" {
			return nil, fmt.Errorf("--fields %q: an empty field name", s)
		}
		out = append(out, management.ExportField{Name: name, ExportAs: as})
	}
	return out, nil
}

// ErrOutExists: --out names a file (or link) that exists; an export never
// overwrites one.
var ErrOutExists = errors.New("exists")

// Validate checks what can be checked before any call to the tenant: the
// connection is named, the format known, the fields within Auth0's rules,
// and Out a new file in an existing directory. It fills in the defaults
// (format json, the default fields). Its errors are the caller's usage
// errors.
func (o *Options) Validate() error {
	if strings.TrimSpace(o.Connection) == "" {
		return errors.New("--connection is required: the connection whose users to export")
	}
	switch o.Format {
	case "":
		o.Format = management.ExportJSON
	case management.ExportJSON, management.ExportCSV:
	default:
		return fmt.Errorf("--format %q: want json (NDJSON, one user per line) or csv", o.Format)
	}
	if o.Limit < 0 {
		return fmt.Errorf("--limit must not be negative, got %d", o.Limit)
	}
	if err := o.checkFields(); err != nil {
		return err
	}
	if o.Out == "" || o.Out == "-" {
		o.Out = ""
		return nil
	}
	if _, err := os.Lstat(o.Out); err == nil {
		return fmt.Errorf("--out %s: %w: a0bulk never overwrites a file (remove it, or choose another name)", o.Out, ErrOutExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--out %s: %w", o.Out, err)
	}
	dir := filepath.Dir(o.Out)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("--out %s: its directory %s does not exist", o.Out, dir)
	}
	return nil
}

func (o *Options) checkFields() error {
	if len(o.Fields) == 0 {
		o.Fields = DefaultFields
		if o.Format == management.ExportCSV {
			o.Fields = DefaultCSVFields
		}
		return nil
	}
	if len(o.Fields) > MaxFields {
		return fmt.Errorf("--fields: %d fields; Auth0 exports at most %d (in json, name a whole object such as user_metadata instead of its keys)", len(o.Fields), MaxFields)
	}
	keys := map[string]bool{}
	for _, f := range o.Fields {
		key := f.ExportAs
		if key == "" {
			key = f.Name
		}
		switch {
		case len(f.Name) > maxFieldNameLen || len(f.ExportAs) > maxFieldNameLen:
			return fmt.Errorf("--fields %s: Auth0 takes names of at most %d characters", f.Name, maxFieldNameLen)
		case keys[key]:
			return fmt.Errorf("--fields: %s is exported twice", key)
		case o.Format == management.ExportCSV && (f.Name == "user_metadata" || f.Name == "app_metadata"):
			return fmt.Errorf("--fields %s: CSV cannot carry %s whole: name its keys (%s.KEY), or use --format json", f.Name, f.Name, f.Name)
		}
		keys[key] = true
	}
	return nil
}
