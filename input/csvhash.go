package input

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A CSV file carries custom_password_hash (an object in the schema) in one
// of two ways: a custom_password_hash column whose cells are JSON objects,
// or flat columns named by the property's dotted path
// (custom_password_hash.algorithm, custom_password_hash.hash.value, …),
// whose non-empty cells build the object. Either way the object is then
// validated as one from JSON is. A hash, salt or key value is never quoted
// in an error: they are secrets.

// hashField is one custom_password_hash column.
type hashField struct {
	name string // the schema's dotted path, e.g. custom_password_hash.hash.value
	json bool   // the whole object, as JSON
	set  func(h *CustomPasswordHash, cell string) error
}

const hashColumnName = "custom_password_hash"

var errNotInteger = errors.New("not an integer")

// hashFields are the flat columns, by lower-cased name.
var hashFields = func() map[string]*hashField {
	str := func(get func(*CustomPasswordHash) *string) func(*CustomPasswordHash, string) error {
		return func(h *CustomPasswordHash, cell string) error { *get(h) = cell; return nil }
	}
	num := func(get func(*CustomPasswordHash) **int) func(*CustomPasswordHash, string) error {
		return func(h *CustomPasswordHash, cell string) error {
			n, err := strconv.Atoi(strings.TrimSpace(cell))
			if err != nil {
				return errNotInteger
			}
			*get(h) = &n
			return nil
		}
	}
	hash := func(h *CustomPasswordHash) *HashValue {
		if h.Hash == nil {
			h.Hash = &HashValue{}
		}
		return h.Hash
	}
	key := func(h *CustomPasswordHash) *KeyValue {
		if hash(h).Key == nil {
			h.Hash.Key = &KeyValue{}
		}
		return h.Hash.Key
	}
	salt := func(h *CustomPasswordHash) *SaltValue {
		if h.Salt == nil {
			h.Salt = &SaltValue{}
		}
		return h.Salt
	}
	fields := map[string]func(*CustomPasswordHash, string) error{
		"algorithm":         str(func(h *CustomPasswordHash) *string { return &h.Algorithm }),
		"hash.value":        str(func(h *CustomPasswordHash) *string { return &hash(h).Value }),
		"hash.encoding":     str(func(h *CustomPasswordHash) *string { return &hash(h).Encoding }),
		"hash.digest":       str(func(h *CustomPasswordHash) *string { return &hash(h).Digest }),
		"hash.key.value":    str(func(h *CustomPasswordHash) *string { return &key(h).Value }),
		"hash.key.encoding": str(func(h *CustomPasswordHash) *string { return &key(h).Encoding }),
		"salt.value":        str(func(h *CustomPasswordHash) *string { return &salt(h).Value }),
		"salt.encoding":     str(func(h *CustomPasswordHash) *string { return &salt(h).Encoding }),
		"salt.position":     str(func(h *CustomPasswordHash) *string { return &salt(h).Position }),
		"password.encoding": str(func(h *CustomPasswordHash) *string {
			if h.Password == nil {
				h.Password = &PasswordSpec{}
			}
			return &h.Password.Encoding
		}),
		"keylen":          num(func(h *CustomPasswordHash) **int { return &h.KeyLen }),
		"cost":            num(func(h *CustomPasswordHash) **int { return &h.Cost }),
		"blockSize":       num(func(h *CustomPasswordHash) **int { return &h.BlockSize }),
		"parallelization": num(func(h *CustomPasswordHash) **int { return &h.Parallelization }),
	}
	m := map[string]*hashField{hashColumnName: {name: hashColumnName, json: true}}
	for path, set := range fields {
		name := hashColumnName + "." + path
		m[strings.ToLower(name)] = &hashField{name: name, set: set}
	}
	return m
}()

// hashColumn is the custom_password_hash column named s (any case), or nil.
func hashColumn(s string) *hashField { return hashFields[strings.ToLower(s)] }

// applyHash puts one custom_password_hash cell into rec.
func (f *hashField) apply(rec *Record, cell string) {
	if f.json {
		h, fe := decodeHashCell(cell)
		if fe != nil {
			rec.Errors = append(rec.Errors, *fe)
			return
		}
		rec.User.CustomPasswordHash = h
		return
	}
	u := &rec.User
	if u.CustomPasswordHash == nil {
		u.CustomPasswordHash = &CustomPasswordHash{}
	}
	if err := f.set(u.CustomPasswordHash, cell); err != nil {
		rec.Errors = append(rec.Errors, FieldError{Field: f.name, Reason: err.Error()})
	}
}

// decodeHashCell reads a custom_password_hash cell: one JSON object in the
// schema's shape. Errors say where, never what: the cell holds a hash.
func decodeHashCell(cell string) (*CustomPasswordHash, *FieldError) {
	b := bytes.TrimSpace([]byte(cell))
	fail := func(format string, a ...any) (*CustomPasswordHash, *FieldError) {
		return nil, &FieldError{Field: hashColumnName, Reason: fmt.Sprintf(format, a...)}
	}
	if !json.Valid(b) {
		var se *json.SyntaxError
		if err := json.Unmarshal(b, new(any)); errors.As(err, &se) {
			return fail("not valid JSON (syntax error at character %d of the cell); want an object such as {\"algorithm\":\"md5\",\"hash\":{\"value\":\"…\",\"encoding\":\"hex\"}}", se.Offset)
		}
		return fail("not valid JSON; want an object such as {\"algorithm\":\"md5\",\"hash\":{\"value\":\"…\",\"encoding\":\"hex\"}}")
	}
	if b[0] != '{' {
		return fail("must be a JSON object, got %s", jsonKind(b))
	}
	if path, dup := duplicateProperty(b, false); dup {
		return nil, &FieldError{Field: hashColumnName + "." + path, Reason: "appears more than once in the object: which value is meant is ambiguous"}
	}
	var h CustomPasswordHash
	if err := strictDecode(b, &h); err != nil {
		fe := strictFieldError(hashColumnName, err, b)
		return nil, &fe
	}
	return &h, nil
}

// checkHashColumns refuses a header that gives custom_password_hash both as
// a JSON column and as flat columns: which one is meant is ambiguous.
func checkHashColumns(seen map[string]string) *InputError {
	src, whole := seen[hashColumnName]
	if !whole {
		return nil
	}
	var flat []string
	for f, col := range seen {
		if strings.HasPrefix(f, hashColumnName+".") {
			flat = append(flat, col)
		}
	}
	if len(flat) == 0 {
		return nil
	}
	slices.Sort(flat) // one message for one header
	return &InputError{Field: flat[0], Reason: fmt.Sprintf("custom_password_hash is given both as a JSON column (%q) and as flat columns: use one form", src)}
}
