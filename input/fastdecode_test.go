package input

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// decodeBoth decodes raw with the fast path allowed and with the reference
// path only; the records must be identical whatever the input.
func decodeBoth(raw []byte, mode Mode, export bool) (fast, slow Record, tookFast bool) {
	fast = Record{File: "f", Line: 1}
	var probe Record
	tookFast = fastDecode(bytes.TrimSpace(raw), mode, export, &probe)
	decodeObject(raw, mode, export, &fast)
	useFastDecode = false
	defer func() { useFastDecode = true }()
	slow = Record{File: "f", Line: 1}
	decodeObject(raw, mode, export, &slow)
	return fast, slow, tookFast
}

var fastCases = []struct {
	in       string
	wantFast bool // the clean inputs must take the fast path
}{
	{`{"email":"a@x.io"}`, true},
	{` {"email":"a@x.io","email_verified":true,"blocked":false,"phone_verified":null} `, true},
	{`{}`, true},
	{`{"email":"a@x.io","user_metadata":{"a":[1,-2.5e+3,"x",true,null,{"b":{}}],"c":[]},"app_metadata":{"n":12345678901234567890}}`, true},
	{`{"email":"a\u00e9\"@x.io","name":"tab\there"}`, true},
	{`{"email":"a@x.io","custom_password_hash":{"algorithm":"md5","hash":{"value":"x","encoding":"hex"}}}`, true},
	{`{"email":"a@x.io","mfa_factors":[{"totp":{"secret":"ABC"}}]}`, true},
	{`{"email":"a@x.io","user_id":"auth0|abc","created_at":"2020","identities":[{"provider":"auth0"}],"logins_count":4}`, true},
	{`{"email":"a@x.io","shoe":null}`, true},
	{`{"email":null,"name":"n"}`, true},
	// Everything below must fall back and get the reference errors.
	{`{"email":"a@x.io","user_id":"google-oauth2|1"}`, true},
	{`{"email":"a@x.io","shoe":9}`, false},
	{`{"email":"a@x.io","email":"b@x.io"}`, false},
	{`{"email":"a@x.io","email":null}`, false},
	{`{"email":"a@x.io","shoe":null,"shoe":null}`, false},
	{`{"email":"a@x.io","logins_count":1,"logins_count":2}`, false},
	{`{"email":"a@x.io","user_metadata":{"a":1,"a":1}}`, false},
	{`{"email":"a@x.io","identities":[{"provider":"auth0","provider":"auth0"}]}`, false},
	{`{"email":"a@x.io","custom_password_hash":{"algorithm":"md5","hash":{"value":"x","value":"y"}}}`, false},
	{`{"email":"a@x.io","mfa_factors":[{"totp":{"secret":"ABC"},"totp":{"secret":"ABC"}}]}`, false},
	{`{"email":1}`, false},
	{`{"email":"a@x.io","blocked":"yes"}`, false},
	{`{"email":"a@x.io","user_metadata":[]}`, false},
	{`{"email":"a@x.io","user_metadata":{"a":01}}`, false},
	{`{"email":"a@x.io","user_metadata":{"a":1.}}`, false},
	{`{"email":"a@x.io","user_metadata":{"a":-}}`, false},
	{`{"email":"a@x.io","user_metadata":{"a":tru}}`, false},
	{`{"email":"a@x.io","user_metadata":{"a":1,}}`, false},
	{`{"email":"a@x.io",}`, false},
	{`{"email" "a@x.io"}`, false},
	{`{"email":"a@x.io"} x`, false},
	{`{"email":"a@x.io"}{}`, false},
	{`{"email":"a` + "\x01" + `@x.io"}`, false},
	{`{"email":"a` + "\xff" + `@x.io"}`, false},
	{`{"em\u0061il":"a@x.io"}`, false},
	{`{"email":"a\x@x.io"}`, false},
	{`{"email":"a@x.io","password":"pw"}`, false},
	{`{"email":"a@x.io","custom_password_hash":{"algorithm":"md5","hash":{"value":"x"},"shoe":1}}`, false},
	{`{"email":"a@x.io","custom_password_hash":{"algorithm":"md5","hash":{"value":1}}}`, false},
	{`{"email":"a@x.io","mfa_factors":[{"totp":{"secret":"ABC"},"x":1}]}`, false},
	{`{"email":"a@x.io","mfa_factors":{}}`, false},
	{`{"email":"a@x.io","created_at":"2020"}`, false}, // export-only outside NDJSON: see mode loop
	{`{"email":"a@x.io"`, false},
	{`{"email":"a@x.io`, false},
	{`[{"email":"a@x.io"}]`, false},
	{`"x"`, false},
	{``, false},
	{`{"email":"a@x.io","user_metadata":` + deep(100) + `}`, false},
}

func deep(n int) string {
	return string(bytes.Repeat([]byte(`{"a":`), n)) + "1" + string(bytes.Repeat([]byte("}"), n))
}

func TestFastDecodeMatchesReference(t *testing.T) {
	for _, c := range fastCases {
		for _, mode := range []Mode{ModeImport, ModeCreate} {
			for _, export := range []bool{false, true} {
				fast, slow, took := decodeBoth([]byte(c.in), mode, export)
				if !reflect.DeepEqual(fast, slow) {
					t.Errorf("%s (mode %v export %v):\nfast %+v\nslow %+v", c.in, mode, export, fast, slow)
				}
				if c.wantFast && mode == ModeImport && export && !took {
					t.Errorf("%s: clean input did not take the fast path", c.in)
				}
				if !c.wantFast && mode == ModeImport && export && took && c.in != `{"email":"a@x.io","created_at":"2020"}` {
					t.Errorf("%s: took the fast path, want the reference path", c.in)
				}
			}
		}
	}
}

// FastAndReference is decodeBoth for the external tests (which may import
// input/gen): the record from each path.
func FastAndReference(raw []byte, mode Mode, export bool) (fast, slow Record) {
	fast, slow, _ = decodeBoth(raw, mode, export)
	return fast, slow
}

func FuzzFastDecodeMatchesReference(f *testing.F) {
	for _, c := range fastCases {
		f.Add([]byte(c.in), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, export bool) {
		fast, slow, _ := decodeBoth(in, ModeImport, export)
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nfast %+v\nslow %+v", in, fast, slow)
		}
		if got, want, ok := EncodeBoth(&fast.User); ok && got != want {
			t.Fatalf("%q: chunker encoding\n got %s\nwant %s", in, got, want)
		}
	})
}

// TestAppendUserMatchesEncodingJSON: the chunker's encoder must write the
// bytes encoding/json writes (or decline).
func TestAppendUserMatchesEncodingJSON(t *testing.T) {
	for _, c := range fastCases {
		var rec Record
		decodeObject([]byte(c.in), ModeImport, true, &rec)
		checkAppendUser(t, &rec.User)
	}
	weird := "q\"\\/\b\f\n\r\t\x01\x7f<>&é\u2028\u2029\xff😀"
	checkAppendUser(t, &User{Email: weird, Name: weird, EmailVerified: bp(false), Blocked: bp(true),
		AppMetadata:  map[string]any{weird: weird, "n": json.Number("-1.5e3"), "z": nil, "a": []any{true, map[string]any{}, []any(nil)}},
		UserMetadata: map[string]any{"m": map[string]any(nil), "b": map[string]any{"y": 1, "x": 2}}})
	checkAppendUser(t, &User{Email: "a", AppMetadata: map[string]any{"bad": json.Number("01")}})
	checkAppendUser(t, &User{Email: "a", AppMetadata: map[string]any{"f": 1.5}})
	checkAppendUser(t, &User{Email: "a", MFAFactors: []MFAFactor{{TOTP: &TOTPFactor{Secret: "A"}}}})
}

func checkAppendUser(t *testing.T, u *User) {
	t.Helper()
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(u); err != nil {
		return // encoding/json refuses: so does the chunker
	}
	var keys []string
	got, ok := appendUser(nil, u, &keys)
	if ok && string(got)+"\n" != want.String() {
		t.Errorf("appendUser:\n got %s\nwant %s", got, want.String())
	}
}

// EncodeBoth is the chunker's encoding of u and encoding/json's, for the
// external tests; ok false when the fast encoder declines.
func EncodeBoth(u *User) (got, want string, ok bool) {
	var w bytes.Buffer
	enc := json.NewEncoder(&w)
	enc.SetEscapeHTML(false)
	enc.Encode(u)
	var keys []string
	b, ok := appendUser(nil, u, &keys)
	return string(b) + "\n", w.String(), ok
}
