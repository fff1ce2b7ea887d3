package input

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// --map applies to the top-level properties of JSON and NDJSON objects as
// it does to CSV columns (it used to be ignored there: the users were
// imported without the mapped fields), on both decoder paths.
func TestJSONColumnMap(t *testing.T) {
	m := map[string]string{
		"mail": "email", "first": "given_name", "plan": "app_metadata.plan", "junk": "-",
		"lang": "user_metadata.prefs.lang", "algo": "custom_password_hash.algorithm",
		"digest": "custom_password_hash.hash.value", "enc": "custom_password_hash.hash.encoding",
	}
	tests := []struct {
		name, obj string
		want      User
		errs      string
	}{
		{"renamed, moved and dropped", `{"mail":"a@x.io","first":"Ann","plan":"pro","junk":{"x":1},"lang":"de"}`,
			User{Email: "a@x.io", GivenName: "Ann", AppMetadata: map[string]any{"plan": "pro"}, UserMetadata: map[string]any{"prefs": map[string]any{"lang": "de"}}}, ""},
		{"merged into an existing object, numbers kept", `{"mail":"a@x.io","plan":12345678901234567890,"app_metadata":{"tier":1.50}}`,
			User{Email: "a@x.io", AppMetadata: map[string]any{"plan": json.Number("12345678901234567890"), "tier": json.Number("1.50")}}, ""},
		{"hash built", `{"mail":"a@x.io","algo":"md5","digest":"SECRETHASH","enc":"hex"}`,
			User{Email: "a@x.io", CustomPasswordHash: &CustomPasswordHash{Algorithm: "md5", Hash: &HashValue{Value: "SECRETHASH", Encoding: "hex"}}}, ""},
		{"unmapped keys unchanged", `{"email":"a@x.io","name":"A"}`, User{Email: "a@x.io", Name: "A"}, ""},
		{"source and target both given", `{"mail":"a@x.io","email":"b@x.io"}`, User{}, `email: given twice: by "mail" (mapped by --map) and by the property "email"`},
		{"mapped into a key the object has", `{"mail":"a@x.io","plan":"pro","app_metadata":{"plan":"free"}}`, User{},
			`app_metadata.plan: given twice: by "plan" (mapped by --map) and in the object "app_metadata"`},
		{"mapped into a non-object", `{"mail":"a@x.io","plan":"pro","app_metadata":"x"}`, User{}, `app_metadata: must be an object, got a string`},
		{"mapped into null", `{"mail":"a@x.io","plan":"pro","app_metadata":null}`, User{Email: "a@x.io", AppMetadata: map[string]any{"plan": "pro"}}, ""},
		{"unknown keys stay unknown", `{"mail":"a@x.io","shoe":1}`, User{}, "shoe: unknown property (not in the import schema)"},
	}
	for _, fast := range []bool{true, false} {
		useFastDecode = fast
		for _, tt := range tests {
			for _, f := range []Format{FormatNDJSON, FormatJSON} {
				t.Run(tt.name+"/"+string(f), func(t *testing.T) {
					in := tt.obj + "\n"
					if f == FormatJSON {
						in = "[" + tt.obj + "]"
					}
					recs, err := readAll(t, in, f, Options{ColumnMap: m})
					if err != nil || len(recs) != 1 {
						t.Fatalf("%v %+v", err, recs)
					}
					rec := recs[0]
					NewValidator(ModeImport).Check(&rec)
					if got := errs(rec); got != tt.errs {
						t.Fatalf("errors %q, want %q", got, tt.errs)
					}
					if tt.errs == "" && !reflect.DeepEqual(rec.User, tt.want) {
						t.Errorf("got %+v\nwant %+v", rec.User, tt.want)
					}
					if strings.Contains(tt.errs, "SECRETHASH") {
						t.Error("a hash is echoed")
					}
				})
			}
		}
	}
	useFastDecode = true
}

// An object that is not well-formed, or repeats a property, is decoded
// as it stands, so the error names the input's own property.
func TestJSONColumnMapLeavesBadObjects(t *testing.T) {
	m := map[string]string{"mail": "email"}
	for in, want := range map[string]string{
		`{"mail":"a@x.io","mail":"b@x.io"}`: "mail: appears more than once",
		`{"mail":"a@x.io",}`:                "not valid JSON",
		`["mail"]`:                          "not a JSON object",
	} {
		recs, err := readAll(t, in+"\n", FormatNDJSON, Options{ColumnMap: m})
		if err != nil || len(recs) != 1 || !strings.Contains(errs(recs[0]), want) {
			t.Errorf("%s: %v %q, want ~%q", in, err, errs(recs[0]), want)
		}
	}
}
