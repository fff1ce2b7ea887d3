package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/run"
)

// Run migrates the users of o.FromConnection in the source to
// o.ToConnection in the target, or resumes the migrate of o.Resume: the
// export (journalled, reused on resume when its file is unchanged), the
// import (the import core, its report and its resume), then the proof.
//
// It returns what it did and the error that decides the exit code: nil,
// a *run.UsageError (nothing sent, or for a resume nothing more), a
// *run.StoppedError (a signal; resumable), a *run.IncompleteError (the
// import ended with invalid or failed records, which the proof explains),
// a *ProofError (the counts do not add up), or any other error (the run
// could not complete; resumable).
func Run(ctx context.Context, env Env, o Options) (*Result, error) {
	env.defaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	m, err := begin(ctx, &env, o)
	if err != nil {
		return nil, err
	}
	defer m.j.close()
	res := &Result{Report: m.p.report, Journal: m.p.journal, ExportFile: m.p.export}
	if err := m.exportPhase(ctx, res); err != nil {
		return res, m.stopped(ctx, err)
	}
	if env.afterExport != nil {
		env.afterExport()
	}
	sum, err := m.importPhase(ctx)
	res.Import = sum
	var incomplete *run.IncompleteError
	if err != nil && !errors.As(err, &incomplete) {
		return res, err
	}
	proof, perr := m.prove(ctx)
	res.Proof = proof
	if perr != nil {
		return res, m.stopped(ctx, perr)
	}
	if perr := proof.check(m.p.report); perr != nil {
		return res, perr
	}
	return res, err
}

// migration is a migrate under way: its files, its journal (locked), what
// it means.
type migration struct {
	env *Env
	o   Options
	p   paths
	j   *journal
	hdr Header
}

func (e *Env) defaults() {
	if e.Import.Clock == nil {
		e.Import.Clock = clock.Real{}
	}
	if e.Notes == nil {
		e.Notes = io.Discard
	}
}

func (m *migration) notef(format string, args ...any) {
	fmt.Fprintf(m.env.Notes, "a0bulk migrate: "+format+"\n", args...)
}

// resumeHint is what finishes a migrate that stopped.
func (m *migration) resumeHint() string { return "a0bulk migrate --resume " + m.p.report }

// begin plans the migrate's files, checks a resume means the same migrate
// (on the same tenants: exit 2 before any request), looks both connections
// up (database connections; a resume's must be the ones it journalled) and
// only then writes the journal: a migrate refused here has written
// nothing, and sent nothing but those two reads.
func begin(ctx context.Context, env *Env, o Options) (*migration, error) {
	m := &migration{env: env, o: o}
	var err error
	if o.Resume != "" {
		m.p = pathsOf(o.Resume)
		if m.j, err = openJournal(m.p.journal, env.Import.Clock); err != nil {
			return nil, resumeError(o.Resume, err)
		}
		if err := m.sameMigrate(); err != nil {
			m.j.close()
			return nil, err
		}
	} else if m.p, err = freshPaths(o.Report, env.Import.Clock.Now()); err != nil {
		return nil, err
	}
	src, dst, err := m.connections(ctx)
	if err != nil {
		m.closeJournal()
		return nil, err
	}
	m.hdr = Header{
		Version: o.Version, Upsert: o.Upsert, Hashes: o.Hashes, Report: m.p.report, ExportFile: m.p.export,
		Source: Side{Domain: env.SourceTenant.Domain, ClientID: env.SourceTenant.ClientID, Connection: src.Name, ConnectionID: src.ID},
		Target: Side{Domain: env.Import.Target.Domain, ClientID: env.Import.Target.ClientID, Connection: dst.Name, ConnectionID: dst.ID},
	}
	if m.j != nil {
		was := m.j.state.Header
		if err := sameConnection("source", was.Source, m.hdr.Source); err != nil {
			m.j.close()
			return nil, resumeError(o.Resume, err)
		}
		if err := sameConnection("target", was.Target, m.hdr.Target); err != nil {
			m.j.close()
			return nil, resumeError(o.Resume, err)
		}
		m.hdr = was
		if err := m.j.append(line{Event: eventResumed}); err != nil {
			m.j.close()
			return nil, err
		}
		return m, nil
	}
	if m.j, err = createJournal(m.p.journal, m.hdr, env.Import.Clock); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *migration) closeJournal() {
	if m.j != nil {
		m.j.close()
	}
}

// resumeError says which --resume a refusal is about; a locked journal
// stays what it is (exit 1: the other migrate runs).
func resumeError(path string, err error) error {
	var usage *run.UsageError
	switch {
	case errors.Is(err, ErrLocked) || errors.As(err, &usage):
		return err
	case errors.Is(err, fs.ErrNotExist):
		return run.Usagef("--resume %s: no migrate journal %s beside it: not the report of an a0bulk migrate (a0bulk import --resume continues an import)", path, JournalPath(path))
	}
	return run.Usagef("--resume %s: %w", path, err)
}

// sameMigrate refuses a resume that changes what the journalled migrate
// means, or that reaches other tenants, before any request.
func (m *migration) sameMigrate() error {
	was := m.j.state.Header
	flag := "--resume " + m.o.Resume
	switch {
	case !run.SameTenant(tenantOf(was.Source), m.env.SourceTenant):
		return run.Usagef("%s: the migrate's source is %s, not %s", flag, describe(tenantOf(was.Source)), describe(m.env.SourceTenant))
	case !run.SameTenant(tenantOf(was.Target), m.env.Import.Target):
		return run.Usagef("%s: the migrate's target is %s, not %s", flag, describe(tenantOf(was.Target)), describe(m.env.Import.Target))
	case was.Source.Connection != m.o.FromConnection:
		return run.Usagef("%s: the migrate's source connection is %q, not %q", flag, was.Source.Connection, m.o.FromConnection)
	case was.Target.Connection != m.o.ToConnection:
		return run.Usagef("%s: the migrate's target connection is %q, not %q", flag, was.Target.Connection, m.o.ToConnection)
	case was.Upsert != m.o.Upsert:
		return run.Usagef("%s: the migrate was run %s --upsert, this run %s it", flag, withOrWithout(was.Upsert), withOrWithout(m.o.Upsert))
	case was.Hashes != m.o.Hashes:
		return run.Usagef("%s: the migrate's --hashes was %q, not %q", flag, was.Hashes, m.o.Hashes)
	case was.Report != m.p.report || was.ExportFile != m.p.export:
		return run.Usagef("%s: the journal %s is of the report %s (moved or renamed since?)", flag, m.p.journal, was.Report)
	}
	return nil
}

func withOrWithout(b bool) string {
	if b {
		return "with"
	}
	return "without"
}

func tenantOf(s Side) report.Tenant {
	return report.Tenant{Domain: s.Domain, ClientID: s.ClientID, ConnectionID: s.ConnectionID}
}

func describe(t report.Tenant) string {
	if t.ClientID == "" {
		return t.Domain
	}
	return fmt.Sprintf("%s (client %s)", t.Domain, t.ClientID)
}

// sameConnection refuses a connection the tenant now gives another id: it
// was deleted and made again, and is another connection.
func sameConnection(side string, was, now Side) error {
	if was.ConnectionID == "" || was.ConnectionID == now.ConnectionID {
		return nil
	}
	return fmt.Errorf("the %s connection %q is %s now, not %s as the migrate journalled (deleted and made again?)", side, was.Connection, now.ConnectionID, was.ConnectionID)
}

// connections looks both connections up: each must exist and be a
// database connection (an import takes users into those only, and only
// those hold the passwords a migrate carries over).
func (m *migration) connections(ctx context.Context) (src, dst *management.Connection, err error) {
	if src, err = database(ctx, m.env.Source, "source", m.o.FromConnection); err != nil {
		return nil, nil, err
	}
	if dst, err = database(ctx, m.env.Target, "target", m.o.ToConnection); err != nil {
		return nil, nil, err
	}
	return src, dst, nil
}

func database(ctx context.Context, api interface {
	ConnectionByName(context.Context, string) (*management.Connection, error)
}, side, name string) (*management.Connection, error) {
	conn, err := api.ConnectionByName(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("looking up the %s connection %q: %w", side, name, err)
	}
	if !conn.IsDatabase() {
		return nil, run.Usagef("the %s connection %q has strategy %q: a0bulk migrates database connections (strategy auth0) only", side, conn.Name, conn.Strategy)
	}
	return conn, nil
}

// stopped is err as the operator must read it: a stop by a signal (the
// context's cause) is a *run.StoppedError with the migrate's resume
// command; any other error names it too, since the journal is written.
func (m *migration) stopped(ctx context.Context, err error) error {
	var usage *run.UsageError
	switch {
	case ctx.Err() != nil:
		return &run.StoppedError{Cause: context.Cause(ctx), Resume: m.resumeHint()}
	case errors.As(err, &usage):
		return err
	}
	return fmt.Errorf("%w; resume with: %s", err, m.resumeHint())
}

// reportStarted reports whether the import report has been written (a
// header at least): from then on it is tied to the export file's bytes.
func reportStarted(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Size() > 0
}
