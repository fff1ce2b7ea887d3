package input

import (
	"strings"
	"testing"
)

// A property given twice in one object is ambiguous (encoding/json keeps
// the last, another tool the first): the record is invalid, naming the
// property, in NDJSON and in JSON arrays, whichever decoder path runs.
func TestDuplicatePropertyIsInvalid(t *testing.T) {
	objects := []struct{ in, field string }{
		{`{"email":"a@x.io","email":"b@x.io"}`, "email"},
		{`{"email":"a@x.io","name":"A","email":null}`, "email"},
		{`{"email":"a@x.io","em\u0061il":"b@x.io"}`, "email"},
		{`{"email":"a@x.io","blocked":true,"blocked":false}`, "blocked"},
		{`{"email":"a@x.io","shoe":null,"shoe":null}`, "shoe"},
		{`{"email":"a@x.io","created_at":"1","created_at":"2"}`, "created_at"},
		{`{"email":"a@x.io","user_metadata":{"plan":"a","plan":"b"}}`, "user_metadata.plan"},
		{`{"email":"a@x.io","app_metadata":{"x":{"y":1,"y":2}}}`, "app_metadata.x.y"},
		{`{"email":"a@x.io","custom_password_hash":{"algorithm":"md5","algorithm":"sha1","hash":{"value":"x"}}}`, "custom_password_hash.algorithm"},
		{`{"email":"a@x.io","mfa_factors":[{"totp":{"secret":"A","secret":"B"}}]}`, "mfa_factors[0].totp.secret"},
	}
	for _, fast := range []bool{true, false} {
		useFastDecode = fast
		for _, o := range objects {
			for _, format := range []Format{FormatNDJSON, FormatJSON} {
				in := `{"email":"first@x.io"}` + "\n" + o.in + "\n" + `{"email":"last@x.io"}` + "\n"
				if format == FormatJSON {
					in = "[" + strings.ReplaceAll(strings.TrimSuffix(in, "\n"), "\n", ",\n") + "]"
				}
				recs, err := readAll(t, in, format, Options{})
				if err != nil || len(recs) != 3 {
					t.Fatalf("%s %s: %d records, %v", format, o.in, len(recs), err)
				}
				if !recs[0].Valid() || !recs[2].Valid() || recs[1].Line != 2 {
					t.Errorf("%s %s: neighbours %+v %+v", format, o.in, recs[0], recs[2])
				}
				got := errs(recs[1])
				if !strings.Contains(got, o.field+": appears more than once in the object") {
					t.Errorf("fast %v, %s %s: errors %q, want %q named as given twice", fast, format, o.in, got, o.field)
				}
			}
		}
	}
	useFastDecode = true
}

// Export-only properties are dropped unread: what repeats inside them is
// not the user's, and not an error; at the top level it still is.
func TestDuplicateInsideDroppedExportPropertyIsIgnored(t *testing.T) {
	for _, fast := range []bool{true, false} {
		useFastDecode = fast
		var rec Record
		decodeObject([]byte(`{"email":"a@x.io","identities":[{"provider":"auth0","provider":"x"}]}`), ModeImport, true, &rec)
		if !rec.Valid() {
			t.Errorf("fast %v: %s", fast, errs(rec))
		}
	}
	useFastDecode = true
}
