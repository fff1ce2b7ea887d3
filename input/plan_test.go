package input

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

func TestPlan(t *testing.T) {
	str := func(s string) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
	}
	inputs := []Input{
		{Name: "a.csv", Format: FormatCSV, Open: str("email\na@x.io\nbad\nb@x.io\n")},
		{Name: "b.csv", Format: FormatCSV, Open: str("email,shoe\n")},                                            // header problem
		{Name: "c.json", Format: FormatJSON, Open: str("[{\"email\":\"c@x.io\"},\n{\"email\":\"A@x.io\"},\n{]")}, // dup, then malformed
		{Name: "gone.csv", Format: FormatCSV, Open: func() (io.ReadCloser, error) { return nil, os.ErrNotExist }},
	}
	var invalid []string
	res, err := Plan(inputs, Options{}, 42, func(r Record) error {
		invalid = append(invalid, r.File+":"+errs(r))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 5 || res.Valid != 3 || res.Invalid != 2 {
		t.Errorf("counts %+v", res.Counts)
	}
	// 18-byte users, limit 42: [a,b] is 39 bytes, c starts a new chunk.
	if len(res.ChunkBytes) != 2 || res.ChunkBytes[0] != 39 || res.ChunkBytes[1] != 20 {
		t.Errorf("chunks %v", res.ChunkBytes)
	}
	want := "a.csv:email: not an email address: no @|c.json:email: duplicate of a.csv:2"
	if strings.Join(invalid, "|") != want {
		t.Errorf("invalid %q", invalid)
	}
	if len(res.InputErrors) != 3 || res.InputErrors[0].File != "b.csv" || res.InputErrors[1].Line != 3 || !errors.Is(res.InputErrors[2], os.ErrNotExist) {
		t.Errorf("input errors %v", res.InputErrors)
	}
}
