package input

import (
	"bufio"
	"strings"
	"testing"
)

func TestNDJSON(t *testing.T) {
	long := `{"email":"l@x.io","name":"` + strings.Repeat("y", 3000) + `"}`
	in := `{"email":"a@x.io","user_id":"auth0|63d16b633416c557f7d02a3c","created_at":"2023-01-25T17:48:16.543Z","last_login":"x","logins_count":4,"identities":[{"provider":"auth0"}]}` + "\r\n" +
		"\n" + // blank: skipped, but counted
		"   \n" +
		`[1,2]` + "\n" +
		long + "\n" +
		`{"email":"b@x.io","shoe":9}` + "\n" +
		`{"email": ` + "\n" +
		`{"email":"c@x.io"}` // no final newline
	recs, err := readAll(t, in, FormatNDJSON, Options{MaxRecordBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		line  int
		email string
		errs  string
	}{
		{1, "a@x.io", ""},
		{4, "", "not a JSON object (got an array)"},
		{5, "", "line longer than 1000 bytes"},
		{6, "b@x.io", "shoe: unknown property (not in the import schema)"},
		{7, "", "not valid JSON: unexpected end of JSON input"},
		{8, "c@x.io", ""},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records: %+v", len(recs), recs)
	}
	for i, w := range want {
		if r := recs[i]; r.Line != w.line || r.User.Email != w.email || errs(r) != w.errs {
			t.Errorf("record %d: line %d email %q errs %q; want %+v", i, r.Line, r.User.Email, errs(r), w)
		}
	}
	if recs[0].User.UserID != "63d16b633416c557f7d02a3c" {
		t.Errorf("user_id %q", recs[0].User.UserID)
	}
}

func TestNDJSONLongLineAtEOF(t *testing.T) {
	in := `{"email":"a@x.io"}` + "\n" + strings.Repeat("z", 5000)
	recs, err := readAll(t, in, FormatNDJSON, Options{MaxRecordBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || !recs[0].Valid() || recs[1].Valid() || recs[1].Line != 2 {
		t.Fatalf("got %+v", recs)
	}
}

func TestSniffAndDetect(t *testing.T) {
	for in, want := range map[string]Format{
		"  \n[{\"email\":\"a@x.io\"}]":         FormatJSON,
		"\xEF\xBB\xBF{\"email\":\"a@x.io\"}":   FormatNDJSON,
		"email\na@x.io\n":                      FormatCSV,
		"\xEF\xBB\xBF[{\"email\":\"a@x.io\"}]": FormatJSON,
	} {
		recs, err := readAll(t, in, FormatAuto, Options{})
		if err != nil || len(recs) != 1 || recs[0].User.Email != "a@x.io" {
			t.Errorf("%q (want %s): %v %+v", in, want, err, recs)
		}
		// Sniff alone, as the spool of a pipe uses it to name its copy.
		if got := Sniff(bufio.NewReader(strings.NewReader(in))); got != want {
			t.Errorf("Sniff(%q) = %s, want %s", in, got, want)
		}
	}
	tests := []struct {
		path, explicit string
		want           Format
		ok             bool
	}{
		{"u.csv", "", FormatCSV, true},
		{"U.JSON", "", FormatJSON, true},
		{"u.ndjson", "", FormatNDJSON, true},
		{"u.jsonl", "", FormatNDJSON, true},
		{"u.txt", "csv", FormatCSV, true},
		{"u.txt", "jsonl", FormatNDJSON, true},
		{"-", "", FormatAuto, true},
		{"-", "json", FormatJSON, true},
		{"u.txt", "", "", false},
		{"u.csv", "xml", "", false},
	}
	for _, tt := range tests {
		got, err := DetectFormat(tt.path, tt.explicit)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("DetectFormat(%q, %q) = %q, %v", tt.path, tt.explicit, got, err)
		}
	}
}
