package gen

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/input"
)

func readAll(t *testing.T, data []byte, f input.Format, mode input.Mode) (valid, invalid int, recs []input.Record) {
	t.Helper()
	r, err := input.NewReader(bytes.NewReader(data), "g", f, input.Options{Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	v := input.NewValidator(mode)
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		v.Check(&rec)
		if rec.Valid() {
			valid++
		} else {
			invalid++
		}
		recs = append(recs, rec)
	}
}

func TestDeterministicAndValid(t *testing.T) {
	for _, f := range []input.Format{input.FormatCSV, input.FormatJSON, input.FormatNDJSON} {
		for _, mode := range []input.Mode{input.ModeImport, input.ModeCreate} {
			var a, b bytes.Buffer
			o := GenOptions{Mode: mode}
			if err := Users(7, 300, &a, f, o); err != nil {
				t.Fatal(err)
			}
			Users(7, 300, &b, f, o)
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatalf("%s: same seed, different output", f)
			}
			valid, invalid, recs := readAll(t, a.Bytes(), f, mode)
			if valid != 300 || invalid != 0 {
				t.Fatalf("%s %s: %d valid, %d invalid; first bad: %+v", f, mode, valid, invalid, firstBad(recs))
			}
			if mode == input.ModeCreate && recs[0].Password == "" {
				t.Errorf("%s: no password in create mode", f)
			}
		}
	}
}

func firstBad(recs []input.Record) any {
	for _, r := range recs {
		if !r.Valid() {
			return r
		}
	}
	return nil
}

func TestExportStyle(t *testing.T) {
	var buf bytes.Buffer
	if err := Users(3, 50, &buf, input.FormatNDJSON, GenOptions{Export: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"user_id":"auth0|`) || !strings.Contains(buf.String(), `"identities"`) {
		t.Fatalf("not export-like: %.300s", buf.String())
	}
	valid, _, recs := readAll(t, buf.Bytes(), input.FormatNDJSON, input.ModeImport)
	if valid != 50 || strings.HasPrefix(recs[0].User.UserID, "auth0|") {
		t.Fatalf("%d valid, user_id %q", valid, recs[0].User.UserID)
	}
}

func TestRates(t *testing.T) {
	for _, f := range []input.Format{input.FormatCSV, input.FormatJSON} {
		var buf bytes.Buffer
		if err := Users(11, 1000, &buf, f, GenOptions{InvalidRate: 0.1, DuplicateRate: 0.05}); err != nil {
			t.Fatal(err)
		}
		_, invalid, recs := readAll(t, buf.Bytes(), f, input.ModeImport)
		dups := 0
		for _, r := range recs {
			for _, e := range r.Errors {
				if strings.HasPrefix(e.Reason, "duplicate of") {
					dups++
				}
			}
		}
		if invalid < 100 || invalid > 200 || dups < 20 || dups > 80 {
			t.Errorf("%s: %d invalid, %d duplicates of 1000", f, invalid, dups)
		}
	}
}
