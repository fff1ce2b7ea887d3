package input

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The delimiter is the one that splits the header into known columns:
// semicolons (a European spreadsheet), tabs, commas; quoted fields may hold
// the delimiter, and the other candidates are then plain content.
func TestCSVDelimiterDetected(t *testing.T) {
	tests := []struct {
		name, in string
		o        Options
		want     []User
	}{
		{"semicolon", "email;given_name;family_name\r\na@x.io;Ann;\"Doe; Jr\"\r\nb@x.io;Bo, B;Bee\r\n", Options{},
			[]User{{Email: "a@x.io", GivenName: "Ann", FamilyName: "Doe; Jr"}, {Email: "b@x.io", GivenName: "Bo, B", FamilyName: "Bee"}}},
		{"tab", "email\tname\na@x.io\t\"A\tB\"\n", Options{}, []User{{Email: "a@x.io", Name: "A\tB"}}},
		{"comma with semicolons in cells", "email,name\na@x.io,\"A;B\"\nb@x.io,C;D\n", Options{},
			[]User{{Email: "a@x.io", Name: "A;B"}, {Email: "b@x.io", Name: "C;D"}}},
		{"spaces after semicolons", "email ; name\na@x.io;A\n", Options{}, []User{{Email: "a@x.io", Name: "A"}}},
		{"quoted header", "\"email\";\"user_metadata.a;b\"\na@x.io;1\n", Options{}, []User{{Email: "a@x.io", UserMetadata: map[string]any{"a;b": "1"}}}},
		{"one column: comma", "email\na@x.io\n", Options{}, []User{{Email: "a@x.io"}}},
		{"mapped columns count", "Mail;Vorname\na@x.io;Ann\n", Options{ColumnMap: map[string]string{"Mail": "email", "Vorname": "given_name"}},
			[]User{{Email: "a@x.io", GivenName: "Ann"}}},
		{"forced pipe", "email|name\na@x.io|A,B;C\n", Options{Delimiter: '|'}, []User{{Email: "a@x.io", Name: "A,B;C"}}},
		{"forced semicolon over a comma header", "email;name,x\na@x.io;A,B\n", Options{Delimiter: ';', ColumnMap: map[string]string{"name,x": "name"}},
			[]User{{Email: "a@x.io", Name: "A,B"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := readAll(t, tt.in, FormatCSV, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			var got []User
			for _, r := range recs {
				if !r.Valid() {
					t.Errorf("line %d: %s", r.Line, errs(r))
				}
				got = append(got, r.User)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// A header no delimiter splits into known columns says which were tried,
// and how to give another.
func TestCSVDelimiterNotFound(t *testing.T) {
	_, err := readAll(t, "Mail;Vorname\na@x.io;A\n", FormatCSV, Options{})
	ie := inputErr(t, err)
	if !strings.Contains(ie.Reason, "a comma, a semicolon or a tab") || !strings.Contains(ie.Reason, "--delimiter") {
		t.Errorf("reason %q", ie.Reason)
	}
	_, err = readAll(t, "email;name\na@x.io;A\n", FormatCSV, Options{Delimiter: ','})
	ie = inputErr(t, err)
	if !strings.Contains(ie.Reason, `split at ","`) || !strings.Contains(ie.Reason, "--delimiter") {
		t.Errorf("reason %q", ie.Reason)
	}
}

// The framer under encoding/csv follows the delimiter: a record over the
// limit names its field, and a quoted field after a semicolon (over lines)
// is one field, so the records after it keep their lines.
func TestCSVSemicolonFieldOverLimit(t *testing.T) {
	big := strings.Repeat("x", 3000)
	for _, tt := range []struct {
		name, row string
		lines     int
		field     string
	}{
		{"unquoted", "b@x.io;N;" + big, 1, "given_name"},
		{"quoted over lines", "b@x.io;\"" + big + "\n" + big + "\";B", 2, "name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := "email;name;given_name\na@x.io;\"A\nA\";A\n" + tt.row + "\nc@x.io;\"C;\nC\";C\nd@x.io;D;D\n"
			recs, err := readAll(t, in, FormatCSV, Options{MaxRecordBytes: 1000})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, r.User.Email+"@"+strconv.Itoa(r.Line)+"/"+boolStr(r.Valid()))
			}
			c := 4 + tt.lines
			want := "a@x.io@2/ok @4/bad c@x.io@" + strconv.Itoa(c) + "/ok d@x.io@" + strconv.Itoa(c+2) + "/ok"
			if strings.Join(got, " ") != want {
				t.Fatalf("got %q, want %q", strings.Join(got, " "), want)
			}
			if f := recs[1].Errors[0].Field; f != tt.field {
				t.Errorf("over-limit field %q, want %q", f, tt.field)
			}
		})
	}
}

func TestParseDelimiter(t *testing.T) {
	for in, want := range map[string]byte{",": ',', ";": ';', "tab": '\t', `\t`: '\t', "\t": '\t', "|": '|', ":": ':'} {
		if got, err := ParseDelimiter(in); err != nil || got != want {
			t.Errorf("ParseDelimiter(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", ";;", `"`, "\n", "\r", "a", "7", "é", "semicolon"} {
		if _, err := ParseDelimiter(in); err == nil {
			t.Errorf("ParseDelimiter(%q) accepted", in)
		}
	}
}
