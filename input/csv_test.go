package input

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestCSVLinesAndQuoting(t *testing.T) {
	in := "\xEF\xBB\xBFemail,name,given_name\r\n" +
		"a@example.com,\"Doe, Jane\",Jane\r\n" +
		"b@example.com,\"two\r\nlines\",Bo\r\n" +
		"\r\n" + // blank lines are skipped
		"c@example.com,Cee,\"quote \"\"x\"\"\"\r\n"
	recs, err := readAll(t, in, FormatCSV, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		line              int
		email, name, give string
	}{
		{2, "a@example.com", "Doe, Jane", "Jane"},
		{3, "b@example.com", "two\r\nlines", "Bo"},
		{6, "c@example.com", "Cee", `quote "x"`},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	for i, w := range want {
		r := recs[i]
		if r.Line != w.line || r.User.Email != w.email || r.User.Name != strings.ReplaceAll(w.name, "\r\n", "\n") || r.User.GivenName != w.give || !r.Valid() || r.File != "in" {
			t.Errorf("record %d = line %d %q %q %q errs %q; want %+v", i, r.Line, r.User.Email, r.User.Name, r.User.GivenName, errs(r), w)
		}
	}
}

func TestCSVCells(t *testing.T) {
	tests := []struct {
		name   string
		header string
		row    string
		mode   Mode
		want   User
		pw     string
		errs   string
	}{
		{"bools true", "email,email_verified,phone_verified,blocked", "a@x.io,TRUE,yes,Y", ModeImport,
			User{Email: "a@x.io", EmailVerified: bp(true), PhoneVerified: bp(true), Blocked: bp(true)}, "", ""},
		{"bools false", "email,email_verified,phone_verified,blocked", "a@x.io,false,No,0", ModeImport,
			User{Email: "a@x.io", EmailVerified: bp(false), PhoneVerified: bp(false), Blocked: bp(false)}, "", ""},
		{"bool 1 n", "email,email_verified,blocked", "a@x.io,1,n", ModeImport,
			User{Email: "a@x.io", EmailVerified: bp(true), Blocked: bp(false)}, "", ""},
		{"empty bool unset", "email,email_verified", "a@x.io,", ModeImport, User{Email: "a@x.io"}, "", ""},
		{"bad bool", "email,blocked", "a@x.io,maybe", ModeImport, User{Email: "a@x.io"}, "",
			`blocked: "maybe" is not a boolean (want true/false, yes/no, 1/0, y/n)`},
		{"strings", "email,given_name,family_name,name,nickname,username,phone_number,user_id,picture,password_hash",
			"a@x.io,G,F,N,Nick,user1,+4915112345678,42,https://p/x.png,$2b$10$h", ModeImport,
			User{Email: "a@x.io", GivenName: "G", FamilyName: "F", Name: "N", Nickname: "Nick", Username: "user1",
				PhoneNumber: "+4915112345678", UserID: "42", Picture: "https://p/x.png", PasswordHash: "$2b$10$h"}, "", ""},
		{"metadata", "email,user_metadata.plan,app_metadata.roles,user_metadata.address.city,user_metadata.empty", "a@x.io,gold,admin,Oslo,", ModeImport,
			User{Email: "a@x.io", UserMetadata: map[string]any{"plan": "gold", "address": map[string]any{"city": "Oslo"}},
				AppMetadata: map[string]any{"roles": "admin"}}, "", ""},
		{"header case and spaces", " Email , Given_Name", "a@x.io,G", ModeImport, User{Email: "a@x.io", GivenName: "G"}, "", ""},
		{"password in create", "email,password", "a@x.io,S3cret!!", ModeCreate, User{Email: "a@x.io"}, "S3cret!!", ""},
		{"too many fields", "email,name", "a@x.io,N,extra", ModeImport, User{Email: "a@x.io"}, "", "has 3 fields, header has 2"},
		{"too few fields", "name,email", "N", ModeImport, User{}, "", "has 1 fields, header has 2"},
		{"invalid utf8", "email,name", "a@x.io,bad\xff", ModeImport, User{Email: "a@x.io"}, "", "name: not valid UTF-8"},
		{"invalid utf8 metadata", "email,user_metadata.k", "a@x.io,\xc3", ModeImport, User{Email: "a@x.io"}, "", "user_metadata.k: not valid UTF-8"},
		{"bare quote", "email,name", `a@x.io,Jo"e`, ModeImport, User{}, "", `malformed CSV at column 10: bare " in non-quoted-field`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := readAll(t, tt.header+"\n"+tt.row+"\n", FormatCSV, Options{Mode: tt.mode})
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 {
				t.Fatalf("got %d records", len(recs))
			}
			r := recs[0]
			if got := errs(r); got != tt.errs {
				t.Errorf("errors %q, want %q", got, tt.errs)
			}
			if r.Line != 2 {
				t.Errorf("line %d, want 2", r.Line)
			}
			if !reflect.DeepEqual(r.User, tt.want) {
				t.Errorf("user %+v, want %+v", r.User, tt.want)
			}
			if r.Password != tt.pw {
				t.Errorf("password mismatch")
			}
		})
	}
}

func TestCSVRunGoesOnAfterBadRows(t *testing.T) {
	in := "email,name\na@x.io,A\nb@x.io,B,extra\nc@x.io,C\"x\nd@x.io,D\n"
	recs, err := readAll(t, in, FormatCSV, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.User.Email+"@"+strconv.Itoa(r.Line)+"/"+boolStr(r.Valid()))
	}
	want := "a@x.io@2/ok b@x.io@3/bad @4/bad d@x.io@5/ok"
	if strings.Join(got, " ") != want {
		t.Errorf("got %q, want %q", strings.Join(got, " "), want)
	}
}

func boolStr(b bool) string {
	if b {
		return "ok"
	}
	return "bad"
}

func TestCSVHeaderProblems(t *testing.T) {
	tests := []struct {
		name, in string
		o        Options
		field    string
		reason   string
	}{
		{"unknown column", "email,shoe_size\n", Options{}, "shoe_size", "unknown column"},
		{"no email", "name,given_name\n", Options{}, "email", "no email column"},
		{"password in import", "email,password\n", Options{}, "password", "create mode only"},
		{"duplicate", "email,name,Name\n", Options{}, "Name", "appears twice"},
		{"metadata value and object", "email,user_metadata.a,user_metadata.a.b\n", Options{}, "user_metadata.a.b", "both a value and an object"},
		{"bad metadata path", "email,user_metadata.\n", Options{}, "user_metadata.", "unknown column"},
		{"mapped to unknown", "E-Mail,X\n", Options{ColumnMap: map[string]string{"E-Mail": "email", "X": "nope"}}, "X", `mapped to unknown column "nope"`},
		{"no header row: data is not echoed", "a@x.io,$2b$10$secrethash\n", Options{}, "email", "needs a header row"},
		{"long or binary column name is cut and quoted", "email,\x00\x01" + strings.Repeat("z", 100) + "\n", Options{}, `"\x00\x01` + strings.Repeat("z", 62) + `…"`, "unknown column"},
		{"map source the header lacks", "Mail,Name\n", Options{ColumnMap: map[string]string{"Mail": "email", "Nmae": "name"}}, "Nmae", `--map names column(s) "Nmae"`},
		{"empty", "", Options{}, "", "empty file"},
		{"unterminated quote", "email,name\na@x.io,\"open\n", Options{}, "", "malformed CSV"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readAll(t, tt.in, FormatCSV, tt.o)
			if err == nil {
				t.Fatal("no error")
			}
			ie := inputErr(t, err)
			if ie.Field != tt.field || !strings.Contains(ie.Reason, tt.reason) || ie.Line < 1 || ie.File != "in" {
				t.Errorf("got %+v, want field %q reason ~%q", ie, tt.field, tt.reason)
			}
		})
	}
}

func TestCSVColumnMap(t *testing.T) {
	o := Options{ColumnMap: map[string]string{"E-Mail": "email", "First": "given_name", "Plan": "app_metadata.plan", "Junk": "-"}}
	recs, err := readAll(t, "E-Mail,First,Plan,Junk\na@x.io,Ann,pro,zzz\n", FormatCSV, o)
	if err != nil {
		t.Fatal(err)
	}
	want := User{Email: "a@x.io", GivenName: "Ann", AppMetadata: map[string]any{"plan": "pro"}}
	if len(recs) != 1 || !reflect.DeepEqual(recs[0].User, want) || !recs[0].Valid() {
		t.Fatalf("got %+v", recs)
	}
}

// A field that makes its record larger than the limit spoils that record
// only: it is reported invalid at the line it starts on, naming the field,
// and the records after it are read, at their own lines, however the big
// field is written (quoted across lines, with escaped quotes, unquoted) and
// however much larger than the limit it is.
func TestCSVFieldOverLimitIsRecordError(t *testing.T) {
	big := strings.Repeat("x", 300<<10)
	tests := []struct {
		name, row string
		lines     int // lines the big row spans
		field     string
	}{
		{"unquoted", "b@x.io," + big + ",B,", 1, "name"},
		{"quoted over lines", "b@x.io,\"" + big + "\n" + big + "\"\"q\"\"\n" + big + "\",B,", 3, "name"},
		{"quoted with commas", "b@x.io,\"" + strings.Repeat("x,\"\"", 100<<10) + "\",B,", 1, "name"},
		{"in the first column", big + "@x.io,N,B,", 1, "email"},
		{"in a dropped column", "b@x.io,N,B,\"" + big + "\"", 1, "Junk"},
		{"one byte over in name", "b@x.io," + strings.Repeat("y", 1001-len("b@x.io,")) + ",B,", 1, "name"},
		{"one byte over at the end", "b@x.io,N,B," + strings.Repeat("y", 1001-len("b@x.io,N,B,")), 1, "Junk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := "email,name,given_name,Junk\n" +
				"a@x.io,A,A,\n" +
				tt.row + "\n" +
				"\"c@x.io\",\"C\nC\",C,\n" +
				"d@x.io,D,D,\n"
			recs, err := readAll(t, in, FormatCSV, Options{MaxRecordBytes: 1000, ColumnMap: map[string]string{"Junk": "-"}})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, r.User.Email+"@"+strconv.Itoa(r.Line)+"/"+boolStr(r.Valid()))
			}
			c := 3 + tt.lines
			want := "a@x.io@2/ok @3/bad c@x.io@" + strconv.Itoa(c) + "/ok d@x.io@" + strconv.Itoa(c+2) + "/ok"
			if strings.Join(got, " ") != want {
				t.Fatalf("got %q, want %q", strings.Join(got, " "), want)
			}
			bad := recs[1]
			if len(bad.Errors) != 1 || bad.Errors[0].Field != tt.field || !strings.Contains(bad.Errors[0].Reason, "larger than 1000 bytes") || bad.File != "in" {
				t.Errorf("errors %+v, want one naming %q", bad.Errors, tt.field)
			}
		})
	}
}

// An unterminated quote makes the rest of the file one field: the records
// before it are read, it is one invalid record, and memory stays bounded
// (the field is skipped, never buffered).
func TestCSVUnterminatedQuoteIsOneInvalidRecord(t *testing.T) {
	in := "email,name\na@x.io,A\nb@x.io,\"never closed " + strings.Repeat("x\n", 300<<10)
	recs, err := readAll(t, in, FormatCSV, Options{MaxRecordBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || !recs[0].Valid() || recs[1].Valid() || recs[1].Line != 3 || recs[1].Errors[0].Field != "name" {
		t.Fatalf("got %+v", recs)
	}
}

// A record exactly at the limit is read as usual.
func TestCSVRecordAtLimitIsRead(t *testing.T) {
	row := "b@x.io," + strings.Repeat("y", 1000-len("b@x.io,"))
	recs, err := readAll(t, "email,name\n"+row+"\r\nc@x.io,C\n", FormatCSV, Options{MaxRecordBytes: 1001})
	if err != nil || len(recs) != 2 || !recs[0].Valid() || !recs[1].Valid() || recs[1].Line != 3 {
		t.Fatalf("%v: %+v", err, recs)
	}
}

// Generated well-formed CSV, some records over the limit: every record
// within it reads as written, at its line; every one over it is one
// invalid record at its line, whatever the mix of quoting around it.
func TestCSVOverLimitRecordsAmongGenerated(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 7))
	const limit = 300
	for round := 0; round < 200; round++ {
		var b strings.Builder
		b.WriteString("email,name\r\n")
		type want struct {
			line  int
			email string // "" for a record over the limit
			name  string
		}
		var wants []want
		line := 2
		for i := 0; i < 30; i++ {
			email := fmt.Sprintf("u%d@x.io", i)
			var name strings.Builder
			for n := rng.IntN(40); n > 0; n-- {
				name.WriteString([]string{"a", ",", "\"", "\n", "\r\n", "bc", "é"}[rng.IntN(7)])
			}
			if rng.IntN(8) == 0 {
				name.WriteString(strings.Repeat([]string{"z", "\n", "\"", ","}[rng.IntN(4)], limit))
			}
			nm := name.String()
			var field string
			switch {
			case strings.ContainsAny(nm, ",\"\r\n") || rng.IntN(2) == 0:
				field = `"` + strings.ReplaceAll(nm, `"`, `""`) + `"`
			default:
				field = nm
			}
			row := email + "," + field
			w := want{line: line, email: email, name: strings.ReplaceAll(nm, "\r\n", "\n")}
			if rng.IntN(10) == 0 {
				// A bare quote spoils its line only.
				row = email + ",a\"b" + strings.Repeat("c", rng.IntN(2*limit))
			}
			if len(row) > limit || strings.Contains(row, ",a\"b") {
				w.email, w.name = "", ""
			}
			wants = append(wants, w)
			b.WriteString(row)
			if rng.IntN(2) == 0 {
				b.WriteString("\r\n")
			} else {
				b.WriteString("\n")
			}
			line += strings.Count(row, "\n") + 1
			if rng.IntN(10) == 0 {
				b.WriteString("\n") // a blank line
				line++
			}
		}
		recs, err := readAll(t, b.String(), FormatCSV, Options{MaxRecordBytes: limit})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if len(recs) != len(wants) {
			t.Fatalf("round %d: %d records, want %d", round, len(recs), len(wants))
		}
		for i, w := range wants {
			r := recs[i]
			if r.Line != w.line || r.User.Email != w.email || r.User.Name != w.name || r.Valid() != (w.email != "") {
				t.Fatalf("round %d record %d: line %d %q %q %v; want %+v", round, i, r.Line, r.User.Email, r.User.Name, r.Errors, w)
			}
		}
	}
}
