package input

import (
	"strings"
	"testing"
)

const goodBcrypt = "$2b$10$" + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0"

func TestValidate(t *testing.T) {
	scrypt := func(mut func(*CustomPasswordHash)) *CustomPasswordHash {
		h := &CustomPasswordHash{Algorithm: "scrypt", Hash: &HashValue{Value: "v", Encoding: "base64"}, KeyLen: ip(64)}
		if mut != nil {
			mut(h)
		}
		return h
	}
	tests := []struct {
		name string
		u    User
		mode Mode
		errs string
	}{
		{"minimal", User{Email: "a@example.com"}, ModeImport, ""},
		{"missing email", User{}, ModeImport, "email: required"},
		{"no at", User{Email: "example.com"}, ModeImport, "email: not an email address: no @"},
		{"no dot in domain", User{Email: "a@localhost"}, ModeImport, "email: not an email address: domain needs a dot"},
		{"space", User{Email: "a b@x.io"}, ModeImport, "email: not an email address: ' ' not allowed in local part"},
		{"double dot", User{Email: "a..b@x.io"}, ModeImport, "email: not an email address: misplaced dot in local part"},
		{"hyphen label", User{Email: "a@-x.io"}, ModeImport, "email: not an email address: bad domain label"},
		{"idn ok", User{Email: "jürgen+tag@bücher.de"}, ModeImport, ""},
		{"long local", User{Email: strings.Repeat("a", 65) + "@x.io"}, ModeImport, "email: not an email address: local part longer than 64 bytes"},
		{"phone ok", User{Email: "a@x.io", PhoneNumber: "+12125550001"}, ModeImport, ""},
		{"phone no plus", User{Email: "a@x.io", PhoneNumber: "12125550001"}, ModeImport, "phone_number: not E.164 (want + then country code and number, e.g. +12125550001)"},
		{"phone leading zero", User{Email: "a@x.io", PhoneNumber: "+0212"}, ModeImport, "phone_number: not E.164 (want + then country code and number, e.g. +12125550001)"},
		{"phone too long", User{Email: "a@x.io", PhoneNumber: "+1234567890123456"}, ModeImport, "phone_number: not E.164 (want + then country code and number, e.g. +12125550001)"},
		{"bcrypt ok", User{Email: "a@x.io", PasswordHash: goodBcrypt}, ModeImport, ""},
		{"bcrypt 2y", User{Email: "a@x.io", PasswordHash: "$2y$10$" + goodBcrypt[7:]}, ModeImport, "password_hash: a $2y$ bcrypt hash: Auth0 takes password_hash as $2a$ or $2b$ only; give it as custom_password_hash with algorithm bcrypt, which takes $2y$"},
		{"bcrypt short", User{Email: "a@x.io", PasswordHash: goodBcrypt[:50]}, ModeImport, "password_hash: not a bcrypt hash of cost 10 ($2a$ or $2b$, cost 10, then 53 characters)"},
		// Auth0's pattern is ^\$2[ab]?\$10+\$…: any other cost is refused
		// per user, and custom_password_hash (bcrypt) is the way for it.
		{"bcrypt cost 12", User{Email: "a@x.io", PasswordHash: "$2b$12$" + goodBcrypt[7:]}, ModeImport, "password_hash: bcrypt cost 12: Auth0 takes password_hash at cost 10 only; give it as custom_password_hash with algorithm bcrypt, which takes any cost"},
		{"bcrypt 2 (no minor)", User{Email: "a@x.io", PasswordHash: "$2$10$" + goodBcrypt[7:]}, ModeImport, ""},
		{"custom bcrypt cost 12", User{Email: "a@x.io", CustomPasswordHash: &CustomPasswordHash{Algorithm: "bcrypt", Hash: &HashValue{Value: "$2b$12$" + goodBcrypt[7:], Encoding: "utf8"}}}, ModeImport, ""},
		{"both hashes", User{Email: "a@x.io", PasswordHash: goodBcrypt, CustomPasswordHash: scrypt(nil)}, ModeImport, "custom_password_hash: password_hash and custom_password_hash are mutually exclusive"},
		{"scrypt ok", User{Email: "a@x.io", CustomPasswordHash: scrypt(nil)}, ModeImport, ""},
		{"scrypt no keylen", User{Email: "a@x.io", CustomPasswordHash: scrypt(func(h *CustomPasswordHash) { h.KeyLen = nil })}, ModeImport, "custom_password_hash.keylen: required for scrypt"},
		{"scrypt keylen 0", User{Email: "a@x.io", CustomPasswordHash: scrypt(func(h *CustomPasswordHash) { h.KeyLen = ip(0) })}, ModeImport, "custom_password_hash.keylen: must be greater than zero"},
		{"scrypt cost", User{Email: "a@x.io", CustomPasswordHash: scrypt(func(h *CustomPasswordHash) { h.Cost = ip(1000); h.BlockSize = ip(0); h.Parallelization = ip(-1) })}, ModeImport,
			"custom_password_hash.cost: must be a power of two greater than one; custom_password_hash.blockSize: must be positive; custom_password_hash.parallelization: must be positive"},
		{"bad algorithm", User{Email: "a@x.io", CustomPasswordHash: &CustomPasswordHash{Algorithm: "rot13", Hash: &HashValue{Value: "v"}}}, ModeImport,
			`custom_password_hash.algorithm: "rot13" is not one of the allowed values`},
		{"hash required", User{Email: "a@x.io", CustomPasswordHash: &CustomPasswordHash{}}, ModeImport,
			"custom_password_hash.algorithm: required; custom_password_hash.hash: required"},
		{"hash value required", User{Email: "a@x.io", CustomPasswordHash: &CustomPasswordHash{Algorithm: "md5", Hash: &HashValue{}}}, ModeImport,
			"custom_password_hash.hash.value: required"},
		{"enums", User{Email: "a@x.io", CustomPasswordHash: &CustomPasswordHash{Algorithm: "md5",
			Hash:     &HashValue{Value: "v", Encoding: "b32", Digest: "crc", Key: &KeyValue{Encoding: "x"}},
			Salt:     &SaltValue{Encoding: "y", Position: "middle"},
			Password: &PasswordSpec{Encoding: "ebcdic"}}}, ModeImport,
			`custom_password_hash.hash.encoding: "b32" is not one of the allowed values; custom_password_hash.hash.digest: "crc" is not one of the allowed values; ` +
				`custom_password_hash.hash.key.value: required; custom_password_hash.hash.key.encoding: "x" is not one of the allowed values; ` +
				`custom_password_hash.salt.value: required; custom_password_hash.salt.encoding: "y" is not one of the allowed values; ` +
				`custom_password_hash.salt.position: "middle" is not one of the allowed values; custom_password_hash.password.encoding: "ebcdic" is not one of the allowed values`},
		{"hmac needs key and digest", User{Email: "a@x.io", CustomPasswordHash: &CustomPasswordHash{Algorithm: "hmac", Hash: &HashValue{Value: "v"}}}, ModeImport,
			"custom_password_hash.hash.key: required for hmac; custom_password_hash.hash.digest: required for hmac"},
		{"hmac ok", User{Email: "a@x.io", CustomPasswordHash: &CustomPasswordHash{Algorithm: "hmac", Hash: &HashValue{Value: "v", Digest: "sha256", Key: &KeyValue{Value: "k"}}}}, ModeImport, ""},
		{"reserved app_metadata", User{Email: "a@x.io", AppMetadata: map[string]any{"loginsCount": 1}}, ModeImport, "app_metadata.loginsCount: reserved by Auth0"},
		{"metadata dot key", User{Email: "a@x.io", UserMetadata: map[string]any{"a": map[string]any{"b.c": 1}}}, ModeImport,
			`user_metadata.a: property name "b.c" must be non-empty, without '.' and not start with '$'`},
		{"metadata dollar key", User{Email: "a@x.io", UserMetadata: map[string]any{"$set": 1}}, ModeImport,
			`user_metadata: property name "$set" must be non-empty, without '.' and not start with '$'`},
		{"mfa ok", User{Email: "a@x.io", MFAFactors: []MFAFactor{{TOTP: &TOTPFactor{Secret: "JBTWY3DPEHPK3PNP"}}, {Phone: &ValueFactor{Value: "+12125550001"}}, {Email: &ValueFactor{Value: "m@x.io"}}}}, ModeImport, ""},
		{"mfa empty", User{Email: "a@x.io", MFAFactors: []MFAFactor{}}, ModeImport, "mfa_factors: must hold 1 to 10 factors, has 0"},
		{"mfa 11", User{Email: "a@x.io", MFAFactors: make11()}, ModeImport, "mfa_factors: must hold 1 to 10 factors, has 11"},
		{"mfa bad values", User{Email: "a@x.io", MFAFactors: []MFAFactor{{TOTP: &TOTPFactor{Secret: "jbtw=="}}, {Phone: &ValueFactor{Value: "555"}}, {Email: &ValueFactor{Value: "x"}}}}, ModeImport,
			"mfa_factors[0].totp.secret: not unpadded base32 (A-Z, 2-7); mfa_factors[1].phone.value: not a phone number (+ then up to 15 digits); mfa_factors[2].email.value: not an email address: no @"},
		{"mfa two in one", User{Email: "a@x.io", MFAFactors: []MFAFactor{{TOTP: &TOTPFactor{Secret: "ABC"}, Phone: &ValueFactor{Value: "+1"}}, {}}}, ModeImport,
			"mfa_factors[0]: must hold exactly one of totp, phone, email; has 2; mfa_factors[1]: must hold exactly one of totp, phone, email; has 0"},
		{"picture ok", User{Email: "a@x.io", Picture: "https://cdn.example.com/a.png"}, ModeImport, ""},
		{"picture not url", User{Email: "a@x.io", Picture: "a.png"}, ModeImport, "picture: not an http(s) URL"},
		{"picture ftp", User{Email: "a@x.io", Picture: "ftp://x/a.png"}, ModeImport, "picture: not an http(s) URL"},
		{"long name", User{Email: "a@x.io", GivenName: strings.Repeat("é", 151)}, ModeImport, "given_name: longer than 150 characters"},
		{"username space", User{Email: "a@x.io", Username: "a b"}, ModeImport, "username: contains whitespace"},
		// A stray space around a value (a spreadsheet's) is named as such.
		{"email spaces", User{Email: " carol@example.net "}, ModeImport, `email: has spaces around it (" carol@example.net "): remove them`},
		{"email tab and nbsp", User{Email: "\tcarol@example.net\u00a0"}, ModeImport, `email: has spaces around it ("\tcarol@example.net\u00a0"): remove them`},
		{"spaces around ids", User{Email: "a@x.io", UserID: "42 ", Username: " ann", PhoneNumber: "+12125550001 ", Picture: " https://x.io/a.png"}, ModeImport,
			`user_id: has spaces around it ("42 "): remove them; username: has spaces around it (" ann"): remove them; ` +
				`phone_number: has spaces around it ("+12125550001 "): remove them; picture: has spaces around it (" https://x.io/a.png"): remove them`},
		{"hash spaces not quoted", User{Email: "a@x.io", PasswordHash: goodBcrypt + " "}, ModeImport, "password_hash: has spaces around it: remove them"},
		{"mfa email spaces", User{Email: "a@x.io", MFAFactors: []MFAFactor{{Email: &ValueFactor{Value: "m@x.io "}}}}, ModeImport,
			`mfa_factors[0].email.value: has spaces around it ("m@x.io "): remove them`},
		{"names may have spaces", User{Email: "a@x.io", GivenName: " Ann "}, ModeImport, ""},
		{"create refuses hashes", User{Email: "a@x.io", PasswordHash: goodBcrypt, MFAFactors: []MFAFactor{{Email: &ValueFactor{Value: "m@x.io"}}}}, ModeCreate,
			"password_hash: not accepted by create mode (use import); mfa_factors: not accepted by create mode (use import)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := Record{File: "f", Line: 1, User: tt.u}
			NewValidator(tt.mode).Check(&rec)
			if got := errs(rec); got != tt.errs {
				t.Errorf("errors %q\nwant   %q", got, tt.errs)
			}
		})
	}
}

func make11() []MFAFactor {
	fs := make([]MFAFactor, 11)
	for i := range fs {
		fs[i].Email = &ValueFactor{Value: "m@x.io"}
	}
	return fs
}

func TestValidatorNeverQuotesSecrets(t *testing.T) {
	secret := "$2b$10$TOPSECRETtopsecret"
	rec := Record{User: User{Email: "a@x.io", PasswordHash: secret}}
	NewValidator(ModeImport).Check(&rec)
	if rec.Valid() || strings.Contains(errs(rec), "TOPSECRET") {
		t.Fatalf("errors %q", errs(rec))
	}
}

func TestDedupe(t *testing.T) {
	v := NewValidator(ModeImport)
	in := []Record{
		{File: "a.csv", Line: 2, User: User{Email: "Ann@Example.com"}},
		{File: "a.csv", Line: 3, User: User{Email: "bob@example.com", PhoneNumber: "bad"}}, // invalid: not remembered
		{File: "b.json", Line: 7, User: User{Email: "ann@example.COM"}},
		{File: "b.json", Line: 9, User: User{Email: "bob@example.com"}},
		{File: "c.ndjson", Line: 1, User: User{Email: "BOB@example.com"}},
		{File: "c.ndjson", Line: 2, Errors: []FieldError{{Reason: "not a JSON object"}}}, // left as is
	}
	want := []string{
		"",
		"phone_number: not E.164 (want + then country code and number, e.g. +12125550001)",
		"email: duplicate of a.csv:2",
		"",
		"email: duplicate of b.json:9",
		"not a JSON object",
	}
	for i := range in {
		v.Check(&in[i])
		if got := errs(in[i]); got != want[i] {
			t.Errorf("record %d: %q, want %q", i, got, want[i])
		}
	}
	if v.Seen() != 2 {
		t.Errorf("seen %d", v.Seen())
	}
}

// A user_id or username seen before (in any file) makes the record a
// duplicate, as an email does: the tenant would refuse it (CONFLICT,
// CONFLICT_USERNAME) only after the dry run said all was well. Usernames
// compare case-insensitively, user ids exactly; a duplicate's other keys
// stay free, since it is never sent.
func TestDedupeUserIDAndUsername(t *testing.T) {
	v := NewValidator(ModeImport)
	in := []Record{
		{File: "a.csv", Line: 2, User: User{Email: "a@x.io", UserID: "42", Username: "Ann"}},
		{File: "a.csv", Line: 3, User: User{Email: "b@x.io", UserID: "42"}},
		{File: "b.json", Line: 4, User: User{Email: "c@x.io", Username: "ann"}},
		{File: "b.json", Line: 5, User: User{Email: "d@x.io", UserID: "43", Username: "ANN"}},
		{File: "b.json", Line: 6, User: User{Email: "b@x.io", UserID: "43", Username: "bo"}}, // b and 43 are free: their records were duplicates
		{File: "b.json", Line: 7, User: User{Email: "A@x.io", UserID: "42", Username: "ann"}},
		{File: "b.json", Line: 8, User: User{Email: "e@x.io", UserID: "Ann"}}, // ids and usernames are different keys
		{File: "b.json", Line: 9, User: User{Email: "f@x.io", UserID: "43 "}}, // invalid: not remembered
		{File: "b.json", Line: 10, User: User{Email: "g@x.io", UserID: "44", Username: "bo"}},
	}
	want := []string{
		"",
		"user_id: duplicate of a.csv:2",
		"username: duplicate of a.csv:2",
		"username: duplicate of a.csv:2",
		"",
		"email: duplicate of a.csv:2; user_id: duplicate of a.csv:2; username: duplicate of a.csv:2",
		"",
		`user_id: has spaces around it ("43 "): remove them`,
		"username: duplicate of b.json:6",
	}
	for i := range in {
		v.Check(&in[i])
		if got := errs(in[i]); got != want[i] {
			t.Errorf("record %d: %q, want %q", i, got, want[i])
		}
	}
	if v.Seen() != 3 {
		t.Errorf("seen %d emails, want 3", v.Seen())
	}
}

func TestColumnMapParse(t *testing.T) {
	tests := []struct {
		name, in string
		want     map[string]string
		err      string
	}{
		{"json", `{"E-Mail":"email","Plan":"app_metadata.plan","Junk":"-"}`, map[string]string{"E-Mail": "email", "Plan": "app_metadata.plan", "Junk": "-"}, ""},
		{"lines", "# comment\n\nE-Mail = email\nA=B=user_metadata.x\n", map[string]string{"E-Mail": "email", "A=B": "user_metadata.x"}, ""},
		{"unknown targets", `{"a":"mail","b":"user_metadata.","c":"email"}`, nil, `unknown target column(s) "mail" (from "a"), "user_metadata." (from "b")`},
		{"hash targets", `{"H":"custom_password_hash.hash.value","B":"custom_password_hash.blockSize","J":"custom_password_hash"}`,
			map[string]string{"H": "custom_password_hash.hash.value", "B": "custom_password_hash.blockSize", "J": "custom_password_hash"}, ""},
		{"unknown hash target", `{"H":"custom_password_hash.hash.vlaue"}`, nil, `unknown target column(s) "custom_password_hash.hash.vlaue"`},
		{"bad line", "justtext\n", nil, "line 1: want SOURCE=TARGET"},
		{"bad json", `{"a":1}`, nil, "not a JSON object of strings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseColumnMap([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want ~%q", err, tt.err)
				}
				return
			}
			if err != nil || len(got) != len(tt.want) {
				t.Fatalf("got %v, %v", got, err)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%q → %q, want %q", k, got[k], v)
				}
			}
		})
	}
}
