package chaostest

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/a0bulk/a0bulk/sandbox"
)

// The hostile inputs testscript cannot hold (a txtar archive stays text):
// a 10 MB field, invalid UTF-8 and binary files. The textual ones are in
// testdata/script/badinput_*.txtar.

type validation struct {
	Records  int `json:"records"`
	Valid    int `json:"valid"`
	Invalid  int `json:"invalid"`
	Problems []struct {
		File   string `json:"file"`
		Line   int    `json:"line"`
		Reason string `json:"reason"`
	} `json:"invalid_records"`
}

// validate runs `a0bulk validate --output json` on files (offline).
func validate(t *testing.T, files ...string) (result, validation) {
	t.Helper()
	cleanEnv(t)
	args := []string{"validate", "--output", "json"}
	for _, f := range files {
		args = append(args, "--input", f)
	}
	r := run(t, "", args...)
	var v validation
	if err := json.Unmarshal([]byte(r.out), &v); err != nil {
		t.Fatalf("validate printed no JSON: %v\n%s", err, r)
	}
	return r, v
}

func write(t *testing.T, dir, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// goodCSV is the other file of every run: its 3 records must stay valid
// whatever the hostile file before it did.
const goodCSV = "email,given_name\ngood1@example.com,One\ngood2@example.com,Two\ngood3@example.com,Three\n"

// problemIn returns the problems reported for the file named base.
func problemIn(v validation, base string) []string {
	var out []string
	for _, p := range v.Problems {
		if filepath.Base(p.File) == base {
			out = append(out, itoa(p.Line)+": "+p.Reason)
		}
	}
	return out
}

func TestTenMegabyteField(t *testing.T) {
	huge := strings.Repeat("x", 10<<20)
	for _, tc := range []struct {
		name    string
		content string
		// lines the report may name: the record's own line, or the one
		// before when the reader can only say "the record after this one".
		lines []int
		// valid records of this file that must survive (the readers skip
		// an over-long NDJSON line or CSV record, not an over-long JSON
		// array element).
		valid int
	}{
		{"big.ndjson", `{"email":"a@example.com"}` + "\n" + `{"email":"big@example.com","given_name":"` + huge + `"}` + "\n" + `{"email":"c@example.com"}` + "\n", []int{2}, 2},
		{"big.csv", "email,given_name\na@example.com,A\nbig@example.com," + huge + "\nc@example.com,C\n", []int{3}, 2},
		{"bigquoted.csv", "email,given_name\na@example.com,A\nbig@example.com,\"" + huge + "\"\nc@example.com,C\n", []int{3}, 2},
		{"big.json", "[\n" + `{"email":"a@example.com"},` + "\n" + `{"email":"big@example.com","given_name":"` + huge + `"},` + "\n" + `{"email":"c@example.com"}` + "\n]\n", []int{2, 3}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			bad := write(t, dir, tc.name, []byte(tc.content))
			good := write(t, dir, "good.csv", []byte(goodCSV))
			r, v := validate(t, bad, good)
			if r.code != 3 {
				t.Fatalf("exit %d, want 3\n%s", r.code, r)
			}
			if len(r.out)+len(r.errOut) > 64<<10 {
				t.Errorf("%d bytes of output: the huge field was echoed", len(r.out)+len(r.errOut))
			}
			probs := problemIn(v, tc.name)
			if len(probs) != 1 {
				t.Fatalf("problems in %s = %q, want exactly one", tc.name, probs)
			}
			okLine := false
			for _, l := range tc.lines {
				okLine = okLine || strings.HasPrefix(probs[0], itoa(l)+": ")
			}
			if !okLine || !strings.Contains(probs[0], "1048576 bytes") {
				t.Errorf("problem %q: want line %v and the size limit", probs[0], tc.lines)
			}
			if v.Valid != tc.valid+3 {
				t.Errorf("valid = %d, want %d (this file's %d and good.csv's 3)", v.Valid, tc.valid+3, tc.valid)
			}
		})
	}
}

// A record just over the import file limit (500,000 bytes) but under the
// record limit: invalid in an import, and the other users still arrive.
func TestRecordOverChunkLimitInImport(t *testing.T) {
	sb := tenant(t, sandbox.Config{JobDelay: -1})
	dir := t.TempDir()
	var b bytes.Buffer
	b.WriteString(`{"email":"a@example.com"}` + "\n")
	b.WriteString(`{"email":"big@example.com","user_metadata":{"blob":"` + strings.Repeat("y", 600_000) + `"}}` + "\n")
	b.WriteString(`{"email":"c@example.com"}` + "\n")
	in := write(t, dir, "users.ndjson", b.Bytes())
	rep := filepath.Join(dir, "run.ndjson")
	r := run(t, "", "import", "--connection", dbConn, "--input", in, "--report", rep, "--output", "json", "--rate", "1000")
	if r.code != 3 {
		t.Fatalf("%s", r)
	}
	s := parseSummary(t, r)
	counts := account(t, sb, rep, 3, &s)
	if counts["created"] != 2 || counts["invalid"] != 1 {
		t.Errorf("counts %v, want 2 created and 1 invalid", counts)
	}
	for _, e := range finals(t, rep) {
		if e.Status == "invalid" && (e.Line != 2 || e.Reason == "") {
			t.Errorf("invalid line %d reason %q: want line 2 with a reason", e.Line, e.Reason)
		}
	}
	if len(sb.Users()) != 2 {
		t.Errorf("tenant has %d users, want 2", len(sb.Users()))
	}
}

func TestInvalidUTF8(t *testing.T) {
	bad := "B\xffob"
	for _, tc := range []struct {
		name, content string
		line          int
		field         string // the reason starts with it
		valid         int
	}{
		{"field.csv", "email,given_name\na@example.com,A\nb@example.com," + bad + "\nc@example.com,C\n", 3, "given_name:", 2},
		{"email.csv", "email,given_name\na@example.com,A\nb\xfe@example.com,B\nc@example.com,C\n", 3, "email:", 2},
		{"header.csv", "email,given\xffname\na@example.com,A\n", 1, "", 0},
		{"field.ndjson", `{"email":"a@example.com"}` + "\n" + `{"email":"b@example.com","family_name":"` + bad + `"}` + "\n" + `{"email":"c@example.com"}` + "\n", 2, "family_name:", 2},
		{"key.ndjson", `{"email":"a@example.com"}` + "\n" + `{"email":"b@example.com","user_metadata":{"k` + "\xff" + `":"v"}}` + "\n", 2, "", 1},
		{"field.json", "[\n" + `{"email":"a@example.com"},` + "\n" + `{"email":"b@example.com","nickname":"` + bad + `"}` + "\n]\n", 3, "nickname:", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := write(t, dir, tc.name, []byte(tc.content))
			good := write(t, dir, "good.csv", []byte(goodCSV))
			r, v := validate(t, p, good)
			if r.code != 3 {
				t.Fatalf("exit %d, want 3\n%s", r.code, r)
			}
			probs := problemIn(v, tc.name)
			if len(probs) != 1 || !strings.HasPrefix(probs[0], itoa(tc.line)+": "+tc.field) || !strings.Contains(probs[0], "UTF-8") {
				t.Errorf("problems %q, want one at line %d naming %q and UTF-8", probs, tc.line, tc.field)
			}
			if v.Valid != tc.valid+3 {
				t.Errorf("valid = %d, want %d", v.Valid, tc.valid+3)
			}
			if !utf8.ValidString(r.out) {
				t.Error("stdout is not valid UTF-8: the bad bytes were echoed")
			}
		})
	}
}

func TestBinaryFiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	random := make([]byte, 8<<10)
	for i := range random {
		random[i] = byte(rng.IntN(256))
	}
	zeros := make([]byte, 4<<10)
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), random[:512]...)
	gzip := append([]byte{0x1f, 0x8b, 0x08, 0x00}, random[:1024]...)
	for _, tc := range []struct {
		name    string
		content []byte
	}{
		{"random.csv", random}, {"random.json", random}, {"random.ndjson", random},
		{"zeros.csv", zeros}, {"zeros.json", zeros}, {"zeros.ndjson", zeros},
		{"image.csv", png}, {"archive.ndjson", gzip}, {"archive.json", gzip},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := write(t, dir, tc.name, tc.content)
			good := write(t, dir, "good.csv", []byte(goodCSV))
			r, v := validate(t, p, good)
			if r.code != 3 {
				t.Fatalf("exit %d, want 3\n%s", r.code, r)
			}
			probs := problemIn(v, tc.name)
			if len(probs) == 0 {
				t.Fatalf("no problem reported for %s: %+v", tc.name, v)
			}
			for _, pr := range probs {
				if len(pr) > 400 || !utf8.ValidString(pr) {
					t.Errorf("problem %q (%d bytes): want a short, readable reason", tail(pr, 200), len(pr))
				}
			}
			if v.Valid != 3 {
				t.Errorf("valid = %d, want good.csv's 3: %q", v.Valid, probs)
			}
			if len(probs) > 50 {
				t.Errorf("%d problems for one binary file: want it given up on, not one line per byte run", len(probs))
			}
		})
	}
}
