package migrate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/a0bulk/a0bulk/export"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/run"
	"github.com/a0bulk/a0bulk/words"
)

// exportPhase makes sure the export file is in place, whole and the one
// the journal records, exporting no more than it must:
//
//   - a file journalled and unchanged (size, sha256) is read again;
//   - a journalled file that is gone is downloaded again from its job
//     (Auth0 keeps a job's data 24 hours), and must have the same bytes;
//   - a job journalled without its file (killed while it ran or downloaded)
//     is waited for and downloaded, not started again;
//   - only a job the tenant no longer has (or that ended without a file)
//     is replaced by a new export, and only while the import has not
//     begun: the report is tied to the file's bytes, and a resume never
//     carries it on over another file.
func (m *migration) exportPhase(ctx context.Context, res *Result) error {
	st := &m.j.state
	if f := st.File; f != nil {
		err := sameFile(m.p.export, *f)
		switch {
		case err == nil:
			res.Export, res.Reused = *f, true
			m.notef("reading the export of job %s again: %s, %s (sha256 checked)", f.JobID, m.p.export, words.Count(f.Users, "user"))
			return nil
		case !errors.Is(err, fs.ErrNotExist):
			return run.Usagef("%v: the import report %s is tied to the file as it was downloaded; put it back as it was, or start a new migrate with another --report (users already in the target are then skipped as already present)", err, m.p.report)
		}
		m.notef("%s is gone: downloading the file of export job %s again", m.p.export, f.JobID)
		got, err := m.download(ctx, f.JobID)
		switch {
		case err == nil && (got.SHA256 != f.SHA256 || got.Size != f.Size):
			os.Remove(m.p.export)
			return fmt.Errorf("export job %s gave other bytes than it did before (%s, sha256 %s; now %s, %s): refusing to go on over another file", f.JobID,
				words.Count(int(f.Size), "byte"), short(f.SHA256), words.Count(int(got.Size), "byte"), short(got.SHA256))
		case err == nil:
			res.Export, res.Downloaded = got, true
			return nil
		case !jobGone(err):
			return err
		case reportStarted(m.p.report):
			return run.Usagef("%s is gone and export job %s no longer has its file (%v): the import report %s is tied to that file, so it cannot be resumed over a new export; start a new migrate with another --report (users the first one imported are then skipped as already present)",
				m.p.export, f.JobID, err, m.p.report)
		}
		if err := m.lost(f.JobID, err); err != nil {
			return err
		}
	} else if st.JobID != "" {
		m.notef("waiting for export job %s, which an earlier attempt started", st.JobID)
		got, err := m.downloadAndRecord(ctx, st.JobID)
		switch {
		case err == nil:
			res.Export, res.Downloaded = got, true
			return nil
		case !jobGone(err):
			return err
		}
		if err := m.lost(st.JobID, err); err != nil {
			return err
		}
	}
	got, err := m.downloadAndRecord(ctx, "")
	if err != nil {
		return err
	}
	res.Export, res.Downloaded = got, true
	return nil
}

// lost journals that job and its file are gone, before a new export.
func (m *migration) lost(jobID string, why error) error {
	m.notef("export job %s cannot give its file (%v): starting a new export", jobID, why)
	return m.j.append(line{Event: eventLost, JobID: jobID, Reason: why.Error()})
}

// jobGone: the job will never give a file (the tenant has deleted it, or
// it ended without one).
func jobGone(err error) bool {
	return management.IsNotFound(err) || errors.Is(err, export.ErrNoFile)
}

// downloadAndRecord downloads the file of jobID (a new export job when
// "") and journals it.
func (m *migration) downloadAndRecord(ctx context.Context, jobID string) (ExportFile, error) {
	got, err := m.download(ctx, jobID)
	if err != nil {
		return got, err
	}
	if err := m.j.append(line{Event: eventExported, File: &got}); err != nil {
		return got, err
	}
	m.notef("exported %s of %s (job %s) to %s", words.Count(got.Users, "user"), m.hdr.Source.Connection, got.JobID, got.Path)
	return got, nil
}

// download runs the export into the export file: the job jobID, or a new
// one, journalled as soon as the tenant starts it. What an earlier attempt
// left at the file's name is removed first: the file itself when the
// journal does not record it (killed between its rename and the journal
// line), and partial downloads (killed mid-download).
func (m *migration) download(ctx context.Context, jobID string) (ExportFile, error) {
	if err := m.clearStale(); err != nil {
		return ExportFile{}, err
	}
	show, stop := m.watchJob()
	defer stop()
	o := export.Options{
		Connection: m.hdr.Source.Connection, Format: management.ExportJSON, Out: m.p.export, JobID: jobID,
		API: m.env.Source, HTTP: m.env.HTTP, Clock: m.env.Import.Clock, PollMin: m.env.PollMin, PollMax: m.env.PollMax,
		OnJob: show, Logf: m.env.Logf,
	}
	if jobID == "" {
		o.OnStart = func(job *management.Job) error {
			m.notef("export job %s started in the source", job.ID)
			return m.j.append(line{Event: eventStarted, JobID: job.ID})
		}
	}
	res, err := export.Run(ctx, o)
	if err != nil {
		return ExportFile{}, err
	}
	in, err := report.HashInput(m.p.export)
	if err != nil {
		return ExportFile{}, err
	}
	return ExportFile{JobID: res.JobID, Path: m.p.export, Size: in.Size, SHA256: in.SHA256, Users: res.Users}, nil
}

// clearStale removes what an earlier attempt left where the export goes.
// Only called while the journal records no file there.
func (m *migration) clearStale() error {
	partials, err := export.Partials(m.p.export)
	if err != nil {
		return err
	}
	for _, f := range append(partials, m.p.export) {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s, left by an earlier attempt: %w", f, err)
		}
	}
	return nil
}

// sameFile checks the file at path is the one journalled: its size, then
// its sha256. fs.ErrNotExist when it is gone.
func sameFile(path string, f ExportFile) error {
	in, err := report.HashInput(path)
	if errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if in.Size != f.Size || in.SHA256 != f.SHA256 {
		return fmt.Errorf("%s changed since it was downloaded (%s, sha256 %s; now %s, %s)", path,
			words.Count(int(f.Size), "byte"), short(f.SHA256), words.Count(int(in.Size), "byte"), short(in.SHA256))
	}
	return nil
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// watchJob starts the display of an export job (none without WatchJob).
func (m *migration) watchJob() (show func(*management.Job), stop func()) {
	if m.env.WatchJob == nil {
		return nil, func() {}
	}
	return m.env.WatchJob()
}
