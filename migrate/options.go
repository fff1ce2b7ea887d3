// Package migrate moves a database connection's users from one Auth0 tenant
// to another in one journalled, resumable run: an export job of the source
// (export.Run), the import of its file into the target through the import
// core (run.Run: import jobs, the report, its resume), then a proof that
// counts both sides and explains every difference.
//
// A migrate is three files beside each other: the import report (the
// contract's report, as `a0bulk import` writes it), the export file it
// reads (REPORT.source.ndjson, 0600, kept: a resume must read the same
// bytes) and the migrate journal (REPORT.migrate.ndjson, journal.go).
package migrate

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/a0bulk/a0bulk/export"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/run"
)

// Options is one migrate: what it means and where its files go.
type Options struct {
	// FromConnection and ToConnection name the database connections.
	FromConnection, ToConnection string
	// Upsert updates target users that exist already (Auth0 overwrites
	// their metadata); without it they are skipped as already present.
	Upsert bool
	// Hashes is the password-hash export from Auth0 support (--hashes),
	// joined into the import by user id (joinHashes).
	Hashes string
	// Report is a fresh migrate's import report (default
	// a0bulk-migrate-TIME.ndjson); the journal and the export file are
	// named after it.
	Report string
	// Resume is the report of the migrate to continue (Recorded gives
	// the options it recorded).
	Resume string
	// Settings tune a fresh import (chunk size, jobs, waits, pacing); a
	// resumed import keeps what its report recorded.
	Settings report.Settings
	// Version is recorded in the journal and the report.
	Version string
}

// Env is what a migrate reaches outside itself.
type Env struct {
	// Source is the source tenant's client: the connection, the export
	// job and its reads.
	Source export.API
	// Target is the target tenant's client, for what the migrate asks of
	// it itself: the connection before anything is exported, and the
	// proof's count job. The import reaches it through Import.Connect
	// (the same client, in the cli).
	Target export.API
	// SourceTenant is the source as configured (run.TenantOf); the
	// target's is Import.Target.
	SourceTenant report.Tenant
	// Import is the import run's environment (its clock is the migrate's).
	Import run.Env
	// HTTP downloads export files; nil: export's own client.
	HTTP *http.Client
	// PollMin and PollMax bound the waits between reads of an export job
	// (zero: the import run's schedule).
	PollMin, PollMax time.Duration
	// WatchJob, when set, shows an export job's progress (the source's,
	// then the target's count): show sees every read of the job, stop
	// ends the display when the job is done with.
	WatchJob func() (show func(*management.Job), stop func())
	// Notes gets the lines an operator reads as the migrate goes (which
	// export it uses, the proof's job); nil: discarded.
	Notes io.Writer
	// Logf gets what an operator should know of a retry (a failed
	// download tried again). Never a link.
	Logf func(format string, args ...any)

	// afterExport, in tests, runs once the export file is journalled,
	// before the import starts.
	afterExport func()
}

// Result is what a migrate did, as far as it got.
type Result struct {
	Report     string `json:"report"`
	Journal    string `json:"journal"`
	ExportFile string `json:"export_file"`
	// Export is the source's export the import read.
	Export ExportFile `json:"export"`
	// Reused: an earlier attempt's file was read again (checked by its
	// sha256); Downloaded: this attempt downloaded it (from a new job, or
	// again from the journalled one).
	Reused     bool `json:"reused_export"`
	Downloaded bool `json:"downloaded"`
	// Import is the import run's summary (nil: it did not start).
	Import *run.Summary `json:"import,omitempty"`
	// Proof is the count of both sides (nil: the import did not end).
	Proof *Proof `json:"proof,omitempty"`
}

// Names of the files beside the report.
const exportSuffix = ".source.ndjson"

// ExportPath is the export file of the migrate whose report is report.
func ExportPath(report string) string { return report + exportSuffix }

// Recorded returns what the migrate whose report is path recorded (its
// connections, upsert, hashes, with Resume set) and its journal header
// (the tenants), for a resume: the caller overrides what the operator gave
// again, and Run refuses any change to what the migrate means.
func Recorded(path string) (Options, Header, error) {
	st, err := ReadJournal(JournalPath(path))
	if err != nil {
		return Options{}, Header{}, resumeError(path, err)
	}
	h := st.Header
	return Options{FromConnection: h.Source.Connection, ToConnection: h.Target.Connection, Upsert: h.Upsert, Hashes: h.Hashes, Resume: path}, h, nil
}

// Validate checks what can be checked before any call to a tenant: every
// error is a usage error (exit 2).
func (o *Options) Validate() error {
	if strings.TrimSpace(o.FromConnection) == "" {
		return run.Usagef("--from-connection is required: the source connection whose users to move")
	}
	if strings.TrimSpace(o.ToConnection) == "" {
		return run.Usagef("--to-connection is required: the target connection to import them into")
	}
	if o.Resume != "" && o.Report != "" {
		return run.Usagef("--resume continues its report; do not give --report too")
	}
	spec := run.Spec{Mode: run.ModeImport, Upsert: o.Upsert}
	if err := joinHashes(&spec, o.Hashes); err != nil {
		return err
	}
	return spec.CheckHashes()
}

// joinHashes hands --hashes to the import run's spec: the one place the
// password-hash join reaches the import. A resumed import's recorded spec
// names the file it joined; it must be the migrate's.
func joinHashes(spec *run.Spec, hashes string) error {
	if spec.Hashes != "" && spec.Hashes != hashes {
		return run.Usagef("the import joined the hashes of %s, not %q", spec.Hashes, hashes)
	}
	spec.Hashes = hashes
	return nil
}

// paths are a migrate's three files.
type paths struct {
	report, journal, export string
}

func pathsOf(report string) paths {
	return paths{report: report, journal: JournalPath(report), export: ExportPath(report)}
}

// freshPaths names a fresh migrate's files and refuses any that exists (a
// migrate never overwrites; an empty report or journal, left by a run
// killed at its first write, is taken over).
func freshPaths(report string, now time.Time) (paths, error) {
	if report == "" {
		report = fmt.Sprintf("a0bulk-migrate-%s.ndjson", now.UTC().Format("20060102T150405Z"))
	}
	p := pathsOf(report)
	for _, f := range []string{p.report, p.journal, p.export} {
		fi, err := os.Lstat(f)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return p, run.Usagef("%s: %w", f, err)
		case f != p.export && fi.Mode().IsRegular() && fi.Size() == 0:
		default:
			return p, run.Usagef("%s exists: a0bulk migrate --resume %s continues that migrate; or choose another --report", f, p.report)
		}
	}
	if fi, err := os.Stat(filepath.Dir(p.report)); err != nil || !fi.IsDir() {
		return p, run.Usagef("--report %s: its directory does not exist", p.report)
	}
	return p, nil
}
