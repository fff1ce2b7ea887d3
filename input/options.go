package input

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Mode says which command the input feeds; it changes what a record may hold.
type Mode int

const (
	// ModeImport: bulk-import jobs. A plaintext `password` is not part of
	// the import schema and is an unknown field.
	ModeImport Mode = iota
	// ModeCreate: per-user creates. A plaintext `password` goes to
	// Record.Password; hashes and MFA factors are import-only.
	ModeCreate
)

func (m Mode) String() string {
	if m == ModeCreate {
		return "create"
	}
	return "import"
}

// DefaultMaxRecordBytes bounds one input record (an NDJSON line, a JSON array
// element): constant memory whatever the input, and far above what a chunk of
// at most 500 KB could carry anyway.
const DefaultMaxRecordBytes = 1 << 20

// Options configure a Reader.
type Options struct {
	Mode Mode
	// ColumnMap renames CSV header columns, and the top-level properties
	// of JSON and NDJSON objects (source → schema column), from --map. A
	// target of "-" drops the column.
	ColumnMap map[string]string
	// Delimiter separates CSV fields; 0 detects it from the header line
	// (',', ';' or tab: the one that splits it into known columns).
	Delimiter byte
	// MaxRecordBytes bounds one record; 0 means DefaultMaxRecordBytes.
	MaxRecordBytes int
}

func (o Options) maxRecord() int {
	if o.MaxRecordBytes <= 0 {
		return DefaultMaxRecordBytes
	}
	return o.MaxRecordBytes
}

// csvColumns are the schema columns a CSV header may name (besides the
// user_metadata.KEY and app_metadata.KEY families and custom_password_hash,
// see csvhash.go). mfa_factors has no CSV form: use JSON for it.
var csvColumns = map[string]bool{
	"email": true, "email_verified": true, "given_name": true, "family_name": true,
	"name": true, "nickname": true, "username": true, "phone_number": true,
	"phone_verified": true, "user_id": true, "picture": true, "blocked": true,
	"password_hash": true, "password": true,
}

const (
	userMetaPrefix = "user_metadata."
	appMetaPrefix  = "app_metadata."
	dropColumn     = "-"
)

// validTarget reports whether s may be the target of a column mapping.
func validTarget(s string) bool {
	if s == dropColumn || csvColumns[s] || hashColumn(s) != nil {
		return true
	}
	for _, p := range []string{userMetaPrefix, appMetaPrefix} {
		if k, ok := strings.CutPrefix(s, p); ok {
			return validMetaPath(k)
		}
	}
	return false
}

// validMetaPath: a dotted metadata path of non-empty segments.
func validMetaPath(k string) bool {
	if k == "" {
		return false
	}
	for _, seg := range strings.Split(k, ".") {
		if seg == "" {
			return false
		}
	}
	return true
}

// LoadColumnMap reads a --map file. Two forms are accepted:
//   - a JSON object {"Source Column": "email", "Plan": "app_metadata.plan"};
//   - lines "Source Column=email" (blank lines and lines starting with # are
//     ignored; the source is everything before the last '=').
//
// Targets are schema columns, user_metadata.KEY / app_metadata.KEY, or "-" to
// drop a source column. Unknown targets are an error naming all of them.
func LoadColumnMap(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading column map: %w", err)
	}
	m, err := parseColumnMap(data)
	if err != nil {
		return nil, fmt.Errorf("column map %s: %w", path, err)
	}
	return m, nil
}

func parseColumnMap(data []byte) (map[string]string, error) {
	data = bytes.TrimPrefix(data, utf8BOM)
	m := map[string]string{}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		if err := json.Unmarshal(t, &m); err != nil {
			return nil, fmt.Errorf("not a JSON object of strings: %w", err)
		}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			i := strings.LastIndex(line, "=")
			if i <= 0 {
				return nil, fmt.Errorf("line %d: want SOURCE=TARGET", n)
			}
			m[strings.TrimSpace(line[:i])] = strings.TrimSpace(line[i+1:])
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	var bad []string
	for src, dst := range m {
		if !validTarget(dst) {
			bad = append(bad, fmt.Sprintf("%q (from %q)", dst, src))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, fmt.Errorf("unknown target column(s) %s; want a schema column, user_metadata.KEY, app_metadata.KEY or \"-\"", strings.Join(bad, ", "))
	}
	return m, nil
}

// ParseDelimiter checks a --delimiter value: one ASCII character other than
// a letter, a digit, a quote or a line break, or "tab" (also written \t,
// which a shell does not turn into a tab).
func ParseDelimiter(s string) (byte, error) {
	switch s {
	case "tab", `\t`, "\t":
		return '\t', nil
	}
	if len(s) != 1 || s[0] >= 0x7f || (s[0] < ' ' && s[0] != '\t') || s[0] == '"' ||
		s[0] >= '0' && s[0] <= '9' || s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z' {
		return 0, fmt.Errorf("--delimiter %q: want one character such as , ; | or the word tab", s)
	}
	return s[0], nil
}

// delimiterName is how messages show a delimiter.
func delimiterName(d byte) string {
	if d == '\t' {
		return "tab"
	}
	return fmt.Sprintf("%q", string(d))
}
