package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/report"
)

// journalPlan is a report checked but not yet written: every check that
// can fail with a usage error (exit 2) runs before any call to the tenant,
// and the file is written only once the tenant has answered, so a typo in
// the connection or refused credentials leave no half-started report.
// It is the one way a run's journal is opened: fresh, resumed or sync.
type journalPlan struct {
	header report.RunHeader
	mode   Mode
	path   string
	res    *reopened // a resume: the report and its reopened inputs
	clk    clock.Clock
	// in are the inputs the run reads: a fresh run's piped inputs are
	// replaced by their copies (spools), which the report names.
	in     inputs
	spools []string
	env    *Env
	// purpose is why a resume appends (a retry, or a plain resume), and
	// flag the flag that asked for it, for messages.
	purpose report.Purpose
	flag    string
}

// planJournal checks a fresh report's path, or that a resumed run means
// the same thing, on the same tenant, and reads the same bytes the same way (inputs, format,
// map file and its contents). A fresh run's pipes are copied next to the
// report (spoolPipes) before anything is hashed.
func planJournal(ctx context.Context, env *Env, spec Spec, in inputs) (*journalPlan, error) {
	p := &journalPlan{mode: spec.Mode, path: spec.ReportPath, clk: env.Clock, in: in, env: env, flag: spec.resumeFlag()}
	if spec.Retry {
		p.purpose = report.ForRetry
	}
	if spec.Resume != "" {
		if pipe, ok := in.hasPipe(); ok {
			return nil, Usagef("%s %s: %s is a pipe, which cannot be read again (a run that reads one keeps a copy next to its report, and its resume reads that)", spec.resumeFlag(), spec.Resume, pipeName(pipe))
		}
	} else {
		if p.path == "" {
			p.path = fmt.Sprintf("a0bulk-%s-%s.ndjson", spec.Mode, env.Clock.Now().UTC().Format("20060102T150405Z"))
		}
		if st, err := os.Stat(p.path); err == nil && st.Size() > 0 {
			return nil, p.existsError()
		}
		var err error
		if p.in, p.spools, err = in.spoolPipes(ctx, env, p.path); err != nil {
			return nil, err
		}
	}
	fp, mapHash, err := p.in.fingerprint()
	if err != nil {
		p.discard()
		return nil, err
	}
	spec.Format, spec.Map, spec.MapSHA256, spec.Delimiter = in.Format, in.MapFile, mapHash, in.delimiter()
	p.header = spec.header(env.Version, fp)
	p.header.StartedAt = env.Clock.Now().UTC()
	p.header.Tenant = TenantOf(env.Target.Domain, env.Target.ClientID, "")
	if spec.Resume != "" {
		res, err := resumed(env, spec, p.in, p.header, mapHash)
		if err != nil {
			return nil, err
		}
		p.res, p.path = res, res.Path
	}
	return p, nil
}

// discard removes the copies of piped inputs of a run that stops before
// its report is written: no report names them.
func (p *journalPlan) discard() {
	removeSpools(p.env, p.spools)
	p.spools = nil
}

// resumed reopens the report of a resume: it must be of the tenant env
// reaches (as far as is known before the connection is looked up), mean the
// run now given (mode, connection, upsert, external id, inputs) and read the
// same bytes the same way (format, map file and its contents). The inputs
// were just fingerprinted into now; they are not read twice.
func resumed(env *Env, spec Spec, in inputs, now report.RunHeader, mapHash string) (*reopened, error) {
	flag := spec.resumeFlag()
	st, err := report.Load(spec.Resume)
	if err != nil {
		return nil, Usagef("%s %s: %w", flag, spec.Resume, err)
	}
	was := st.Header
	if err := checkReportTenant(env, flag, spec.Resume, was.Tenant); err != nil {
		return nil, err
	}
	if err := was.Check(now); err != nil {
		return nil, Usagef("%s %s: %w", flag, spec.Resume, err)
	}
	for _, c := range []struct{ name, was, now string }{
		{"format", was.Settings.Format, spec.Format},
		{"map", was.Settings.Map, spec.Map},
		{"delimiter", was.Settings.Delimiter, spec.Delimiter},
	} {
		if c.was != c.now {
			shown := func(v string) string {
				if v == "" && c.name == "delimiter" {
					return "detected from the header"
				}
				return strconv.Quote(v)
			}
			return nil, Usagef("%s %s: the run read its input with %s %s, not %s", flag, spec.Resume, c.name, shown(c.was), shown(c.now))
		}
	}
	if err := unchanged(was, now.Inputs, mapHash); err != nil {
		return nil, Usagef("%s %s: %w", flag, spec.Resume, err)
	}
	// The same hashes joined the same way (openHashes compared the file's
	// content): a record sent without its hash would lose it for good.
	if joinOf(was.Settings) != joinOf(spec.Settings) {
		return nil, Usagef("%s %s: the run joined %s, not %s", flag, spec.Resume, joinOf(was.Settings), joinOf(spec.Settings))
	}
	return &reopened{Path: spec.Resume, State: st, in: in}, nil
}

// joinOf names the hash join of a run's settings, for comparing and for
// messages.
func joinOf(st report.Settings) string {
	if st.Hashes == "" {
		return "no --hashes"
	}
	by := st.HashesBy
	if by == "" {
		by = "id"
	}
	return fmt.Sprintf("--hashes %s (by %s)", strconv.Quote(st.Hashes), by)
}

func (p *journalPlan) existsError() error {
	if p.mode == ModeSync {
		return Usagef("--report %s exists; choose another file (a sync has no --resume: run it again)", p.path)
	}
	return Usagef("--report %s exists; use --resume %s to continue it, or choose another file", p.path, p.path)
}

// startFrom dates the run by the tenant's clock when it has answered:
// users created at or after the start are this run's, and that comparison
// is with the tenant's created_at. A resume keeps the original start.
func (p *journalPlan) startFrom(t interface{ ServerTime() (time.Time, bool) }) time.Time {
	if p.res != nil {
		return p.res.State.Header.StartedAt
	}
	if st, ok := t.ServerTime(); ok {
		p.header.StartedAt = st.UTC()
	}
	return p.header.StartedAt
}

// open writes the report (or reopens the resumed one for appending). The
// state is the resumed report's, nil for a fresh one.
func (p *journalPlan) open() (*report.Writer, *report.State, error) {
	if p.res != nil {
		w, st, err := report.AppendFor(p.res.Path, p.clk, p.purpose)
		if err != nil {
			return nil, nil, fmt.Errorf("resuming %s: %w", p.res.Path, err)
		}
		return w, st, nil
	}
	w, err := report.Create(p.path, p.header, p.clk)
	if errors.Is(err, os.ErrExist) {
		return nil, nil, p.existsError()
	}
	if err != nil {
		return nil, nil, &UsageError{Err: fmt.Errorf("creating report: %w", err)}
	}
	return w, nil, nil
}
