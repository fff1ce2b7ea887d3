package input

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The fixtures are used by the CLI scripts too; pin what they contain.
func TestFixtures(t *testing.T) {
	cmap, err := LoadColumnMap("../fixtures/map.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file    string
		mode    Mode
		cmap    map[string]string
		records int
		invalid map[int]string // line → errors
	}{
		{"small.csv", ModeImport, nil, 30, map[int]string{
			7:  "email: not an email address: no @",
			18: "phone_number: not E.164 (want + then country code and number, e.g. +12125550001)",
			31: "email: duplicate of small.csv:2",
		}},
		{"small.json", ModeImport, nil, 12, map[int]string{}},
		{"export.ndjson", ModeImport, nil, 12, map[int]string{}},
		{"create.csv", ModeCreate, nil, 10, map[int]string{}},
		{"legacy.csv", ModeImport, cmap, 5, map[int]string{}},
	}
	v := NewValidator(ModeImport)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("../fixtures", tt.file)
			fh, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			f, _ := DetectFormat(path, "")
			r, err := NewReader(fh, tt.file, f, Options{Mode: tt.mode, ColumnMap: tt.cmap})
			if err != nil {
				t.Fatal(err)
			}
			vv := v
			if tt.mode == ModeCreate {
				vv = NewValidator(ModeCreate)
			}
			got := map[int]string{}
			n := 0
			for {
				rec, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				n++
				vv.Check(&rec)
				if !rec.Valid() {
					got[rec.Line] = errs(rec)
				}
				if tt.mode == ModeCreate && rec.Password == "" {
					t.Errorf("line %d: no password", rec.Line)
				}
			}
			if n != tt.records || !reflect.DeepEqual(got, tt.invalid) {
				t.Errorf("%d records, invalid %v; want %d, %v", n, got, tt.records, tt.invalid)
			}
		})
	}
}
