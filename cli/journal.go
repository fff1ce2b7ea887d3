package cli

import (
	"context"
	"errors"
	"fmt"
	ucli "github.com/urfave/cli/v2"
	"maps"
	"os"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/report"
)

// runMeaning is what a report's header pins down: a resume must mean the
// same run (same mode, connection, upsert, external id and inputs).
type runMeaning struct {
	Mode       string
	Connection string
	Upsert     bool
	ExternalID string
}

// resumable is a report opened with --resume, read before any request.
type resumable struct {
	Path  string
	State *report.State
}

// recordedFlags are written into a run's report header and restored by
// --resume when not given again, so that a resumed run reads its input the
// same way and sends at the same pace and size (the meaning of the run —
// connection, upsert, external id, inputs — is in the header proper).
var recordedFlags = map[string][]string{
	"import": {"format", "map", "chunk-bytes", "max-jobs", "slot-wait", "rate", "max-retries", "send-completion-email"},
	"create": {"format", "map", "rate", "max-retries", "concurrency", "random-password", "verify-email", "custom-domain", "app-client-id"},
}

// headerFlags records this run's recordedFlags for its report header.
func headerFlags(c *ucli.Context, mode string) map[string]string {
	out := map[string]string{}
	for _, name := range recordedFlags[mode] {
		if v := c.Value(name); v != nil {
			out[name] = fmt.Sprint(v)
		}
	}
	return out
}

// loadResume reads a report for --resume and gives every flag the operator
// left out the value the report recorded, before any option is read. A
// contradiction in what the run means is refused later, by openJournal.
func loadResume(c *ucli.Context, path, mode string) (*resumable, error) {
	st, err := report.Load(path)
	if err != nil {
		return nil, usagef("--resume %s: %w", path, err)
	}
	h := st.Header
	if h.Mode != mode {
		return nil, usagef("--resume %s: the report is a %s run, not %s", path, h.Mode, mode)
	}
	restore := map[string]string{"connection": h.Connection, "upsert": fmt.Sprint(h.Upsert)}
	if mode == "import" {
		restore["external-id"] = h.ExternalID
	}
	for _, name := range recordedFlags[mode] {
		if v, ok := h.Extra[name]; ok {
			restore[name] = v
		}
	}
	for name, v := range restore {
		if c.IsSet(name) || v == "" {
			continue
		}
		if err := c.Set(name, v); err != nil {
			return nil, usagef("--resume %s: restoring --%s %q: %w", path, name, v, err)
		}
	}
	if !c.IsSet("input") {
		for _, in := range h.Inputs {
			if err := c.Set("input", in.Path); err != nil {
				return nil, usagef("--resume %s: %w", path, err)
			}
		}
	}
	return &resumable{Path: path, State: st}, nil
}

// journalPlan is a report checked but not yet written: every check that
// can fail with a usage error (exit 2) runs before any call to the tenant,
// and the file is written only once the tenant has answered, so a typo in
// --connection or refused credentials leave no half-started report behind.
type journalPlan struct {
	header report.RunHeader
	path   string
	res    *resumable
	clk    clock.Clock
}

// planJournal checks a fresh report's path, or that a resumed run means the
// same thing and reads the same bytes (inputs, format, --map contents).
func planJournal(m runMeaning, in inputOptions, extra map[string]string, reportPath string, res *resumable, clk clock.Clock) (*journalPlan, error) {
	inputs, err := in.hashInputs()
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	extra = maps.Clone(extra)
	if in.MapFile != "" {
		h, err := report.HashInput(in.MapFile)
		if err != nil {
			return nil, &UsageError{Err: err}
		}
		extra["map_sha256"] = h.SHA256
	}
	p := &journalPlan{res: res, clk: clk, path: reportPath, header: report.RunHeader{
		Version: Version, Mode: m.Mode, Connection: m.Connection, Upsert: m.Upsert,
		ExternalID: m.ExternalID, Inputs: inputs, StartedAt: clk.Now().UTC(), Extra: extra,
	}}
	if res != nil {
		for _, i := range inputs {
			if i.Size < 0 {
				return nil, usagef("--resume needs the original input files; stdin cannot be read twice")
			}
		}
		if err := res.State.Header.Check(p.header); err != nil {
			return nil, usagef("--resume %s: %w", res.Path, err)
		}
		// The same file:line must mean the same record: how it is read
		// counts as much as its bytes.
		for _, k := range []string{"format", "map", "map_sha256"} {
			if was, now := res.State.Header.Extra[k], extra[k]; was != now {
				return nil, usagef("--resume %s: the run read its input with %s %q, not %q", res.Path, k, was, now)
			}
		}
		return p, nil
	}
	if p.path == "" {
		p.path = fmt.Sprintf("a0bulk-%s-%s.ndjson", m.Mode, clk.Now().UTC().Format("20060102T150405Z"))
	}
	if st, err := os.Stat(p.path); err == nil && st.Size() > 0 {
		return nil, usagef("--report %s exists; use --resume %s to continue it, or choose another file", p.path, p.path)
	}
	return p, nil
}

// startFrom dates the run by the tenant's clock when it has answered: users
// created at or after the start are this run's, and that comparison is with
// the tenant's created_at. It returns the start, kept by a resume.
func (p *journalPlan) startFrom(c interface{ ServerTime() (time.Time, bool) }) time.Time {
	if p.res != nil {
		return p.res.State.Header.StartedAt
	}
	if t, ok := c.ServerTime(); ok {
		p.header.StartedAt = t.UTC()
	}
	return p.header.StartedAt
}

// open writes the report (or reopens the resumed one for appending).
func (p *journalPlan) open() (*report.Writer, *report.State, error) {
	if p.res != nil {
		w, st, err := report.Append(p.res.Path, p.clk)
		if err != nil {
			return nil, nil, fmt.Errorf("resuming %s: %w", p.res.Path, err)
		}
		return w, st, nil
	}
	w, err := report.Create(p.path, p.header, p.clk)
	if errors.Is(err, os.ErrExist) {
		return nil, nil, usagef("--report %s exists; use --resume %s to continue it, or choose another file", p.path, p.path)
	}
	if err != nil {
		return nil, nil, &UsageError{Err: fmt.Errorf("creating report: %w", err)}
	}
	return w, nil, nil
}

// openJournal plans and opens at once, for runs that call the tenant only
// after reading (verify --input).
func openJournal(m runMeaning, in inputOptions, extra map[string]string, reportPath string, res *resumable, clk clock.Clock) (*report.Writer, *report.State, error) {
	p, err := planJournal(m, in, extra, reportPath, res, clk)
	if err != nil {
		return nil, nil, err
	}
	return p.open()
}

// graceContext returns a context for in-flight requests: it outlives a
// cancelled parent (a signal) by grace, so that requests already sent can
// finish and have their outcome journalled, but no longer.
func graceContext(parent context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	go func() {
		select {
		case <-parent.Done():
			select {
			case <-time.After(grace):
				cancel()
			case <-ctx.Done():
			}
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
