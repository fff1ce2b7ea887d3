package run

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/sandbox"
)

// startedReport writes the report of a run that read in through mapFile
// and settled nothing yet: every record is still to be sent.
func startedReport(t *testing.T, dir string, spec Spec) string {
	t.Helper()
	spec.ReportPath = filepath.Join(dir, "run.ndjson")
	in, err := openInputs(spec.Inputs, spec.Settings, spec.sendMode())
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{Version: "test", Clock: clock.NewFake(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))}
	env.defaults()
	jp, err := planJournal(context.Background(), env, spec, in)
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := jp.open()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return spec.ReportPath
}

// Every command that reads a report's inputs again (report failures, verify
// --report, --resume) refuses one whose --map file changed since the run:
// the same file:line would be read as another user. report failures and
// verify --report used to compare only the inputs, and printed other users
// with exit 0 after the map was edited.
func TestReopenRefusesAChangedMap(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(csv, []byte("Mail,Other\na@example.com,b@example.com\nc@example.com,d@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mapFile := filepath.Join(dir, "map.json")
	if err := os.WriteFile(mapFile, []byte(`{"Mail":"email","Other":"-"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	spec := Spec{Mode: ModeImport, Connection: "Username-Password-Authentication", Inputs: []string{csv}}
	spec.Map, spec.ChunkBytes, spec.MaxJobs = mapFile, 500000, 2
	path := startedReport(t, dir, spec)

	failures := func() ([]string, error) {
		fr, err := ReadFailures(Env{}, path)
		if err != nil {
			return nil, err
		}
		var emails []string
		_, err = fr.Each(context.Background(), Env{}, func(u FailedUser) error { emails = append(emails, u.Email); return nil }, func(string, int, string) {})
		return emails, err
	}
	if got, err := failures(); err != nil || strings.Join(got, " ") != "a@example.com c@example.com" {
		t.Fatalf("before the edit: %v, %v", got, err)
	}

	// The same bytes of input, read through another map: other users.
	if err := os.WriteFile(mapFile, []byte(`{"Mail":"-","Other":"email"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	sb := sandbox.New(sandbox.Config{JobDelay: -1})
	ts := httptest.NewServer(sb)
	t.Cleanup(ts.Close)
	env := Env{Connect: testConnect(t, ts.URL)}
	recorded, err := Recorded(path, ModeImport)
	if err != nil {
		t.Fatal(err)
	}
	for name, try := range map[string]func() error{
		"report failures": func() error { _, err := failures(); return err },
		"verify --report": func() error {
			_, err := Verify(context.Background(), env, VerifySpec{FromReport: path, Concurrency: 1})
			return err
		},
		"--resume": func() error { _, err := Run(context.Background(), env, recorded); return err },
	} {
		err := try()
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--map file") || !strings.Contains(err.Error(), "changed since the run") {
			t.Errorf("%s: err = %v, want a usage error naming the changed map", name, err)
		}
	}
	if n := len(sb.Stats().Requests); n != 0 {
		t.Fatalf("a refused run reached the tenant: %v", sb.Stats().Requests)
	}
	// Nothing was appended to the report either.
	if b, err := os.ReadFile(path); err != nil || strings.Count(string(b), "\n") != 1 {
		t.Fatalf("the report changed: %q, %v", b, err)
	}
}
