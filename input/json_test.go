package input

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestJSONArrayLines(t *testing.T) {
	in := "[\n" +
		"  {\"email\": \"a@x.io\"},\n" + // line 2
		"  {\n" + // line 3
		"    \"email\": \"b@x.io\",\n" +
		"    \"user_metadata\": {\"n\": 12345678901234567890}\n" +
		"  }, {\"email\":\"c@x.io\"},\n" + // line 6
		"  \"nope\",\n" + // line 7
		"\n" +
		"  {\"email\":\"d@x.io\",\n\"shoe\":1}\n" + // line 9
		"]\n"
	recs, err := readAll(t, in, FormatJSON, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		line  int
		email string
		errs  string
	}{
		{2, "a@x.io", ""},
		{3, "b@x.io", ""},
		{6, "c@x.io", ""},
		{7, "", "not a JSON object (got a string)"},
		{9, "d@x.io", "shoe: unknown property (not in the import schema)"},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records", len(recs))
	}
	for i, w := range want {
		if r := recs[i]; r.Line != w.line || r.User.Email != w.email || errs(r) != w.errs {
			t.Errorf("record %d: line %d email %q errs %q; want %+v", i, r.Line, r.User.Email, errs(r), w)
		}
	}
	// Big numbers in metadata survive exactly.
	b, _ := json.Marshal(recs[1].User.UserMetadata)
	if string(b) != `{"n":12345678901234567890}` {
		t.Errorf("metadata %s", b)
	}
}

func TestJSONArrayFatal(t *testing.T) {
	tests := []struct {
		name, in string
		nrecs    int
		line     int
		reason   string
	}{
		{"malformed mid-array", "[\n{\"email\":\"a@x.io\"},\n{\"email\": \"b@x.io\",,}\n,{\"email\":\"c@x.io\"}]", 1, 3, "malformed JSON"},
		{"truncated", "[\n{\"email\":\"a@x.io\"},\n{\"email\":", 1, 3, "truncated"},
		{"not an array", "\n{\"email\":\"a@x.io\"}\n", 0, 2, "use --format ndjson"},
		{"trailing content", "[{\"email\":\"a@x.io\"}]\n[]", 1, 2, "after the closing ]"},
		{"empty", "  ", 0, 1, "empty file"},
		{"huge element", "[\n{\"email\":\"a@x.io\",\"name\":\"" + strings.Repeat("x", 200000) + "\"}]", 0, 1, "larger than 1000 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := readAll(t, tt.in, FormatJSON, Options{MaxRecordBytes: 1000})
			if err == nil {
				t.Fatal("no error")
			}
			ie := inputErr(t, err)
			if len(recs) != tt.nrecs || ie.Line != tt.line || !strings.Contains(ie.Reason, tt.reason) {
				t.Errorf("got %d records, %+v; want %d records, line %d, reason ~%q", len(recs), ie, tt.nrecs, tt.line, tt.reason)
			}
		})
	}
}

func TestJSONArrayElementOverLimitIsRecordError(t *testing.T) {
	// Over MaxRecordBytes but within the read-ahead guard: that record only.
	in := "[{\"email\":\"a@x.io\",\"name\":\"" + strings.Repeat("x", 1200) + "\"},\n{\"email\":\"b@x.io\"}]"
	recs, err := readAll(t, in, FormatJSON, Options{MaxRecordBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Valid() || !recs[1].Valid() || recs[1].Line != 2 {
		t.Fatalf("got %+v", recs)
	}
}

func TestDecodeObject(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		mode   Mode
		export bool
		want   User
		pw     string
		errs   string
	}{
		{"full", `{"email":"a@x.io","email_verified":true,"phone_number":"+1212","phone_verified":false,"user_id":"u1","username":"u","given_name":"G","family_name":"F","name":"N","nickname":"n","picture":"https://x/p","blocked":false,"password_hash":"h","app_metadata":{"r":["a"]},"user_metadata":{"k":"v"}}`,
			ModeImport, false, User{Email: "a@x.io", EmailVerified: bp(true), PhoneNumber: "+1212", PhoneVerified: bp(false), UserID: "u1", Username: "u",
				GivenName: "G", FamilyName: "F", Name: "N", Nickname: "n", Picture: "https://x/p", Blocked: bp(false), PasswordHash: "h",
				AppMetadata: map[string]any{"r": []any{"a"}}, UserMetadata: map[string]any{"k": "v"}}, "", ""},
		{"nulls unset", `{"email":"a@x.io","name":null,"blocked":null,"user_metadata":null}`, ModeImport, false, User{Email: "a@x.io"}, "", ""},
		{"wrong types", `{"email":1,"blocked":"yes","user_metadata":[1]}`, ModeImport, false, User{}, "",
			"blocked: must be a boolean, got a string; email: must be a string, got a number; user_metadata: must be an object, got an array"},
		{"password import", `{"email":"a@x.io","password":"p"}`, ModeImport, false, User{Email: "a@x.io"}, "",
			"password: unknown property: plaintext passwords are accepted by create mode only (import takes password_hash)"},
		{"password create", `{"email":"a@x.io","password":"p"}`, ModeCreate, false, User{Email: "a@x.io"}, "p", ""},
		{"export keys dropped", `{"email":"a@x.io","user_id":"auth0|abc","created_at":"2020","identities":[{}],"logins_count":3}`, ModeImport, true, User{Email: "a@x.io", UserID: "abc"}, "", ""},
		{"export keys strict in array", `{"email":"a@x.io","created_at":"2020"}`, ModeImport, false, User{Email: "a@x.io"}, "", "created_at: unknown property (not in the import schema)"},
		{"other provider", `{"email":"a@x.io","user_id":"google-oauth2|1"}`, ModeImport, true, User{Email: "a@x.io", UserID: "google-oauth2|1"}, "",
			`user_id: belongs to provider "google-oauth2": only auth0 (database) users can be imported`},
		{"auth0 prefix kept outside export", `{"email":"a@x.io","user_id":"auth0|abc"}`, ModeImport, false, User{Email: "a@x.io", UserID: "auth0|abc"}, "", ""},
		{"custom hash", `{"email":"a@x.io","custom_password_hash":{"algorithm":"scrypt","hash":{"value":"v","encoding":"hex"},"keylen":64}}`, ModeImport, false,
			User{Email: "a@x.io", CustomPasswordHash: &CustomPasswordHash{Algorithm: "scrypt", Hash: &HashValue{Value: "v", Encoding: "hex"}, KeyLen: ip(64)}}, "", ""},
		{"custom hash unknown prop", `{"email":"a@x.io","custom_password_hash":{"algorithm":"md5","hash":{"value":"v"},"rounds":3}}`, ModeImport, false,
			User{Email: "a@x.io"}, "", "custom_password_hash.rounds: unknown property"},
		{"custom hash wrong type", `{"email":"a@x.io","custom_password_hash":{"algorithm":"md5","hash":{"value":5}}}`, ModeImport, false,
			User{Email: "a@x.io"}, "", "custom_password_hash.hash.value: wrong type: got number"},
		{"mfa", `{"email":"a@x.io","mfa_factors":[{"totp":{"secret":"ABC"}},{"phone":{"value":"+1"}}]}`, ModeImport, false,
			User{Email: "a@x.io", MFAFactors: []MFAFactor{{TOTP: &TOTPFactor{Secret: "ABC"}}, {Phone: &ValueFactor{Value: "+1"}}}}, "", ""},
		{"mfa bad items", `{"email":"a@x.io","mfa_factors":[3,{"sms":{}}]}`, ModeImport, false,
			User{Email: "a@x.io"}, "", "mfa_factors[0]: must be an object, got a number; mfa_factors[1].sms: unknown property"},
		{"mfa not array", `{"email":"a@x.io","mfa_factors":{}}`, ModeImport, false, User{Email: "a@x.io"}, "", "mfa_factors: must be an array, got an object"},
		{"invalid utf8 value", "{\"email\":\"a@x.io\",\"name\":\"\xff\"}", ModeImport, false, User{Email: "a@x.io"}, "", "name: not valid UTF-8"},
		{"not json", `{"email":`, ModeImport, false, User{}, "", "not valid JSON: unexpected end of JSON input"},
		{"array", `[1]`, ModeImport, false, User{}, "", "not a JSON object (got an array)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec Record
			decodeObject([]byte(tt.in), tt.mode, tt.export, &rec)
			if got := errs(rec); got != tt.errs {
				t.Errorf("errors %q\nwant   %q", got, tt.errs)
			}
			if !reflect.DeepEqual(rec.User, tt.want) {
				t.Errorf("user %+v\nwant %+v", rec.User, tt.want)
			}
			if rec.Password != tt.pw {
				t.Error("password mismatch")
			}
		})
	}
}

func TestJSONSyntaxErrorLines(t *testing.T) {
	tests := []struct {
		in   string
		line int
	}{
		{"[\n{\"email\":\"a@x.io\"},\n\n\n  {\"email\" \"b\"}]", 5},
		{"[{\"email\":\"a@x.io\"}\n\n x]", 3},
		{"[\n\n{\"email\":\"a@x.io\",\n\"name\":\n\n tru}]", 6},
		{"[{\"email\":\"a@x.io\"}]\n\n}", 3},
		{"[{\"email\":\"a@x.io\"}\n\n{\"email\":\"b@x.io\"}]", 3}, // missing comma
		{"[" + strings.Repeat("{\"email\":\"a@x.io\"},\n", 300) + "{\"email\":\n\"b\" ]", 302},
	}
	for _, tt := range tests {
		_, err := readAll(t, tt.in, FormatJSON, Options{})
		if ie := inputErr(t, err); ie.Line != tt.line {
			t.Errorf("%q: line %d, want %d (%v)", tt.in, ie.Line, tt.line, ie)
		}
	}
}
