package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/run"
)

// Tuning Auth0 cannot honour is refused when no value of it works, and
// clamped with a warning when a smaller value does the same job.
func TestTuneSettings(t *testing.T) {
	ok := run.Defaults()
	for _, tc := range []struct {
		name   string
		mode   run.Mode
		edit   func(*report.Settings)
		refuse string // "" when accepted
		warn   string
		check  func(report.Settings) bool
	}{
		{"defaults", run.ModeImport, func(*report.Settings) {}, "", "", nil},
		{"chunk over 500 KB", run.ModeImport, func(s *report.Settings) { s.ChunkBytes = 600000 }, "--chunk-bytes must be between 3 and 512000", "", nil},
		{"chunk of nothing", run.ModeImport, func(s *report.Settings) { s.ChunkBytes = 2 }, "--chunk-bytes", "", nil},
		{"no import jobs", run.ModeImport, func(s *report.Settings) { s.MaxJobs = 0 }, "--max-jobs must be positive", "", nil},
		{"more jobs than a tenant runs", run.ModeImport, func(s *report.Settings) { s.MaxJobs = 5 }, "",
			"--max-jobs 5: Auth0 runs at most 2 import jobs per tenant", func(s report.Settings) bool { return s.MaxJobs == 2 }},
		{"one job", run.ModeImport, func(s *report.Settings) { s.MaxJobs = 1 }, "", "", func(s report.Settings) bool { return s.MaxJobs == 1 }},
		{"no slot wait", run.ModeImport, func(s *report.Settings) { s.SlotWait = 0 }, "--slot-wait must be positive", "", nil},
		{"negative concurrency", run.ModeCreate, func(s *report.Settings) { s.Concurrency = -1 }, "--concurrency must be positive", "", nil},
		{"concurrency beyond any burst", run.ModeCreate, func(s *report.Settings) { s.Concurrency = 500 }, "",
			"--concurrency 500: no Auth0 plan takes more than 50", func(s report.Settings) bool { return s.Concurrency == 50 }},
		{"import settings do not bind create", run.ModeCreate, func(s *report.Settings) { s.MaxJobs = 0 }, "", "", nil},
		{"sync checks its mode", run.ModeSync, func(s *report.Settings) { s.SyncMode, s.MaxJobs = "import", 9 }, "", "--max-jobs 9", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := ok
			tc.edit(&st)
			var warn bytes.Buffer
			err := tuneSettings(tc.mode, &st, &warn)
			var ue *run.UsageError
			switch {
			case tc.refuse != "" && (!errors.As(err, &ue) || !strings.Contains(err.Error(), tc.refuse)):
				t.Fatalf("err = %v, want a usage error saying %q", err, tc.refuse)
			case tc.refuse == "" && err != nil:
				t.Fatalf("err = %v", err)
			}
			if (tc.warn == "") != (warn.Len() == 0) || !strings.Contains(warn.String(), tc.warn) {
				t.Errorf("warning %q, want %q", warn.String(), tc.warn)
			}
			if tc.check != nil && !tc.check(st) {
				t.Errorf("settings %+v", st)
			}
		})
	}
}
