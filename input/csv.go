package input

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gocarina/gocsv"
)

// csvReader streams CSV rows through gocsv's simple decoder over an
// encoding/csv.Reader (strict quotes, any field count: counts are checked
// here so that a short or long row invalidates only that record). Columns are
// driven by the header, so metadata columns need no struct. A csvFramer
// under it cuts out records larger than the limit.
type csvReader struct {
	file   string
	o      Options
	delim  byte
	fr     *csvFramer
	base   int // lines before the csv.Reader's first byte
	cr     *csv.Reader
	dec    gocsv.SimpleDecoder
	header []string
	cols   []csvCol
}

func newCSVReader(br *bufio.Reader, file string, o Options) (*csvReader, error) {
	delim := o.Delimiter
	if delim == 0 {
		delim = detectDelimiter(br, o)
	}
	c := &csvReader{file: file, o: o, delim: delim, fr: newCSVFramer(br, o.maxRecord(), delim)}
	c.restart()
	header, err := c.dec.GetCSVRow()
	if err == io.EOF {
		return nil, &InputError{File: file, Line: 1, Reason: "empty file: no CSV header"}
	}
	if err != nil {
		return nil, c.fatal(err)
	}
	line, _ := c.cr.FieldPos(0)
	c.header = slices.Clone(header)
	cols, ierr := parseHeader(header, o, delim)
	if ierr != nil {
		ierr.File, ierr.Line = file, line
		return nil, ierr
	}
	c.cols = cols
	return c, nil
}

// restart reads on with a fresh csv.Reader from where the framer stands:
// after a record too large to read, the old one is mid-record.
func (c *csvReader) restart() {
	cr := csv.NewReader(c.fr)
	cr.Comma = rune(c.delim)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = false
	cr.ReuseRecord = true
	c.cr, c.dec = cr, gocsv.NewSimpleDecoderFromCSVReader(cr)
}

func (c *csvReader) fatal(err error) error {
	var pe *csv.ParseError
	if errors.Is(err, errCSVRecordTooLarge) {
		return &InputError{File: c.file, Line: 1, Reason: fmt.Sprintf("the header is larger than %d bytes (an unterminated quote?); the file cannot be read", c.o.maxRecord()), Err: err}
	}
	if errors.As(err, &pe) {
		return &InputError{File: c.file, Line: c.base + pe.StartLine, Reason: fmt.Sprintf("malformed CSV (line %d, column %d): %v; the rest of the file cannot be read reliably", c.base+pe.Line, pe.Column, pe.Err), Err: err}
	}
	if errors.As(err, new(*GzipError)) {
		// Where the decompressed stream broke: the records before it stand.
		return &InputError{File: c.file, Line: c.fr.lines + 1, Reason: err.Error(), Err: err}
	}
	return &InputError{File: c.file, Reason: "reading: " + err.Error(), Err: err}
}

func (c *csvReader) Next() (Record, error) {
	row, err := c.dec.GetCSVRow()
	if err == io.EOF {
		return Record{}, io.EOF
	}
	var pe *csv.ParseError
	isParseErr := errors.As(err, &pe)
	// encoding/csv may find a bad quote in what it got of a record too
	// large to read: that record is skipped all the same.
	if errors.Is(err, errCSVRecordTooLarge) || (isParseErr && c.fr.over && c.base+pe.StartLine == c.fr.recLine) {
		return c.skipTooLarge()
	}
	if isParseErr && errors.Is(pe.Err, csv.ErrBareQuote) {
		// A stray quote inside an unquoted field spoils that row only: the
		// reader has consumed the line and goes on with the next.
		return Record{File: c.file, Line: c.base + pe.StartLine, Errors: []FieldError{{Reason: fmt.Sprintf("malformed CSV at column %d: %v", pe.Column, pe.Err)}}}, nil
	}
	if err != nil {
		return Record{}, c.fatal(err)
	}
	line, _ := c.cr.FieldPos(0)
	rec := Record{File: c.file, Line: c.base + line}
	if len(row) != len(c.cols) {
		rec.Errors = append(rec.Errors, FieldError{Reason: fmt.Sprintf("has %d fields, header has %d", len(row), len(c.cols))})
		// Keep the email, when there is one, so the report can name the user.
		for i, col := range c.cols {
			if col.target == "email" && i < len(row) && utf8.ValidString(row[i]) {
				rec.User.Email = row[i]
			}
		}
		return rec, nil
	}
	for i, col := range c.cols {
		col.apply(&rec, row[i], c.o.Mode)
	}
	return rec, nil
}

// skipTooLarge reports the record the framer stopped at as invalid, skips
// it and reads on after it.
func (c *csvReader) skipTooLarge() (Record, error) {
	line, field, err := c.fr.skip()
	if err != nil {
		return Record{}, &InputError{File: c.file, Line: line, Reason: "reading: " + err.Error(), Err: err}
	}
	c.base = c.fr.lines
	c.restart()
	reason := fmt.Sprintf("makes the record larger than %d bytes, so it was skipped (an unterminated quote makes the rest of the file one field)", c.o.maxRecord())
	return Record{File: c.file, Line: line, Errors: []FieldError{{Field: c.columnName(field), Reason: reason}}}, nil
}

// columnName names column i (from 0) as errors do: its schema field, else
// its header cell.
func (c *csvReader) columnName(i int) string {
	switch {
	case i < len(c.cols) && c.cols[i].field != "":
		return c.cols[i].field
	case i < len(c.header):
		return shownColumn(strings.TrimSpace(c.header[i]))
	}
	return fmt.Sprintf("column %d", i+1)
}

// csvCol says where one CSV column goes.
type csvCol struct {
	target string     // schema column, "user_metadata"/"app_metadata", "custom_password_hash" or "-"
	path   []string   // metadata key path
	hash   *hashField // custom_password_hash columns
	field  string     // name used in FieldErrors
}

// parseHeader maps header cells (after --map) to columns. Unknown columns,
// duplicates, a missing email column and a password column outside create
// mode are header problems: every record would be wrong, so the file fails.
// delim is the delimiter the header was split with, for messages.
func parseHeader(header []string, o Options, delim byte) ([]csvCol, *InputError) {
	if knownColumns(header, o) == 0 {
		// A first line that names no column is data, not a header (a file
		// exported without one, or not CSV at all): its cells may hold a
		// password or a hash, so none is echoed.
		split := fmt.Sprintf("split at %s (the delimiter given with --delimiter)", delimiterName(delim))
		if o.Delimiter == 0 {
			split = "split at a comma, a semicolon or a tab"
		}
		return nil, &InputError{Field: "email", Reason: "the first line names no known column, " + split + ": a CSV file needs a header row naming its columns (email, given_name, …), renamed with --map where they differ; --delimiter sets another delimiter"}
	}
	cols := make([]csvCol, len(header))
	seen := map[string]string{} // field → source header
	for i, h := range header {
		src := strings.TrimSpace(h)
		if !utf8.ValidString(src) {
			return nil, &InputError{Field: fmt.Sprintf("column %d", i+1), Reason: "header is not valid UTF-8"}
		}
		dst, mapped := o.ColumnMap[src]
		if !mapped {
			dst = src
			if l := strings.ToLower(src); csvColumns[l] {
				dst = l
			}
		}
		col, ok := headerCol(dst)
		if !ok {
			reason := "unknown column (want a schema column, user_metadata.KEY or app_metadata.KEY; rename or drop it with --map)"
			if mapped {
				reason = fmt.Sprintf("mapped to unknown column %q", dst)
			}
			return nil, &InputError{Field: shownColumn(src), Reason: reason}
		}
		if col.target == "password" && o.Mode != ModeCreate {
			return nil, &InputError{Field: src, Reason: "plaintext passwords are accepted by create mode only (import takes password_hash)"}
		}
		if col.target != dropColumn {
			if prev, dup := seen[col.field]; dup {
				return nil, &InputError{Field: src, Reason: fmt.Sprintf("column %q appears twice (also as %q)", col.field, prev)}
			}
			seen[col.field] = src
		}
		cols[i] = col
	}
	if ierr := checkHashColumns(seen); ierr != nil {
		return nil, ierr
	}
	if _, ok := seen["email"]; !ok {
		return nil, &InputError{Field: "email", Reason: "no email column (the schema requires email; map one with --map)"}
	}
	// A --map source the header lacks is a typo that would silently drop a
	// field from every user: refuse the file rather than import less.
	if missing := mapSourcesMissing(header, o.ColumnMap); len(missing) > 0 {
		quoted := make([]string, len(missing))
		for i, m := range missing {
			quoted[i] = strconv.Quote(m)
		}
		return nil, &InputError{Field: shownColumn(missing[0]), Reason: fmt.Sprintf("--map names column(s) %s, which this file's header lacks", strings.Join(quoted, ", "))}
	}
	// A key cannot be both a value and an object: user_metadata.a and
	// user_metadata.a.b would collide.
	for f := range seen {
		for g := range seen {
			if strings.HasPrefix(g, f+".") && strings.Contains(f, "metadata.") {
				return nil, &InputError{Field: seen[g], Reason: fmt.Sprintf("metadata key %q is both a value and an object (%q)", f, g)}
			}
		}
	}
	return cols, nil
}

func mapSourcesMissing(header []string, m map[string]string) []string {
	have := make(map[string]bool, len(header))
	for _, h := range header {
		have[strings.TrimSpace(h)] = true
	}
	var missing []string
	for src := range m {
		if !have[src] {
			missing = append(missing, src)
		}
	}
	sort.Strings(missing)
	return missing
}

// knownColumns counts the header cells that name a column (after --map).
func knownColumns(header []string, o Options) int {
	n := 0
	for _, h := range header {
		src := strings.TrimSpace(h)
		dst, mapped := o.ColumnMap[src]
		if !mapped {
			dst = src
			if l := strings.ToLower(src); csvColumns[l] {
				dst = l
			}
		}
		if _, ok := headerCol(dst); ok {
			n++
		}
	}
	return n
}

// shownColumn is an unknown column's name as an error shows it: at most 64
// characters, quoted when it holds anything unprintable.
func shownColumn(src string) string {
	const max = 64
	if r := []rune(src); len(r) > max {
		src = string(r[:max]) + "…"
	}
	for _, r := range src {
		if !unicode.IsPrint(r) {
			return strconv.Quote(src)
		}
	}
	return src
}

func headerCol(dst string) (csvCol, bool) {
	if dst == dropColumn {
		return csvCol{target: dropColumn}, true
	}
	if h := hashColumn(dst); h != nil {
		return csvCol{target: hashColumnName, hash: h, field: h.name}, true
	}
	if csvColumns[dst] {
		return csvCol{target: dst, field: dst}, true
	}
	for _, p := range []string{userMetaPrefix, appMetaPrefix} {
		if k, ok := strings.CutPrefix(dst, p); ok && validMetaPath(k) {
			return csvCol{target: strings.TrimSuffix(p, "."), path: strings.Split(k, "."), field: dst}, true
		}
	}
	return csvCol{}, false
}

// apply puts one cell into rec. An empty cell means "not set".
func (col csvCol) apply(rec *Record, cell string, mode Mode) {
	if col.target == dropColumn || cell == "" {
		return
	}
	if !utf8.ValidString(cell) {
		rec.Errors = append(rec.Errors, FieldError{Field: col.field, Reason: "not valid UTF-8"})
		return
	}
	u := &rec.User
	switch col.target {
	case "email":
		u.Email = cell
	case "given_name":
		u.GivenName = cell
	case "family_name":
		u.FamilyName = cell
	case "name":
		u.Name = cell
	case "nickname":
		u.Nickname = cell
	case "username":
		u.Username = cell
	case "phone_number":
		u.PhoneNumber = cell
	case "user_id":
		u.UserID = cell
	case "picture":
		u.Picture = cell
	case "password_hash":
		u.PasswordHash = cell
	case "password":
		rec.Password = cell
	case hashColumnName:
		col.hash.apply(rec, cell)
	case "email_verified", "phone_verified", "blocked":
		b, ok := parseBool(cell)
		if !ok {
			rec.Errors = append(rec.Errors, FieldError{Field: col.field, Reason: fmt.Sprintf("%q is not a boolean (want true/false, yes/no, 1/0, y/n)", truncate(cell, 20))})
			return
		}
		switch col.target {
		case "email_verified":
			u.EmailVerified = &b
		case "phone_verified":
			u.PhoneVerified = &b
		default:
			u.Blocked = &b
		}
	case "user_metadata":
		u.UserMetadata = setPath(u.UserMetadata, col.path, cell)
	case "app_metadata":
		u.AppMetadata = setPath(u.AppMetadata, col.path, cell)
	}
}

// setPath sets m[a][b]…=v, creating maps on the way. Header checks make
// sure no path is both a value and an object.
func setPath(m map[string]any, path []string, v string) map[string]any {
	if m == nil {
		m = map[string]any{}
	}
	cur := m
	for _, k := range path[:len(path)-1] {
		next, _ := cur[k].(map[string]any)
		if next == nil {
			next = map[string]any{}
			cur[k] = next
		}
		cur = next
	}
	cur[path[len(path)-1]] = v
	return m
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "1", "y":
		return true, true
	case "false", "no", "0", "n":
		return false, true
	}
	return false, false
}

// truncate shortens a value quoted in an error; never used on secrets.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
