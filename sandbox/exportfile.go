package sandbox

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"github.com/a0bulk/a0bulk/management"
)

// defaultExportFields stand in for Auth0's "predefined set of fields"
// (its reference says no more; the Dashboard's "Include default fields"
// adds "the fields in the Auth0 normalized user profile schema"): the
// normalized profile's root attributes, without metadata, so that the set
// is valid in CSV too.
var defaultExportFields = []management.ExportField{
	{Name: "user_id"}, {Name: "email"}, {Name: "email_verified"}, {Name: "username"},
	{Name: "phone_number"}, {Name: "phone_verified"}, {Name: "name"}, {Name: "given_name"},
	{Name: "family_name"}, {Name: "nickname"}, {Name: "picture"}, {Name: "blocked"},
	{Name: "created_at"}, {Name: "updated_at"}, {Name: "last_login"}, {Name: "logins_count"},
}

// generatedDates are the dates Auth0 writes itself: CSV exports leave them
// unescaped ("This does not apply to Auth0-generated dates in ISO 8601
// format").
var generatedDates = map[string]bool{"created_at": true, "updated_at": true, "last_login": true}

// exportWriter writes users in a format with fields, gzip-compressed, a
// user at a time (a lean tenant may export millions). A user is what the
// tenant holds, which never includes a password or its hash: asking for
// one exports nothing.
type exportWriter struct {
	csv    bool
	fields []management.ExportField
	out    bytes.Buffer
	zw     *gzip.Writer
	buf    bytes.Buffer
	users  int
}

func newExportWriter(format string, fields []management.ExportField) *exportWriter {
	w := &exportWriter{csv: format == management.ExportCSV, fields: fields}
	w.zw = gzip.NewWriter(&w.out)
	if w.csv {
		csvHeader(&w.buf, fields)
	}
	return w
}

func (w *exportWriter) add(su *storedUser) {
	u := userDocument(su)
	if w.csv {
		csvRow(&w.buf, w.fields, u)
	} else {
		jsonLine(&w.buf, w.fields, u)
	}
	w.users++
	if w.buf.Len() > 64<<10 {
		w.flush()
	}
}

func (w *exportWriter) flush() {
	_, _ = w.zw.Write(w.buf.Bytes()) // to memory: cannot fail
	w.buf.Reset()
}

// close returns the gzip file.
func (w *exportWriter) close() []byte {
	w.flush()
	_ = w.zw.Close()
	return w.out.Bytes()
}

// userDocument is the user as its JSON document, dates as Auth0 writes
// them (milliseconds, UTC).
func userDocument(su *storedUser) map[string]any {
	b, _ := json.Marshal(su.user) // plain fields: cannot fail
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var u map[string]any
	_ = d.Decode(&u)
	if t := su.user.CreatedAt; t != nil {
		u["created_at"] = timestamp(*t)
	}
	if t := su.user.UpdatedAt; t != nil {
		u["updated_at"] = timestamp(*t)
	}
	return u
}

// exportKey is the field's name in the file: export_as, else its name.
func exportKey(f management.ExportField) string {
	if f.ExportAs != "" {
		return f.ExportAs
	}
	return f.Name
}

// lookupPath follows a field name through the user: dot-separated
// properties, each optionally indexed ("identities[0].connection").
func lookupPath(u map[string]any, path string) (any, bool) {
	var cur any = u
	for _, seg := range strings.Split(path, ".") {
		name, idx, _ := strings.Cut(seg, "[")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[name]; !ok {
			return nil, false
		}
		for idx != "" {
			num, after, ok := strings.Cut(idx, "]")
			i, err := strconv.Atoi(num)
			list, isList := cur.([]any)
			if !ok || err != nil || !isList || i < 0 || i >= len(list) {
				return nil, false
			}
			cur, idx = list[i], strings.TrimPrefix(after, "[")
		}
	}
	return cur, cur != nil
}

// jsonLine is one user of a json export (NDJSON): its fields in the order
// asked, each under its export_as or name; absent ones left out.
func jsonLine(buf *bytes.Buffer, fields []management.ExportField, u map[string]any) {
	buf.WriteByte('{')
	first := true
	for _, f := range fields {
		v, ok := lookupPath(u, f.Name)
		if !ok {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		appendJSON(buf, exportKey(f))
		buf.WriteByte(':')
		appendJSON(buf, v)
	}
	buf.WriteString("}\n")
}

func appendJSON(buf *bytes.Buffer, v any) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // values decoded from JSON: cannot fail
	buf.Truncate(buf.Len() - 1)
}

func csvHeader(buf *bytes.Buffer, fields []management.ExportField) {
	w := csv.NewWriter(buf)
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = exportKey(f)
	}
	_ = w.Write(names)
	w.Flush()
}

// csvRow is one user of a csv export, escaped as Auth0 documents it (OWASP
// CSV injection mitigation): each string is prefixed with a single quote,
// its double quotes doubled, and wrapped in double quotes; Auth0-generated
// dates, numbers and booleans are left as they are; an absent field is
// empty; an object or array is its JSON text, escaped as a string.
func csvRow(buf *bytes.Buffer, fields []management.ExportField, u map[string]any) {
	for i, f := range fields {
		if i > 0 {
			buf.WriteByte(',')
		}
		v, ok := lookupPath(u, f.Name)
		if !ok {
			continue
		}
		switch x := v.(type) {
		case string:
			if generatedDates[f.Name] {
				buf.WriteString(x)
				continue
			}
			csvString(buf, x)
		case bool:
			buf.WriteString(strconv.FormatBool(x))
		case json.Number:
			buf.WriteString(x.String())
		default:
			var j bytes.Buffer
			appendJSON(&j, x)
			csvString(buf, j.String())
		}
	}
	buf.WriteByte('\n')
}

func csvString(buf *bytes.Buffer, s string) {
	buf.WriteString(`"'`)
	buf.WriteString(strings.ReplaceAll(s, `"`, `""`))
	buf.WriteByte('"')
}

// gunzip decompresses a file the tenant made.
func gunzip(b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	out, _ := io.ReadAll(zr)
	return out
}
