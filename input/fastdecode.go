package input

import (
	"encoding/json"
	"unicode/utf8"
)

// useFastDecode lets tests compare the fast path with the reference path.
var useFastDecode = true

// fastDecode is decodeObject's happy path: one pass over the bytes of a
// well-formed object with only known properties of the right types, with no
// intermediate map and no reflection for the flat fields. It decides nothing
// on its own: whenever the input is anything but clean (a syntax error, a
// type mismatch, an unknown or repeated property, invalid UTF-8, an escaped
// property name, deep nesting) it returns false with rec untouched, and the
// reference path (decodeObject's slow path) produces the exact errors. So
// strictness and error messages are the slow path's, by construction.
func fastDecode(raw []byte, mode Mode, export bool, rec *Record) bool {
	if len(rec.Errors) > 0 || !utf8.Valid(raw) {
		return false
	}
	// One copy of the line backs every unescaped string of the record:
	// one allocation instead of one per field.
	p := fastParser{b: raw, s: string(raw)}
	var u User
	var password string
	var seen uint32
	// Properties without a bit (export-only keys, nulls of unknown keys)
	// are few: a repeat among them is found by looking back.
	var otherBuf [16][]byte
	others := otherBuf[:0]
	if !p.lit('{') {
		return false
	}
	p.ws()
	if p.peek() == '}' {
		p.i++
	} else {
		for {
			p.ws()
			key, ok := p.rawKey()
			if !ok || !p.colon() {
				return false
			}
			p.ws()
			null := p.null()
			bit, ok := p.field(key, null, mode, export, &u, &password)
			if !ok || seen&bit != 0 {
				return false
			}
			if bit == bitOther {
				for _, o := range others {
					if string(o) == string(key) {
						return false
					}
				}
				others = append(others, key)
			}
			seen |= bit
			p.ws()
			if p.peek() == ',' {
				p.i++
				continue
			}
			if !p.lit('}') {
				return false
			}
			break
		}
	}
	p.ws()
	if p.i != len(p.b) {
		return false // content after the object
	}
	rec.User = u
	rec.Password = password
	if export && u.UserID != "" {
		stripProvider(rec)
	}
	return true
}

// Bits of the properties already seen: a repeated property falls back
// (the slow path names it).
const (
	bitOther uint32 = 0 // export-only keys and nulls of unknown keys: compared by name
	bitEmail uint32 = 1 << iota
	bitEmailVerified
	bitPhone
	bitPhoneVerified
	bitUserID
	bitUsername
	bitGiven
	bitFamily
	bitName
	bitNickname
	bitPicture
	bitBlocked
	bitHash
	bitCustomHash
	bitApp
	bitUserMeta
	bitMFA
	bitPassword
)

// field decodes the value of property key into u. null says the value is
// the literal null (already consumed).
func (p *fastParser) field(key []byte, null bool, mode Mode, export bool, u *User, password *string) (uint32, bool) {
	str := func(bit uint32, dst *string) (uint32, bool) {
		if null {
			return bit, true
		}
		s, ok := p.str()
		*dst = s
		return bit, ok
	}
	boolean := func(bit uint32, dst **bool) (uint32, bool) {
		if null {
			return bit, true
		}
		b, ok := p.boolean()
		*dst = &b
		return bit, ok
	}
	switch string(key) {
	case "email":
		return str(bitEmail, &u.Email)
	case "phone_number":
		return str(bitPhone, &u.PhoneNumber)
	case "user_id":
		return str(bitUserID, &u.UserID)
	case "username":
		return str(bitUsername, &u.Username)
	case "given_name":
		return str(bitGiven, &u.GivenName)
	case "family_name":
		return str(bitFamily, &u.FamilyName)
	case "name":
		return str(bitName, &u.Name)
	case "nickname":
		return str(bitNickname, &u.Nickname)
	case "picture":
		return str(bitPicture, &u.Picture)
	case "password_hash":
		return str(bitHash, &u.PasswordHash)
	case "email_verified":
		return boolean(bitEmailVerified, &u.EmailVerified)
	case "phone_verified":
		return boolean(bitPhoneVerified, &u.PhoneVerified)
	case "blocked":
		return boolean(bitBlocked, &u.Blocked)
	case "app_metadata", "user_metadata":
		bit, dst := bitApp, &u.AppMetadata
		if key[0] == 'u' {
			bit, dst = bitUserMeta, &u.UserMetadata
		}
		if null {
			return bit, true
		}
		if p.peek() != '{' {
			return 0, false
		}
		v, ok := p.value(0)
		*dst, _ = v.(map[string]any)
		return bit, ok
	case "custom_password_hash":
		if null {
			return bitCustomHash, true
		}
		span, ok := p.span()
		if !ok || span[0] != '{' {
			return 0, false
		}
		var h CustomPasswordHash
		if _, dup := duplicateProperty(span, false); dup || strictDecode(span, &h) != nil {
			return 0, false
		}
		u.CustomPasswordHash = &h
		return bitCustomHash, true
	case "mfa_factors":
		if null {
			return bitMFA, true
		}
		span, ok := p.span()
		if !ok {
			return 0, false
		}
		if _, dup := duplicateProperty(span, false); dup {
			return 0, false
		}
		var tmp Record
		decodeMFA(span, &tmp)
		if !tmp.Valid() {
			return 0, false
		}
		u.MFAFactors = tmp.User.MFAFactors
		return bitMFA, true
	case "password":
		if null {
			return bitPassword, true
		}
		if mode != ModeCreate {
			return 0, false
		}
		return str(bitPassword, password)
	}
	if null {
		return bitOther, true // the slow path ignores null properties
	}
	if export && exportOnlyKeys[string(key)] {
		_, ok := p.span()
		return bitOther, ok
	}
	return 0, false // unknown property: the slow path names it
}

// fastParser scans JSON the way encoding/json accepts it (RFC 8259), and
// gives up (ok false) rather than guess.
type fastParser struct {
	b []byte
	s string // b as a string, or "" to copy each string out of b
	i int
}

// maxFastDepth: deeper metadata goes the slow way (encoding/json's limit
// is 10000; its error must be the one reported).
const maxFastDepth = 64

func (p *fastParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

func (p *fastParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *fastParser) lit(c byte) bool {
	if p.peek() != c {
		return false
	}
	p.i++
	return true
}

func (p *fastParser) colon() bool {
	p.ws()
	return p.lit(':')
}

func (p *fastParser) word(w string) bool {
	if len(p.b)-p.i < len(w) || string(p.b[p.i:p.i+len(w)]) != w {
		return false
	}
	p.i += len(w)
	return true
}

func (p *fastParser) null() bool {
	if p.peek() == 'n' && p.word("null") {
		return true
	}
	return false
}

func (p *fastParser) boolean() (bool, bool) {
	if p.word("true") {
		return true, true
	}
	if p.word("false") {
		return false, true
	}
	return false, false
}

// rawKey returns a property name without escapes (an escaped name falls
// back: the slow path unescapes it).
func (p *fastParser) rawKey() ([]byte, bool) {
	if !p.lit('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			k := p.b[start:p.i]
			p.i++
			return k, true
		}
		if c == '\\' || c < 0x20 {
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// str reads a string value. Escapes are rare: those strings are handed to
// encoding/json so that their decoding is exactly its own.
func (p *fastParser) str() (string, bool) {
	if !p.lit('"') {
		return "", false
	}
	start := p.i
	escaped := false
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			if !escaped {
				if p.s != "" {
					return p.s[start : p.i-1], true
				}
				return string(p.b[start : p.i-1]), true
			}
			var s string
			if json.Unmarshal(p.b[start-1:p.i], &s) != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			escaped = true
			p.i += 2
			continue
		case c < 0x20:
			return "", false
		}
		p.i++
	}
	return "", false
}

// number checks a JSON number and returns its literal.
func (p *fastParser) number() (string, bool) {
	start := p.i
	p.lit('-')
	switch c := p.peek(); {
	case c == '0':
		p.i++
	case c >= '1' && c <= '9':
		p.digits()
	default:
		return "", false
	}
	if p.lit('.') && !p.digits() {
		return "", false
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		if !p.digits() {
			return "", false
		}
	}
	return string(p.b[start:p.i]), true
}

func (p *fastParser) digits() bool {
	start := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

// span checks any value and returns its bytes.
func (p *fastParser) span() ([]byte, bool) {
	start := p.i
	if _, ok := p.value(0); !ok {
		return nil, false
	}
	return p.b[start:p.i], true
}

// value decodes any value as encoding/json does into an interface{} with
// UseNumber: map[string]any, []any, string, json.Number, bool or nil.
func (p *fastParser) value(depth int) (any, bool) {
	if depth > maxFastDepth {
		return nil, false
	}
	switch c := p.peek(); {
	case c == '{':
		p.i++
		m := map[string]any{}
		p.ws()
		if p.lit('}') {
			return m, true
		}
		for {
			p.ws()
			k, ok := p.str()
			if !ok || !p.colon() {
				return nil, false
			}
			p.ws()
			if _, dup := m[k]; dup {
				return nil, false // the slow path names it
			}
			v, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			m[k] = v
			p.ws()
			if p.lit(',') {
				continue
			}
			if p.lit('}') {
				return m, true
			}
			return nil, false
		}
	case c == '[':
		p.i++
		a := make([]any, 0)
		p.ws()
		if p.lit(']') {
			return a, true
		}
		for {
			p.ws()
			v, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			a = append(a, v)
			p.ws()
			if p.lit(',') {
				continue
			}
			if p.lit(']') {
				return a, true
			}
			return nil, false
		}
	case c == '"':
		s, ok := p.str()
		return s, ok
	case c == 't' || c == 'f':
		b, ok := p.boolean()
		return b, ok
	case c == 'n':
		if p.null() {
			return nil, true
		}
		return nil, false
	case c == '-' || c >= '0' && c <= '9':
		n, ok := p.number()
		return json.Number(n), ok
	}
	return nil, false
}
