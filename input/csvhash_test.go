package input

import (
	"reflect"
	"strings"
	"testing"
)

// A CSV file carries custom_password_hash as a JSON-valued column or as
// flat dotted columns; either builds the object, which is then validated as
// one from JSON is, and no error quotes a hash, salt or key.
func TestCSVCustomPasswordHash(t *testing.T) {
	const secret = "SECRETHASHVALUE"
	md5 := &CustomPasswordHash{Algorithm: "md5", Hash: &HashValue{Value: secret, Encoding: "hex"}}
	tests := []struct {
		name, header, row string
		mode              Mode
		want              *CustomPasswordHash
		errs              string
	}{
		{"json column", "email,custom_password_hash", `a@x.io,"{""algorithm"":""md5"",""hash"":{""value"":""` + secret + `"",""encoding"":""hex""}}"`, ModeImport, md5, ""},
		{"json column, semicolons", "email;custom_password_hash", "a@x.io;" + q(`{"algorithm":"md5","hash":{"value":"`+secret+`","encoding":"hex"}}`), ModeImport, md5, ""},
		{"flat columns", "email,custom_password_hash.algorithm,custom_password_hash.hash.value,custom_password_hash.hash.encoding", "a@x.io,md5," + secret + ",hex", ModeImport, md5, ""},
		{"flat scrypt, any case", "email,Custom_Password_Hash.Algorithm,custom_password_hash.hash.value,custom_password_hash.salt.value,custom_password_hash.salt.position,custom_password_hash.keylen,custom_password_hash.cost,custom_password_hash.blocksize,custom_password_hash.parallelization,custom_password_hash.password.encoding",
			"a@x.io,scrypt," + secret + ",SALT,suffix,64,16384,8,1,utf8", ModeImport,
			&CustomPasswordHash{Algorithm: "scrypt", Hash: &HashValue{Value: secret}, Salt: &SaltValue{Value: "SALT", Position: "suffix"},
				KeyLen: ip(64), Cost: ip(16384), BlockSize: ip(8), Parallelization: ip(1), Password: &PasswordSpec{Encoding: "utf8"}}, ""},
		{"flat hmac", "email,custom_password_hash.algorithm,custom_password_hash.hash.value,custom_password_hash.hash.digest,custom_password_hash.hash.key.value,custom_password_hash.hash.key.encoding",
			"a@x.io,hmac," + secret + ",sha256,KEY,utf8", ModeImport,
			&CustomPasswordHash{Algorithm: "hmac", Hash: &HashValue{Value: secret, Digest: "sha256", Key: &KeyValue{Value: "KEY", Encoding: "utf8"}}}, ""},
		{"empty cells: no hash", "email,custom_password_hash.algorithm,custom_password_hash.hash.value", "a@x.io,,", ModeImport, nil, ""},
		{"empty json cell: no hash", "email,custom_password_hash", "a@x.io,", ModeImport, nil, ""},
		{"flat, value missing", "email,custom_password_hash.algorithm,custom_password_hash.hash.encoding", "a@x.io,md5,hex", ModeImport, nil,
			"custom_password_hash.hash.value: required"},
		{"flat, salt without value", "email,custom_password_hash.algorithm,custom_password_hash.hash.value,custom_password_hash.salt.encoding", "a@x.io,md5," + secret + ",hex", ModeImport, nil,
			"custom_password_hash.salt.value: required"},
		{"flat, not an integer", "email,custom_password_hash.algorithm,custom_password_hash.hash.value,custom_password_hash.keylen", "a@x.io,scrypt," + secret + ",sixty", ModeImport, nil,
			"custom_password_hash.keylen: not an integer"},
		{"flat, bad algorithm", "email,custom_password_hash.algorithm,custom_password_hash.hash.value", "a@x.io,rot13," + secret, ModeImport, nil,
			`custom_password_hash.algorithm: "rot13" is not one of the allowed values`},
		{"json, broken", "email\tcustom_password_hash", "a@x.io\t" + q("{\"algorithm\":\"md5\",\"hash\":{\"value\":\""+secret+"\"}"), ModeImport, nil,
			"custom_password_hash: not valid JSON (syntax error at character 53 of the cell)"},
		{"json, trailing text", "email\tcustom_password_hash", "a@x.io\t" + q("{\"algorithm\":\"md5\",\"hash\":{\"value\":\"x\"}} "+secret), ModeImport, nil,
			"custom_password_hash: not valid JSON (syntax error at character"},
		{"json, not an object", "email\tcustom_password_hash", "a@x.io\t" + q("\""+secret+"\""), ModeImport, nil,
			"custom_password_hash: must be a JSON object, got a string"},
		{"json, wrong type", "email\tcustom_password_hash", "a@x.io\t" + q("{\"algorithm\":\"md5\",\"hash\":{\"value\":1}}"), ModeImport, nil,
			"custom_password_hash.hash.value: wrong type: got number"},
		{"json, unknown property", "email\tcustom_password_hash", "a@x.io\t" + q("{\"algorithm\":\"md5\",\"hash\":{\"value\":\""+secret+"\"},\"pepper\":\""+secret+"\"}"), ModeImport, nil,
			"custom_password_hash.pepper: unknown property"},
		{"json, repeated property", "email\tcustom_password_hash", "a@x.io\t" + q("{\"algorithm\":\"md5\",\"hash\":{\"value\":\""+secret+"\",\"value\":\""+secret+"\"}}"), ModeImport, nil,
			"custom_password_hash.hash.value: appears more than once"},
		{"with password_hash", "email,password_hash,custom_password_hash.algorithm,custom_password_hash.hash.value", "a@x.io," + goodBcrypt + ",md5," + secret, ModeImport, nil,
			"custom_password_hash: password_hash and custom_password_hash are mutually exclusive"},
		{"create mode", "email,password,custom_password_hash.algorithm,custom_password_hash.hash.value", "a@x.io,pw,md5," + secret, ModeCreate, nil,
			"custom_password_hash: not accepted by create mode (use import)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := readAll(t, tt.header+"\n"+tt.row+"\n", FormatCSV, Options{Mode: tt.mode})
			if err != nil || len(recs) != 1 {
				t.Fatalf("%v %+v", err, recs)
			}
			rec := recs[0]
			NewValidator(tt.mode).Check(&rec)
			got := errs(rec)
			if tt.errs == "" && got != "" || !strings.HasPrefix(got, tt.errs) {
				t.Fatalf("errors %q, want %q", got, tt.errs)
			}
			if strings.Contains(got, secret) || strings.Contains(got, "SALT") || strings.Contains(got, "KEY") {
				t.Errorf("errors quote a secret: %q", got)
			}
			if tt.errs == "" && !reflect.DeepEqual(rec.User.CustomPasswordHash, tt.want) {
				t.Errorf("hash %+v, want %+v", rec.User.CustomPasswordHash, tt.want)
			}
		})
	}
}

// q quotes a CSV field, as a spreadsheet does one holding quotes.
func q(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func TestCSVCustomPasswordHashHeader(t *testing.T) {
	for _, tt := range []struct{ header, field, reason string }{
		{"email,custom_password_hash,custom_password_hash.algorithm", "custom_password_hash.algorithm", "both as a JSON column"},
		{"email,custom_password_hash.hash.vlaue", "custom_password_hash.hash.vlaue", "unknown column"},
		{"email,custom_password_hash.algorithm,Custom_Password_Hash.ALGORITHM", "Custom_Password_Hash.ALGORITHM", "appears twice"},
	} {
		_, err := readAll(t, tt.header+"\n", FormatCSV, Options{})
		if ie := inputErr(t, err); ie.Field != tt.field || !strings.Contains(ie.Reason, tt.reason) {
			t.Errorf("%s: %+v, want %s ~%q", tt.header, ie, tt.field, tt.reason)
		}
	}
}
