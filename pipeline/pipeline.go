// Package pipeline runs a migration's records from a source to the tenant:
// read, skip what needs no sending, journal what is invalid, and feed the rest
// to the import scheduler (as chunks) or the create runner (one by one). It
// is the one place where reading meets sending, shared by import, create and
// sync; the commands only choose what Admit means for them.
package pipeline

import (
	"context"
	"errors"
	"fmt"

	"github.com/a0bulk/a0bulk/create"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/report"
)

// Source yields every input record, validated, in input order; fn's error
// stops it.
type Source func(ctx context.Context, fn func(input.Record) error) error

// Admit reports whether a record must be sent in this run. False means it is
// already settled (finished in a resumed report, unchanged since the last
// sync) and Admit has journalled whatever that needs. Invalid records are
// passed to Admit too, so a resume can skip the ones it already reported.
type Admit func(input.Record) (bool, error)

// Import streams records into import files of at most ChunkBytes and hands
// them to the scheduler, whose slots back-pressure the reading.
type Import struct {
	Source     Source
	Journal    jobs.Journal
	Scheduler  *jobs.Scheduler
	ChunkBytes int
	FirstChunk int   // chunk numbering starts here (a resume continues after the report's last)
	Admit      Admit // nil: send everything
	OnRead     func()
}

// Run reads until the source ends (or ctx is cancelled), then waits for the
// scheduler, which runs on workCtx so requests already sent can finish after
// a signal. It returns the reading error and the scheduler's error.
func (p Import) Run(ctx, workCtx context.Context) (readErr, sendErr error) {
	chunks := make(chan input.Chunk)
	done := make(chan error, 1)
	go func() { done <- p.Scheduler.Run(workCtx, chunks) }()

	send := func(c *input.Chunk) error {
		select {
		case chunks <- *c:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case err := <-done:
			done <- err
			return fmt.Errorf("import stopped: %w", err)
		}
	}
	chunker := input.NewChunker(p.ChunkBytes, max(p.FirstChunk, 1))
	readErr = p.Source(ctx, func(rec input.Record) error {
		if p.OnRead != nil {
			p.OnRead()
		}
		if ok, err := admit(p.Admit, rec); err != nil || !ok {
			return err
		}
		if !rec.Valid() {
			return p.Journal.Record(InvalidEntry(rec))
		}
		full, err := chunker.Add(rec)
		if errors.Is(err, input.ErrRecordTooLarge) {
			e := InvalidEntry(rec)
			e.Reason = fmt.Sprintf("record: larger than the %d-byte import file limit", p.ChunkBytes)
			return p.Journal.Record(e)
		}
		if err != nil {
			return err
		}
		if full != nil {
			return send(full)
		}
		return nil
	})
	if readErr == nil {
		if last := chunker.Flush(); last != nil {
			readErr = send(last)
		}
	}
	close(chunks)
	return readErr, <-done
}

// Create streams records to the create runner, whose bounded pool
// back-pressures the reading. Invalid records go to the runner too: it
// journals them.
type Create struct {
	Source Source
	Runner *create.Runner
	Admit  Admit
	OnRead func()
}

// Run is Import.Run's counterpart for per-user creates.
func (p Create) Run(ctx, workCtx context.Context) (readErr, sendErr error) {
	records := make(chan input.Record)
	done := make(chan error, 1)
	go func() { done <- p.Runner.Run(workCtx, records) }()
	readErr = p.Source(ctx, func(rec input.Record) error {
		if p.OnRead != nil {
			p.OnRead()
		}
		if ok, err := admit(p.Admit, rec); err != nil || !ok {
			return err
		}
		select {
		case records <- rec:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case err := <-done:
			done <- err
			return fmt.Errorf("create stopped: %w", err)
		}
	})
	close(records)
	return readErr, <-done
}

func admit(a Admit, rec input.Record) (bool, error) {
	if a == nil {
		return true, nil
	}
	return a(rec)
}

// InvalidEntry is the report line of a record that is never sent: every
// problem, each naming its field.
func InvalidEntry(rec input.Record) report.Entry {
	return report.Entry{
		File: rec.File, Line: rec.Line, Email: rec.User.Email,
		Status: report.Invalid, Code: "INVALID", Reason: Describe(rec.Errors),
	}
}

// Describe joins a record's problems, each naming its field.
func Describe(errs []input.FieldError) string {
	s := ""
	for i, e := range errs {
		if i > 0 {
			s += "; "
		}
		s += e.Error()
	}
	return s
}
