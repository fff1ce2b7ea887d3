package migrate

import (
	"context"
	"errors"
	"slices"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/run"
)

// importPhase imports the export file into the target with the import
// core: a fresh import writes the report, a report already begun is
// resumed (records final in it are not sent again; jobs it submitted are
// settled by reading them; the core refuses an input whose bytes changed).
// A stop's resume command is the migrate's.
func (m *migration) importPhase(ctx context.Context) (*run.Summary, error) {
	spec, err := m.importSpec()
	if err != nil {
		return nil, err
	}
	sum, err := run.Run(ctx, m.env.Import, spec)
	again := m.resumeHint()
	if sum != nil && sum.Resume != "" {
		sum.Resume = again
	}
	if sum != nil && sum.RetryCommand != "" {
		// The report is an import's: a0bulk import retries it, reaching
		// the target by the plain variables (AUTH0_DOMAIN, …).
		sum.RetryCommand = "with the target's credentials (AUTH0_DOMAIN=" + m.hdr.Target.Domain + ", …): " + sum.RetryCommand
	}
	var stopped *run.StoppedError
	if errors.As(err, &stopped) && stopped.Resume != "" {
		stopped.Resume = again
	}
	var refused *run.RefusedError
	if errors.As(err, &refused) {
		refused.Resume = again
	}
	return sum, err
}

// importSpec is the import run of the export file: the spec its report
// recorded when it has begun, else a fresh one.
func (m *migration) importSpec() (run.Spec, error) {
	if reportStarted(m.p.report) {
		spec, err := run.Recorded(m.p.report, run.ModeImport)
		if err != nil {
			return spec, err
		}
		if spec.Connection != m.hdr.Target.Connection || spec.Upsert != m.hdr.Upsert || !slices.Equal(spec.Inputs, []string{m.p.export}) {
			return spec, run.Usagef("--resume %s: the report is not the import of this migrate (its connection, --upsert or input differ from %s)", m.p.report, m.p.journal)
		}
		return spec, joinHashes(&spec, m.hdr.Hashes)
	}
	settings := m.o.Settings
	if settings == (report.Settings{}) {
		settings = run.Defaults()
	}
	settings.Format = string(input.FormatNDJSON)
	spec := run.Spec{
		Mode: run.ModeImport, Connection: m.hdr.Target.Connection, Upsert: m.hdr.Upsert,
		Inputs: []string{m.p.export}, Settings: settings, ReportPath: m.p.report,
	}
	return spec, joinHashes(&spec, m.hdr.Hashes)
}
