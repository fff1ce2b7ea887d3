package input

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// exportOnlyKeys are properties of an Auth0 user export (and of GET /users)
// that the import schema does not take. NDJSON input drops them silently so
// that an export can be imported as is; anywhere else they are unknown.
var exportOnlyKeys = map[string]bool{
	"created_at": true, "updated_at": true, "last_login": true, "last_ip": true,
	"logins_count": true, "identities": true, "multifactor": true,
	"multifactor_last_modified": true, "last_password_reset": true,
	"blocked_for": true, "guardian_authenticators": true, "passkeys": true,
	"authentication_methods": true, "tenant": true, "connection": true,
	"email_verified_at": true, "phone_verified_at": true,
}

// stringFields maps schema string properties to their User field.
var stringFields = map[string]func(*User) *string{
	"email":         func(u *User) *string { return &u.Email },
	"phone_number":  func(u *User) *string { return &u.PhoneNumber },
	"user_id":       func(u *User) *string { return &u.UserID },
	"username":      func(u *User) *string { return &u.Username },
	"given_name":    func(u *User) *string { return &u.GivenName },
	"family_name":   func(u *User) *string { return &u.FamilyName },
	"name":          func(u *User) *string { return &u.Name },
	"nickname":      func(u *User) *string { return &u.Nickname },
	"picture":       func(u *User) *string { return &u.Picture },
	"password_hash": func(u *User) *string { return &u.PasswordHash },
}

var boolFields = map[string]func(*User) **bool{
	"email_verified": func(u *User) **bool { return &u.EmailVerified },
	"phone_verified": func(u *User) **bool { return &u.PhoneVerified },
	"blocked":        func(u *User) **bool { return &u.Blocked },
}

// decodeObject maps one JSON object onto rec, collecting every problem as a
// FieldError named by its schema path. export enables the Auth0-export
// leniencies of NDJSON (export-only keys dropped, "auth0|" stripped).
func decodeObject(raw []byte, mode Mode, export bool, rec *Record) {
	raw = bytes.TrimSpace(raw)
	if useFastDecode && fastDecode(raw, mode, export, rec) {
		return
	}
	if len(raw) == 0 || raw[0] != '{' {
		rec.Errors = append(rec.Errors, FieldError{Reason: "not a JSON object (got " + jsonKind(raw) + ")"})
		return
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		rec.Errors = append(rec.Errors, FieldError{Reason: "not valid JSON: " + jsonErr(err)})
		return
	}
	// encoding/json keeps the last of a repeated property, silently; which
	// one the exporter meant is anyone's guess, so the record is refused.
	if path, dup := duplicateProperty(raw, export); dup {
		rec.Errors = append(rec.Errors, FieldError{Field: path, Reason: "appears more than once in the object: which value is meant is ambiguous"})
	}
	// Stable error order: keys sorted (objects are small).
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	u := &rec.User
	for _, k := range keys {
		v := obj[k]
		if !utf8.ValidString(k) {
			rec.Errors = append(rec.Errors, FieldError{Reason: "property name is not valid UTF-8"})
			continue
		}
		if !utf8.Valid(v) {
			// encoding/json would silently turn bad bytes into U+FFFD.
			rec.Errors = append(rec.Errors, FieldError{Field: k, Reason: "not valid UTF-8"})
			continue
		}
		if string(v) == "null" && k != "email" {
			continue // null: not set
		}
		if f, ok := stringFields[k]; ok {
			if err := json.Unmarshal(v, f(u)); err != nil {
				rec.Errors = append(rec.Errors, FieldError{Field: k, Reason: "must be a string, got " + jsonKind(v)})
			}
			continue
		}
		if f, ok := boolFields[k]; ok {
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				rec.Errors = append(rec.Errors, FieldError{Field: k, Reason: "must be a boolean, got " + jsonKind(v)})
				continue
			}
			*f(u) = &b
			continue
		}
		switch {
		case k == "app_metadata" || k == "user_metadata":
			m, err := decodeMetadata(v)
			if err != nil {
				rec.Errors = append(rec.Errors, FieldError{Field: k, Reason: err.Error()})
			} else if k == "app_metadata" {
				u.AppMetadata = m
			} else {
				u.UserMetadata = m
			}
		case k == "custom_password_hash":
			var h CustomPasswordHash
			if err := strictDecode(v, &h); err != nil {
				rec.Errors = append(rec.Errors, strictFieldError(k, err, v))
			} else {
				u.CustomPasswordHash = &h
			}
		case k == "mfa_factors":
			decodeMFA(v, rec)
		case k == "password" && mode == ModeCreate:
			if err := json.Unmarshal(v, &rec.Password); err != nil {
				rec.Errors = append(rec.Errors, FieldError{Field: k, Reason: "must be a string, got " + jsonKind(v)})
			}
		case k == "password":
			rec.Errors = append(rec.Errors, FieldError{Field: k, Reason: "unknown property: plaintext passwords are accepted by create mode only (import takes password_hash)"})
		case export && exportOnlyKeys[k]:
			// An export's bookkeeping: Auth0 sets these itself.
		default:
			rec.Errors = append(rec.Errors, FieldError{Field: k, Reason: "unknown property (not in the import schema)"})
		}
	}
	if string(obj["email"]) == "null" {
		u.Email = ""
	}
	if export && u.UserID != "" {
		stripProvider(rec)
	}
}

// duplicateProperty returns the path of the first property that appears
// twice in one object of raw, a valid JSON object: "email",
// "user_metadata.plan", "mfa_factors[0].totp.secret". With export, the
// values of export-only properties are not looked into (they are dropped
// unread); the properties themselves still may not repeat.
func duplicateProperty(raw []byte, export bool) (string, bool) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	skip := func(path string) bool { return export && exportOnlyKeys[path] }
	return duplicateIn(d, "", skip)
}

// duplicateIn reads the next value from d; skip says which object
// properties' values are not looked into.
func duplicateIn(d *json.Decoder, path string, skip func(string) bool) (string, bool) {
	tok, err := d.Token()
	if err != nil {
		return "", false
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for d.More() {
			kt, err := d.Token()
			if err != nil {
				return "", false
			}
			k, _ := kt.(string)
			p := k
			if path != "" {
				p = path + "." + k
			}
			if seen[k] {
				return p, true
			}
			seen[k] = true
			if skip(p) {
				var ignored json.RawMessage
				if d.Decode(&ignored) != nil {
					return "", false
				}
				continue
			}
			if dp, dup := duplicateIn(d, p, skip); dup {
				return dp, true
			}
		}
	case json.Delim('['):
		for i := 0; d.More(); i++ {
			if dp, dup := duplicateIn(d, fmt.Sprintf("%s[%d]", path, i), skip); dup {
				return dp, true
			}
		}
	default:
		return "", false // a scalar
	}
	d.Token() // the closing delimiter (raw is valid JSON)
	return "", false
}

// stripProvider turns an export's "auth0|ID" into "ID" (Auth0 adds the
// prefix on import). Another provider's id means a social or enterprise
// user, which cannot become a database user with that id.
func stripProvider(rec *Record) {
	id := rec.User.UserID
	if rest, ok := strings.CutPrefix(id, "auth0|"); ok {
		rec.User.UserID = rest
		return
	}
	if p, _, ok := strings.Cut(id, "|"); ok {
		rec.Errors = append(rec.Errors, FieldError{Field: "user_id", Reason: fmt.Sprintf("belongs to provider %q: only auth0 (database) users can be imported", p)})
	}
}

func decodeMetadata(v []byte) (map[string]any, error) {
	if len(v) == 0 || v[0] != '{' {
		return nil, fmt.Errorf("must be an object, got %s", jsonKind(v))
	}
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber() // keep numbers exactly as written (no float64 rounding)
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("not valid JSON: %s", jsonErr(err))
	}
	return m, nil
}

func decodeMFA(v []byte, rec *Record) {
	var items []json.RawMessage
	if err := json.Unmarshal(v, &items); err != nil {
		rec.Errors = append(rec.Errors, FieldError{Field: "mfa_factors", Reason: "must be an array, got " + jsonKind(v)})
		return
	}
	fs := make([]MFAFactor, 0, len(items))
	ok := true
	for i, it := range items {
		var f MFAFactor
		name := fmt.Sprintf("mfa_factors[%d]", i)
		if t := bytes.TrimSpace(it); len(t) == 0 || t[0] != '{' {
			rec.Errors = append(rec.Errors, FieldError{Field: name, Reason: "must be an object, got " + jsonKind(t)})
			ok = false
			continue
		}
		if err := strictDecode(it, &f); err != nil {
			rec.Errors = append(rec.Errors, strictFieldError(name, err, it))
			ok = false
			continue
		}
		fs = append(fs, f)
	}
	if ok {
		rec.User.MFAFactors = fs
	}
}

func strictDecode(v []byte, out any) error {
	d := json.NewDecoder(bytes.NewReader(v))
	d.DisallowUnknownFields()
	return d.Decode(out)
}

// strictFieldError names the nested property a strict decode failed on.
func strictFieldError(base string, err error, v []byte) FieldError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		f := base
		if te.Field != "" {
			f += "." + te.Field
		}
		return FieldError{Field: f, Reason: "wrong type: got " + te.Value}
	}
	msg := err.Error()
	if i := strings.Index(msg, "unknown field "); i >= 0 {
		name := strings.Trim(msg[i+len("unknown field "):], `"`)
		return FieldError{Field: base + "." + name, Reason: "unknown property"}
	}
	if len(v) == 0 || v[0] != '{' {
		return FieldError{Field: base, Reason: "must be an object, got " + jsonKind(v)}
	}
	return FieldError{Field: base, Reason: jsonErr(err)}
}

// jsonKind names the JSON type of v for error messages (never its value,
// which could be a secret).
func jsonKind(v []byte) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	// Garbage (a binary file, plain text) is not "a boolean" because it
	// starts with a t; this runs on error paths only.
	if !json.Valid(v) {
		return "text that is not JSON"
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func jsonErr(err error) string {
	return strings.TrimPrefix(err.Error(), "json: ")
}
