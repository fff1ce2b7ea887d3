package report

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/a0bulk/a0bulk/clock"
)

// A run killed between creating its report and writing the header leaves
// an empty file: Create takes it over instead of refusing it forever.
func TestCreateTakesOverEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.ndjson")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := Create(path, testHeader(), clock.NewFake(t0))
	if err != nil {
		t.Fatalf("Create over an empty file: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if st.Header.Mode != testHeader().Mode {
		t.Fatalf("header mode %q, want %q", st.Header.Mode, testHeader().Mode)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o, want 600", fi.Mode().Perm())
	}
}
