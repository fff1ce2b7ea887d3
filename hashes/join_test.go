package hashes

import (
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/input"
)

// exportLine is one line of a password-hash export for id (alt_id when alt,
// else _id.$oid), with email at the root or, when inIdentifiers, only in
// identifiers.
func exportLine(id, email, hash string, alt, inIdentifiers bool) string {
	idPart := fmt.Sprintf(`"_id":{"$oid":%q}`, id)
	if alt {
		idPart = `"_id":{"$oid":"5dea9f9c82dd7c0e76e4ec93"},"alt_id":` + fmt.Sprintf("%q", id)
	}
	mail := fmt.Sprintf(`"email":%q,`, email)
	if inIdentifiers {
		mail = ""
	}
	return fmt.Sprintf(`{%s,%s"email_verified":true,"passwordHash":%q,"connection":"Username-Password-Authentication","identifiers":[{"type":"email","value":%q,"verified":true}]}`, idPart, mail, hash, email)
}

func build(t *testing.T, lines []string, o Options) *Index {
	t.Helper()
	o.Dir = t.TempDir()
	x, err := Build(context.Background(), strings.NewReader(strings.Join(lines, "\n")+"\n"), "h.ndjson", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

func rec(line int, id, email string) input.Record {
	return input.Record{File: "users.csv", Line: line, User: input.User{UserID: id, Email: email}}
}

func TestJoin(t *testing.T) {
	h1, h2, h3 := hashOf(1), hashOf(2), hashOf(3)
	type want struct {
		outcome  Outcome
		hash     string // the password_hash the record ends with
		custom   string // or its custom_password_hash (bcrypt) value
		hashLine int
		reason   string // of an invalid record
	}
	for _, tc := range []struct {
		name      string
		lines     []string
		by        By
		records   []input.Record
		want      []want
		unjoined  []Unjoined
		unmatched int
	}{
		{
			name:    "by id: alt_id and $oid, the input's id with and without auth0|",
			lines:   []string{exportLine("euclid", "e@x.io", h1, true, false), exportLine("5dea", "o@x.io", h2, false, false), exportLine("left", "l@x.io", h3, false, false)},
			records: []input.Record{rec(2, "euclid", "e@x.io"), rec(3, "auth0|5dea", "o@x.io"), rec(4, "", "l@x.io"), rec(5, "other", "x@x.io")},
			want: []want{{outcome: Joined, hash: h1, hashLine: 1}, {outcome: Joined, hash: h2, hashLine: 2},
				{outcome: None}, {outcome: None}},
			unjoined:  []Unjoined{{Line: 3, UserID: "auth0|left", Email: "l@x.io"}},
			unmatched: 1,
		},
		{
			name:     "never a doubled prefix: auth0|auth0|x is the id auth0|x, which is not x",
			lines:    []string{exportLine("x", "x@x.io", h1, true, false)},
			records:  []input.Record{rec(2, "auth0|auth0|x", "x@x.io")},
			want:     []want{{outcome: None}},
			unjoined: []Unjoined{{Line: 1, UserID: "auth0|x", Email: "x@x.io"}}, unmatched: 1,
		},
		{
			name:    "an id that starts with auth0| is found exactly before it is found without",
			lines:   []string{exportLine("x", "x@x.io", h1, true, false), exportLine("auth0|x", "xx@x.io", h2, true, false)},
			records: []input.Record{rec(2, "auth0|x", "xx@x.io"), rec(3, "x", "x@x.io")},
			want:    []want{{outcome: Joined, hash: h2, hashLine: 2}, {outcome: Joined, hash: h1, hashLine: 1}},
		},
		{
			name:     "by id does not look at emails",
			lines:    []string{exportLine("a", "a@x.io", h1, false, false)},
			records:  []input.Record{rec(2, "", "a@x.io")},
			want:     []want{{outcome: None}},
			unjoined: []Unjoined{{Line: 1, UserID: "auth0|a", Email: "a@x.io"}}, unmatched: 1,
		},
		{
			name:    "by email: id first, then the email (case-insensitive, from identifiers too)",
			by:      ByEmail,
			lines:   []string{exportLine("a", "a@x.io", h1, false, false), exportLine("b", "B@X.io", h2, false, true), exportLine("c", "c@x.io", h3, false, false)},
			records: []input.Record{rec(2, "c", "not-c@x.io"), rec(3, "", "b@x.io"), rec(4, "foreign-7", "A@x.io")},
			want:    []want{{outcome: Joined, hash: h3, hashLine: 3}, {outcome: Joined, hash: h2, hashLine: 2}, {outcome: Joined, hash: h1, hashLine: 1}},
		},
		{
			name:     "by email: two lines share an email",
			by:       ByEmail,
			lines:    []string{exportLine("a", "same@x.io", h1, false, false), exportLine("b", "Same@x.io", h2, false, false)},
			records:  []input.Record{rec(2, "", "same@x.io")},
			want:     []want{{outcome: Ambiguous, hashLine: 1, reason: "password_hash: ambiguous: lines 1 and 2 of --hashes h.ndjson both have this user's email"}},
			unjoined: []Unjoined{{Line: 1, UserID: "auth0|a", Email: "same@x.io"}, {Line: 2, UserID: "auth0|b", Email: "Same@x.io"}}, unmatched: 2,
		},
		{
			name:     "two lines share a user id",
			lines:    []string{exportLine("a", "a@x.io", h1, false, false), exportLine("a", "a2@x.io", h2, true, false)},
			records:  []input.Record{rec(2, "a", "a@x.io")},
			want:     []want{{outcome: Ambiguous, hashLine: 1, reason: "password_hash: ambiguous: lines 1 and 2 of --hashes h.ndjson both have this user's user id"}},
			unjoined: []Unjoined{{Line: 1, UserID: "auth0|a", Email: "a@x.io"}, {Line: 2, UserID: "auth0|a", Email: "a2@x.io"}}, unmatched: 2,
		},
		{
			name:    "a line goes to one record: the id's, then not to another by email",
			by:      ByEmail,
			lines:   []string{exportLine("a", "old@x.io", h1, false, false)},
			records: []input.Record{rec(2, "a", "new@x.io"), rec(3, "", "old@x.io")},
			want: []want{{outcome: Joined, hash: h1, hashLine: 1},
				{outcome: Ambiguous, hashLine: 1, reason: "password_hash: ambiguous: line 1 of --hashes h.ndjson already went to an earlier record (by email)"}},
		},
		{
			name:    "another bcrypt cost goes as custom_password_hash",
			lines:   []string{exportLine("a", "a@x.io", bcryptAt(12, 1), false, false), exportLine("y", "y@x.io", "$2y$10$"+h2[7:], false, false)},
			records: []input.Record{rec(2, "a", "a@x.io"), rec(3, "y", "y@x.io")},
			want:    []want{{outcome: Joined, custom: bcryptAt(12, 1), hashLine: 1}, {outcome: Joined, custom: "$2y$10$" + h2[7:], hashLine: 2}},
		},
		{
			name:    "a hash that is not bcrypt is not sent",
			lines:   []string{exportLine("a", "a@x.io", "sha1:abcdef", false, false)},
			records: []input.Record{rec(2, "a", "a@x.io")},
			want:    []want{{outcome: Joined, hashLine: 1, reason: "password_hash: the passwordHash of line 1 of --hashes h.ndjson is not a bcrypt hash: a0bulk cannot tell its algorithm (give the user a custom_password_hash in the input instead)"}},
		},
		{
			name:     "unreadable lines are listed and do not stop the rest",
			lines:    []string{`{"_id":`, exportLine("a", "a@x.io", h1, false, false), `{"email":"b@x.io","passwordHash":"` + h2 + `"}`, "", exportLine("c", "c@x.io", h3, false, false)},
			records:  []input.Record{rec(2, "a", "a@x.io"), rec(3, "c", "c@x.io")},
			want:     []want{{outcome: Joined, hash: h1, hashLine: 2}, {outcome: Joined, hash: h3, hashLine: 5}},
			unjoined: []Unjoined{{Line: 1, Reason: "not valid JSON (at byte 7)"}, {Line: 3, Reason: "no user id (neither alt_id nor _id.$oid)"}},
		},
	} {
		for _, budget := range []int{0, 4 << 10} {
			t.Run(fmt.Sprintf("%s/budget=%d", tc.name, budget), func(t *testing.T) {
				x := build(t, tc.lines, Options{By: tc.by, Budget: budget})
				j := NewJoiner(x)
				listedRecords := 0
				for i, r := range tc.records {
					res, err := j.Join(&r)
					if err != nil {
						t.Fatal(err)
					}
					if _, ok := OfRecord(r, res, "h"); ok {
						listedRecords++
					}
					w := tc.want[i]
					got := want{outcome: res.Outcome, hash: r.User.PasswordHash, hashLine: res.HashLine}
					if c := r.User.CustomPasswordHash; c != nil {
						if c.Algorithm != "bcrypt" || c.Hash == nil || c.Hash.Encoding != "utf8" {
							t.Errorf("record %d: custom_password_hash %+v", i, c)
						}
						got.custom = c.Hash.Value
					}
					if len(r.Errors) > 0 {
						got.reason = r.Errors[0].Error()
						if got.hash != "" || got.custom != "" {
							t.Errorf("record %d is invalid yet has a hash", i)
						}
					}
					if got != w {
						t.Errorf("record %d: got %+v\nwant %+v", i, got, w)
					}
					if (res.Outcome == Joined && r.Valid()) != (r.HashLine != 0) {
						t.Errorf("record %d: HashLine %d for outcome %s", i, r.HashLine, res.Outcome)
					}
				}
				var left []Unjoined
				if err := j.Unjoined(func(u Unjoined) error { left = append(left, u); return nil }); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(left, tc.unjoined) {
					t.Errorf("unjoined %+v\nwant %+v", left, tc.unjoined)
				}
				c := j.Counts()
				if c.Unmatched != tc.unmatched || c.Records() != len(tc.records) || c.Lines != x.Lines() {
					t.Errorf("counts %+v", c)
				}
				if listed := len(left) + listedRecords; c.Listed() != listed {
					t.Errorf("Listed() %d, the listing has %d lines", c.Listed(), listed)
				}
			})
		}
	}
}

// A record whose input already has a hash keeps it when the line agrees,
// and is refused when it does not: two hashes for one user.
func TestJoinInputHasAHash(t *testing.T) {
	x := build(t, []string{exportLine("a", "a@x.io", hashOf(1), false, false), exportLine("b", "b@x.io", hashOf(2), false, false)}, Options{})
	j := NewJoiner(x)
	same := rec(2, "a", "a@x.io")
	same.User.PasswordHash = hashOf(1)
	if res, _ := j.Join(&same); res.Outcome != Joined || !same.Valid() || same.User.PasswordHash != hashOf(1) {
		t.Errorf("same hash: %+v %v", res, same.Errors)
	}
	other := rec(3, "b", "b@x.io")
	other.User.CustomPasswordHash = &input.CustomPasswordHash{Algorithm: "md5", Hash: &input.HashValue{Value: "x", Encoding: "hex"}}
	res, _ := j.Join(&other)
	if res.Outcome != Ambiguous || other.Valid() || !strings.HasPrefix(other.Errors[0].Reason, "ambiguous: the input has a password hash and line 2") {
		t.Errorf("another hash: %+v %v", res, other.Errors)
	}
	if c := j.Counts(); c.Joined != 1 || c.Ambiguous != 1 {
		t.Errorf("counts %+v", c)
	}
}

// An invalid record is looked up (its line is not "unmatched") but gets no
// hash, and a line it took is not ambiguous for it.
func TestJoinInvalidRecord(t *testing.T) {
	x := build(t, []string{exportLine("a", "a@x.io", hashOf(1), false, false)}, Options{})
	j := NewJoiner(x)
	first := rec(2, "a", "a@x.io")
	first.Errors = []input.FieldError{{Field: "email", Reason: "bad"}}
	if res, _ := j.Join(&first); res.Outcome != Joined || first.User.PasswordHash != "" || first.HashLine != 0 {
		t.Errorf("invalid record: %+v %+v", res, first)
	}
	if err := j.Unjoined(nil); err != nil || j.Counts().Unmatched != 0 {
		t.Errorf("unmatched %d, %v", j.Counts().Unmatched, err)
	}
}

// The memory budget decides whether keys stay in memory or spill to disk,
// never the answers (TestJoin runs both); a tiny one must spill.
func TestIndexSpillsUnderATinyBudget(t *testing.T) {
	var lines []string
	for i := range 5000 {
		lines = append(lines, exportLine(fmt.Sprintf("id%d", i), fmt.Sprintf("u%d@x.io", i), hashOf(i), i%2 == 0, i%3 == 0))
	}
	x := build(t, lines, Options{By: ByEmail, Budget: 4 << 10})
	if st := x.KeyStats(); st.Spills == 0 || st.Runs == 0 {
		t.Fatalf("no spill: %+v", st)
	}
	j := NewJoiner(x)
	for i := range 5000 {
		r := rec(i+2, fmt.Sprintf("auth0|id%d", i), "")
		if i%2 == 1 {
			r = rec(i+2, "", fmt.Sprintf("U%d@x.io", i))
		}
		if res, err := j.Join(&r); err != nil || res.Outcome != Joined || r.User.PasswordHash != hashOf(i) || r.HashLine != i+1 {
			t.Fatalf("record %d: %+v %v %q", i, res, err, r.User.PasswordHash)
		}
	}
	if err := j.Unjoined(nil); err != nil || j.Counts().Unmatched != 0 {
		t.Fatalf("unmatched %d, %v", j.Counts().Unmatched, err)
	}
}

func TestBuildRefusesAFileWithoutHashLines(t *testing.T) {
	for _, tc := range []struct{ name, body, err string }{
		{"empty", "", "--hashes h.ndjson: the file has no lines"},
		{"a CSV", "email,password_hash\na@x.io,x\n", "--hashes h.ndjson: no line is a password-hash export line (line 1: not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(context.Background(), strings.NewReader(tc.body), "h.ndjson", Options{Dir: t.TempDir()})
			if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

// The copy of the hashes is unlinked at once and the directory is empty
// after Close: a killed run leaves no hash on disk.
func TestIndexLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	x, err := Build(context.Background(), strings.NewReader(exportLine("a", "a@x.io", hashOf(1), false, false)), "h", Options{Dir: dir, Budget: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files visible while open: %v", ents)
	}
	fi, err := x.store.Stat()
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("store mode %v, %v", fi.Mode().Perm(), err)
	}
	x.Close()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files left: %v", ents)
	}
}

// Open reads a gzipped export as it is delivered.
func TestOpenGzip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "h.ndjson.gz")
	writeGzip(t, p, exportLine("a", "a@x.io", hashOf(1), true, false)+"\n")
	x, err := Open(context.Background(), p, Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	r := rec(2, "a", "")
	if res, _ := NewJoiner(x).Join(&r); res.Outcome != Joined {
		t.Fatalf("%+v", res)
	}
}

func writeGzip(t *testing.T, path, body string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
