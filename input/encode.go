package input

import (
	"encoding/json"
	"slices"
	"unicode/utf8"
)

// appendUser appends u as encoding/json would write it (struct field order,
// omitempty, sorted map keys, SetEscapeHTML(false)), byte for byte, without
// reflection. ok is false for what it does not cover (nested hash and MFA
// objects, metadata values other than the decoders' own types, invalid
// json.Number): the caller then uses encoding/json itself.
func appendUser(dst []byte, u *User, keys *[]string) (_ []byte, ok bool) {
	if u.CustomPasswordHash != nil || u.MFAFactors != nil {
		return dst, false
	}
	dst = append(dst, `{"email":`...)
	dst = appendJSONString(dst, u.Email)
	dst = appendOptBool(dst, `,"email_verified":`, u.EmailVerified)
	dst = appendOptString(dst, `,"phone_number":`, u.PhoneNumber)
	dst = appendOptBool(dst, `,"phone_verified":`, u.PhoneVerified)
	dst = appendOptString(dst, `,"user_id":`, u.UserID)
	dst = appendOptString(dst, `,"username":`, u.Username)
	dst = appendOptString(dst, `,"given_name":`, u.GivenName)
	dst = appendOptString(dst, `,"family_name":`, u.FamilyName)
	dst = appendOptString(dst, `,"name":`, u.Name)
	dst = appendOptString(dst, `,"nickname":`, u.Nickname)
	dst = appendOptString(dst, `,"picture":`, u.Picture)
	dst = appendOptBool(dst, `,"blocked":`, u.Blocked)
	dst = appendOptString(dst, `,"password_hash":`, u.PasswordHash)
	if len(u.AppMetadata) > 0 {
		dst = append(dst, `,"app_metadata":`...)
		if dst, ok = appendAny(dst, u.AppMetadata, keys, 0); !ok {
			return dst, false
		}
	}
	if len(u.UserMetadata) > 0 {
		dst = append(dst, `,"user_metadata":`...)
		if dst, ok = appendAny(dst, u.UserMetadata, keys, 0); !ok {
			return dst, false
		}
	}
	return append(dst, '}'), true
}

func appendOptString(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	return appendJSONString(append(dst, key...), s)
}

func appendOptBool(dst []byte, key string, b *bool) []byte {
	if b == nil {
		return dst
	}
	dst = append(dst, key...)
	if *b {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

// appendAny covers the values decodeMetadata and the CSV reader produce.
// keys is scratch space for sorting, shared across calls.
func appendAny(dst []byte, v any, keys *[]string, depth int) ([]byte, bool) {
	if depth > maxFastDepth {
		return dst, false
	}
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case string:
		return appendJSONString(dst, v), true
	case bool:
		if v {
			return append(dst, "true"...), true
		}
		return append(dst, "false"...), true
	case json.Number:
		p := fastParser{b: []byte(v)}
		if _, ok := p.number(); !ok || p.i != len(p.b) {
			return dst, false // encoding/json has its own rules for these
		}
		return append(dst, v...), true
	case map[string]any:
		if v == nil {
			return append(dst, "null"...), true
		}
		mark := len(*keys)
		for k := range v {
			*keys = append(*keys, k)
		}
		ks := (*keys)[mark:]
		slices.Sort(ks)
		dst = append(dst, '{')
		var ok bool
		for i, k := range ks {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			if dst, ok = appendAny(dst, v[k], keys, depth+1); !ok {
				return dst, false
			}
		}
		*keys = (*keys)[:mark]
		return append(dst, '}'), true
	case []any:
		if v == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '[')
		var ok bool
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, ok = appendAny(dst, e, keys, depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	}
	return dst, false
}

const hexDigits = "0123456789abcdef"

// appendJSONString is encoding/json's string encoding without HTML
// escaping: invalid UTF-8 becomes \ufffd, U+2028 and U+2029 are escaped.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
