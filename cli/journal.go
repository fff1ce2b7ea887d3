package cli

import (
	"context"
	"errors"
	"fmt"
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

// loadResume reads a report for --resume and fills the options the operator
// left out from its header; a contradiction is a usage error (exit 2).
func loadResume(path string, m *runMeaning, in *inputOptions, set func(string) bool) (*resumable, error) {
	st, err := report.Load(path)
	if err != nil {
		return nil, usagef("--resume %s: %w", path, err)
	}
	h := st.Header
	if h.Mode != m.Mode {
		return nil, usagef("--resume %s: the report is a %s run, not %s", path, h.Mode, m.Mode)
	}
	if !set("connection") {
		m.Connection = h.Connection
	}
	if !set("upsert") {
		m.Upsert = h.Upsert
	}
	if !set("external-id") {
		m.ExternalID = h.ExternalID
	}
	if !set("input") {
		in.Paths = nil
		for _, i := range h.Inputs {
			in.Paths = append(in.Paths, i.Path)
		}
	}
	if !set("format") {
		in.Format = h.Extra["format"]
	}
	if !set("map") {
		in.MapFile = h.Extra["map"]
	}
	return &resumable{Path: path, State: st}, nil
}

// openJournal starts a fresh report, or appends to the resumed one after
// checking that the run means the same thing and reads the same bytes.
func openJournal(m runMeaning, in inputOptions, reportPath string, res *resumable, clk clock.Clock) (*report.Writer, *report.State, error) {
	inputs, err := in.hashInputs()
	if err != nil {
		return nil, nil, &UsageError{Err: err}
	}
	now := report.RunHeader{
		Version: Version, Mode: m.Mode, Connection: m.Connection, Upsert: m.Upsert,
		ExternalID: m.ExternalID, Inputs: inputs, StartedAt: clk.Now().UTC(),
		Extra: map[string]string{"format": in.Format, "map": in.MapFile},
	}
	if res != nil {
		for _, i := range inputs {
			if i.Size < 0 {
				return nil, nil, usagef("--resume needs the original input files; stdin cannot be read twice")
			}
		}
		if err := res.State.Header.Check(now); err != nil {
			return nil, nil, usagef("--resume %s: %w", res.Path, err)
		}
		w, st, err := report.Append(res.Path, clk)
		if err != nil {
			return nil, nil, fmt.Errorf("resuming %s: %w", res.Path, err)
		}
		return w, st, nil
	}
	if reportPath == "" {
		reportPath = fmt.Sprintf("a0bulk-%s-%s.ndjson", m.Mode, clk.Now().UTC().Format("20060102T150405Z"))
	}
	w, err := report.Create(reportPath, now, clk)
	if errors.Is(err, os.ErrExist) {
		return nil, nil, usagef("--report %s exists; use --resume %s to continue it, or choose another file", reportPath, reportPath)
	}
	if err != nil {
		return nil, nil, &UsageError{Err: fmt.Errorf("creating report: %w", err)}
	}
	return w, nil, nil
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
