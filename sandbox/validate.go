package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/management"
)

// bcryptPattern is Auth0's, as its per-user error quotes it (support article
// "User Import Fails with Error: Error in passwordHash Property - String does
// not Match Pattern"): bcrypt at 10 rounds only.
const (
	e164Pattern   = `^\+[1-9][0-9]{1,14}$`
	bcryptPattern = `^\$2[ab]?\$10+\$[./A-Za-z0-9]{53}$`
	totpPattern   = `^[A-Z2-7]+$`
	mfaPhone      = `^\+[0-9]{1,15}$`
	masked        = "*****"
)

var (
	e164RE     = regexp.MustCompile(e164Pattern)
	bcryptRE   = regexp.MustCompile(bcryptPattern)
	totpRE     = regexp.MustCompile(totpPattern)
	mfaPhoneRE = regexp.MustCompile(mfaPhone)
	emailRE    = regexp.MustCompile(`^[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$`)
)

func isEmail(s string) bool { return len(s) <= 254 && emailRE.MatchString(s) }

// reservedAppMetadata are the app_metadata keys the import prose forbids.
var reservedAppMetadata = []string{"__tenant", "_id", "blocked", "clientID", "created_at",
	"email_verified", "email", "globalClientID", "global_client_id", "identities", "lastIP",
	"lastLogin", "loginsCount", "metadata", "multifactor_last_modified", "multifactor",
	"updated_at", "user_id"}

// topLevel maps each import-schema property to its JSON type, read from
// input.User's tags so the two cannot drift apart.
var topLevel = func() map[string]string {
	m := map[string]string{}
	t := reflect.TypeFor[input.User]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		m[name] = jsonTypeOf(t.Field(i).Type)
	}
	return m
}()

func jsonTypeOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "integer"
	case reflect.Float64, reflect.Float32:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	}
	return "object"
}

func valueType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case []any:
		return "array"
	}
	return "object"
}

type problem = management.ImportErrorItem

// describeDecodeError turns a strict json decoding error into a z-schema-like
// problem (Auth0 validates with z-schema).
func describeDecodeError(err error) problem {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		found, _, _ := strings.Cut(te.Value, " ")
		if found == "bool" {
			found = "boolean"
		}
		return problem{Code: "INVALID_TYPE", Path: te.Field,
			Message: fmt.Sprintf("Expected type %s but found type %s", jsonTypeOf(te.Type), found)}
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		name := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		return problem{Code: "NOT_PASSED", Path: name, Message: "Additional properties not allowed: " + name}
	}
	return problem{Code: "INVALID_TYPE", Message: "Invalid JSON: the body could not be parsed"}
}

// validateImportUser checks one element of an import file against the import
// schema and its prose rules. It returns the decoded user (nil when invalid),
// the echo for the errors endpoint (sensitive values masked) and the problems.
func validateImportUser(raw json.RawMessage) (*input.User, any, []problem) {
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return nil, nil, []problem{{Code: "INVALID_TYPE", Message: "Invalid JSON"}}
	}
	echo := maskSensitive(generic)
	obj, ok := generic.(map[string]any)
	if !ok {
		return nil, echo, []problem{{Code: "INVALID_TYPE", Message: "Expected type object but found type " + valueType(generic)}}
	}
	var probs []problem
	// encoding/json matches keys case-insensitively and takes null silently,
	// so exact names and nulls are checked on the generic form first.
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		want, known := topLevel[k]
		switch {
		case !known:
			probs = append(probs, problem{Code: "NOT_PASSED", Path: k, Message: "Additional properties not allowed: " + k})
		case obj[k] == nil:
			probs = append(probs, problem{Code: "INVALID_TYPE", Path: k, Message: "Expected type " + want + " but found type null"})
		}
	}
	if len(probs) > 0 {
		return nil, echo, probs
	}
	var u input.User
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&u); err != nil {
		return nil, echo, []problem{describeDecodeError(err)}
	}
	_, hasMFA := obj["mfa_factors"]
	probs = checkUser(&u, hasMFA)
	if len(probs) > 0 {
		return nil, echo, probs
	}
	return &u, echo, nil
}

// checkUser applies the rules the decoder cannot: formats, patterns, enums,
// required members and the prose rules.
func checkUser(u *input.User, hasMFA bool) []problem {
	var ps []problem
	add := func(code, path, msg string) { ps = append(ps, problem{Code: code, Path: path, Message: msg}) }
	switch {
	case u.Email == "":
		add("OBJECT_REQUIRED", "", "Missing required property: email")
	case !isEmail(u.Email):
		add("FORMAT", "email", "Object didn't pass validation for format email: "+u.Email)
	}
	if u.PhoneNumber != "" && !e164RE.MatchString(u.PhoneNumber) {
		add("PATTERN", "phone_number", "String does not match pattern "+e164Pattern+": "+u.PhoneNumber)
	}
	// Hash values never appear in messages: the errors endpoint masks them.
	if u.PasswordHash != "" && !bcryptRE.MatchString(u.PasswordHash) {
		add("PATTERN", "password_hash", "String does not match pattern "+bcryptPattern)
	}
	if u.PasswordHash != "" && u.CustomPasswordHash != nil {
		add("NOT_PASSED", "custom_password_hash", "Data matches schema from 'not': password_hash and custom_password_hash are mutually exclusive")
	}
	if h := u.CustomPasswordHash; h != nil {
		ps = append(ps, checkCustomHash(h)...)
	}
	for k := range u.AppMetadata {
		if slices.Contains(reservedAppMetadata, k) {
			add("NOT_PASSED", "app_metadata."+k, "Data matches schema from 'not': app_metadata must not contain "+k)
		}
	}
	if hasMFA {
		ps = append(ps, checkMFA(u.MFAFactors)...)
	}
	slices.SortStableFunc(ps, func(a, b problem) int { return strings.Compare(a.Path, b.Path) })
	return ps
}

func enumCheck(ps *[]problem, path, v string, allowed ...string) {
	if v != "" && !slices.Contains(allowed, v) {
		*ps = append(*ps, problem{Code: "ENUM_MISMATCH", Path: path, Message: fmt.Sprintf("No enum match for: %q", v)})
	}
}

var encodings = []string{"base64", "hex", "utf8"}

func checkCustomHash(h *input.CustomPasswordHash) []problem {
	const p = "custom_password_hash"
	var ps []problem
	req := func(path, name string) {
		ps = append(ps, problem{Code: "OBJECT_REQUIRED", Path: path, Message: "Missing required property: " + name})
	}
	if h.Algorithm == "" {
		req(p, "algorithm")
	}
	enumCheck(&ps, p+".algorithm", h.Algorithm, "argon2", "bcrypt", "hmac", "ldap", "md4", "md5", "sha1", "sha256", "sha512", "pbkdf2", "scrypt")
	if h.Hash == nil {
		req(p, "hash")
	} else {
		enumCheck(&ps, p+".hash.encoding", h.Hash.Encoding, encodings...)
		enumCheck(&ps, p+".hash.digest", h.Hash.Digest, "md4", "md5", "ripemd160", "sha1", "sha224", "sha256", "sha384", "sha512", "whirlpool")
		if k := h.Hash.Key; k != nil {
			if k.Value == "" {
				req(p+".hash.key", "value")
			}
			enumCheck(&ps, p+".hash.key.encoding", k.Encoding, encodings...)
		}
	}
	if s := h.Salt; s != nil {
		if s.Value == "" {
			req(p+".salt", "value")
		}
		enumCheck(&ps, p+".salt.encoding", s.Encoding, encodings...)
		enumCheck(&ps, p+".salt.position", s.Position, "prefix", "suffix")
	}
	if pw := h.Password; pw != nil {
		enumCheck(&ps, p+".password.encoding", pw.Encoding, "ascii", "utf8", "utf16le", "ucs2", "latin1", "binary")
	}
	if h.Algorithm == "scrypt" && h.KeyLen == nil {
		req(p, "keylen")
	}
	if h.KeyLen != nil && *h.KeyLen < 1 {
		ps = append(ps, problem{Code: "MINIMUM", Path: p + ".keylen", Message: fmt.Sprintf("Value %d is less than minimum 1", *h.KeyLen)})
	}
	return ps
}

func checkMFA(fs []input.MFAFactor) []problem {
	var ps []problem
	switch {
	case len(fs) < 1:
		return []problem{{Code: "ARRAY_LENGTH_SHORT", Path: "mfa_factors", Message: "Array is too short (0), minimum 1"}}
	case len(fs) > 10:
		return []problem{{Code: "ARRAY_LENGTH_LONG", Path: "mfa_factors", Message: fmt.Sprintf("Array is too long (%d), maximum 10", len(fs))}}
	}
	for i, f := range fs {
		p := fmt.Sprintf("mfa_factors[%d]", i)
		n := 0
		if f.TOTP != nil {
			n++
			switch {
			case f.TOTP.Secret == "":
				ps = append(ps, problem{Code: "OBJECT_REQUIRED", Path: p + ".totp", Message: "Missing required property: secret"})
			case !totpRE.MatchString(f.TOTP.Secret):
				ps = append(ps, problem{Code: "PATTERN", Path: p + ".totp.secret", Message: "String does not match pattern " + totpPattern})
			}
		}
		if f.Phone != nil {
			n++
			switch {
			case f.Phone.Value == "":
				ps = append(ps, problem{Code: "OBJECT_REQUIRED", Path: p + ".phone", Message: "Missing required property: value"})
			case !mfaPhoneRE.MatchString(f.Phone.Value):
				ps = append(ps, problem{Code: "PATTERN", Path: p + ".phone.value", Message: "String does not match pattern " + mfaPhone + ": " + f.Phone.Value})
			}
		}
		if f.Email != nil {
			n++
			switch {
			case f.Email.Value == "":
				ps = append(ps, problem{Code: "OBJECT_REQUIRED", Path: p + ".email", Message: "Missing required property: value"})
			case !isEmail(f.Email.Value):
				ps = append(ps, problem{Code: "FORMAT", Path: p + ".email.value", Message: "Object didn't pass validation for format email: " + f.Email.Value})
			}
		}
		switch {
		case n == 0:
			ps = append(ps, problem{Code: "ANY_OF_MISSING", Path: p, Message: "Data does not match any schemas from 'anyOf'"})
		case n > 1:
			ps = append(ps, problem{Code: "NOT_PASSED", Path: p, Message: fmt.Sprintf("Too many properties defined (%d), maximum 1", n)})
		}
	}
	return ps
}

// maskSensitive copies an import user for the errors endpoint with password
// hashes and MFA secrets replaced by "*****", as Auth0 echoes them.
func maskSensitive(v any) any {
	obj, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(obj))
	for k, val := range obj {
		out[k] = val
	}
	if _, ok := out["password_hash"]; ok {
		out["password_hash"] = masked
	}
	if h, ok := out["custom_password_hash"].(map[string]any); ok {
		out["custom_password_hash"] = maskPaths(h, []string{"hash", "value"}, []string{"hash", "key", "value"}, []string{"salt", "value"})
	}
	if fs, ok := out["mfa_factors"].([]any); ok {
		cp := make([]any, len(fs))
		for i, f := range fs {
			if fm, ok := f.(map[string]any); ok {
				cp[i] = maskPaths(fm, []string{"totp", "secret"})
			} else {
				cp[i] = f
			}
		}
		out["mfa_factors"] = cp
	}
	return out
}

// maskPaths returns a copy of m with the value at each path masked.
func maskPaths(m map[string]any, paths ...[]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for _, p := range paths {
		if len(p) == 1 {
			if _, ok := out[p[0]]; ok {
				out[p[0]] = masked
			}
			continue
		}
		if sub, ok := out[p[0]].(map[string]any); ok {
			out[p[0]] = maskPaths(sub, p[1:])
		}
	}
	return out
}
