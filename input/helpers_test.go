package input

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// readAll reads every record of input, and the fatal error if any.
func readAll(t *testing.T, input string, f Format, o Options) ([]Record, error) {
	t.Helper()
	r, err := NewReader(strings.NewReader(input), "in", f, o)
	if err != nil {
		return nil, err
	}
	var recs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Next error %v is not an *InputError", err)
			}
			return recs, err
		}
		recs = append(recs, rec)
		if len(recs) > 1000 {
			t.Fatal("reader does not end")
		}
	}
}

func errs(rec Record) string {
	var s []string
	for _, e := range rec.Errors {
		s = append(s, e.Error())
	}
	return strings.Join(s, "; ")
}

func bp(b bool) *bool { return &b }
func ip(i int) *int   { return &i }

func inputErr(t *testing.T, err error) *InputError {
	t.Helper()
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Fatalf("want *InputError, got %v", err)
	}
	return ie
}
