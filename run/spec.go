package run

import (
	"fmt"

	"github.com/a0bulk/a0bulk/create"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/throttle"
	"github.com/a0bulk/a0bulk/words"
)

// Mode is what a run does; it is the report header's "mode".
type Mode string

const (
	ModeImport Mode = "import" // bulk-import jobs
	ModeCreate Mode = "create" // per-user POST /users (PATCH with upsert)
	ModeSync   Mode = "sync"   // only new and changed users, by SyncMode
	ModeVerify Mode = "verify" // verification emails
)

// Spec is one run: what it means (mode, connection, upsert, external id,
// inputs), how it reads and paces (Settings, recorded in the report header
// and restored by a resume), and where its report goes.
type Spec struct {
	Mode       Mode
	Connection string
	Upsert     bool
	ExternalID string
	// Inputs are the files to read, in order; "-" is standard input.
	Inputs []string
	report.Settings

	// Full (sync) ignores the state's hashes: every valid record is sent.
	Full bool
	// Guard (sync) refuses an input that looks broken (sync.go).
	Guard SyncGuard
	// ReportPath is a fresh run's report (default a0bulk-MODE-TIME.ndjson).
	ReportPath string
	// Resume is the report of the run to continue (import, create).
	Resume string
	// Retry (with Resume) also sends again the records whose final line in
	// the report is failed (--retry-failed), appending to the same report.
	Retry bool
}

// Defaults are the settings a run takes when not told otherwise (the cli's
// flag defaults), and those of a report written before a setting was
// recorded.
func Defaults() report.Settings {
	return report.Settings{
		ChunkBytes: DefaultChunkBytes, MaxJobs: jobs.DefaultMaxJobs, SlotWait: report.Duration(jobs.DefaultSlotWait),
		Concurrency: create.DefaultConcurrency, MaxRetries: DefaultMaxRetries, MaxWait: report.Duration(throttle.DefaultMaxWait),
	}
}

// Defaults of settings no library package owns.
const (
	// DefaultChunkBytes keeps import files a margin under Auth0's 500 KB.
	DefaultChunkBytes = 500000
	// DefaultMaxRetries is the throttle's retries per request after 5xx
	// answers (429s and connection failures are waited out for MaxWait).
	DefaultMaxRetries = 5
)

// Recorded returns the spec a report's header recorded, for a resume of
// mode: the caller overrides what the operator gave again, and the run
// then refuses anything that changes what the report means.
func Recorded(path string, mode Mode) (Spec, error) {
	return recorded(path, mode, Spec{Mode: mode}.resumeFlag())
}

// RecordedRetry is Recorded for --retry-failed: a resume of the report that
// also sends its failed records again.
func RecordedRetry(path string, mode Mode) (Spec, error) {
	spec, err := recorded(path, mode, Spec{Mode: mode, Retry: true}.resumeFlag())
	spec.Retry = err == nil
	return spec, err
}

func recorded(path string, mode Mode, flag string) (Spec, error) {
	h, err := report.ReadHeaderOver(path, Defaults())
	if err != nil {
		return Spec{}, Usagef("%s %s: %w", flag, path, err)
	}
	if Mode(h.Mode) != mode {
		return Spec{}, Usagef("%s %s: the report is of %s run, not %s run", flag, path, words.A(h.Mode), words.A(string(mode)))
	}
	return specOf(h, path), nil
}

// resumeFlag names the flag that continues a report, for messages.
func (s Spec) resumeFlag() string {
	if s.Retry {
		return "--retry-failed"
	}
	return "--resume"
}

func specOf(h report.RunHeader, path string) Spec {
	s := Spec{Mode: Mode(h.Mode), Connection: h.Connection, Upsert: h.Upsert, ExternalID: h.ExternalID, Settings: h.Settings, Resume: path}
	for _, in := range h.Inputs {
		s.Inputs = append(s.Inputs, in.Path)
	}
	return s
}

// sendMode is how the run's records reach the tenant: as import files, or
// one request each (create mode also reads a plaintext password column).
func (s Spec) sendMode() input.Mode {
	if s.Mode == ModeCreate || (s.Mode == ModeSync && s.SyncMode == string(ModeCreate)) {
		return input.ModeCreate
	}
	return input.ModeImport
}

// header is what the report records of the spec. Inputs and the map's hash
// are the caller's (they are read from disk).
func (s Spec) header(version string, inputs []report.Input) report.RunHeader {
	return report.RunHeader{
		Version: version, Mode: string(s.Mode), Connection: s.Connection, Upsert: s.Upsert,
		ExternalID: s.ExternalID, Inputs: inputs, Settings: s.Settings, Keys: report.KeysByRecord,
	}
}

// NextStep is the command that finishes the run of mode whose report at
// reportPath is in state p ("" when it is complete): the one wording of a
// run's summary and of `report summary`.
func NextStep(mode, reportPath string, p report.RunState) string {
	switch p {
	case report.StateIncomplete:
		return Spec{Mode: Mode(mode)}.resumeHint(reportPath)
	case report.StateNeedsVerify:
		return "a0bulk verify --report " + reportPath + " (emails of unknown outcome are not sent twice)"
	}
	return ""
}

// RetryStep is the command that sends again the failed records of the
// complete run of mode whose report at reportPath holds failed of them (""
// when none did, or the mode has no retry: a sync sends them again by
// itself). verify sends failed emails again from the same report.
func RetryStep(mode, reportPath string, failed int) string {
	if failed == 0 {
		return ""
	}
	switch Mode(mode) {
	case ModeImport, ModeCreate:
		return fmt.Sprintf("a0bulk %s --retry-failed %s (sends the %s again, appending to the same report)", mode, reportPath, words.Count(failed, "failed record"))
	case ModeVerify:
		return fmt.Sprintf("a0bulk verify --report %s (sends the %s again)", reportPath, words.Count(failed, "failed email"))
	}
	return ""
}

// againHint is what finishes a run that stopped before its report was
// written: the same command (a resume's, the same --resume).
func (s Spec) againHint() string {
	if s.Resume != "" {
		return s.resumeHint(s.Resume)
	}
	return "the same command (nothing was sent and no report was written)"
}

// resumeHint is what finishes a run that stopped early.
func (s Spec) resumeHint(reportPath string) string {
	switch s.Mode {
	case ModeSync:
		// A sync has no --resume: the state makes running it again the resume.
		return "run the same a0bulk sync again (users the tenant confirmed are skipped)"
	case ModeVerify:
		return "a0bulk verify --report " + reportPath
	}
	// A stopped retry is finished by the retry: it resumes what it left in
	// flight, and sends what is still failed.
	return fmt.Sprintf("a0bulk %s %s %s", s.Mode, s.resumeFlag(), reportPath)
}
