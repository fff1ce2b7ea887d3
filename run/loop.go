package run

// The loop: where reading meets sending, shared by import, create and sync.
// Each run only chooses what admit means for it (resume: skip what is
// settled; sync: skip what is unchanged).

import (
	"context"
	"errors"
	"fmt"

	"github.com/a0bulk/a0bulk/create"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/report"
)

// source yields every input record, validated, in input order; fn's error
// stops it.
type source func(ctx context.Context, fn func(input.Record) error) error

// admitFunc reports whether a record must be sent in this run. False means it is
// already settled (finished in a resumed report, unchanged since the last
// sync) and Admit has journalled whatever that needs. Invalid records are
// passed to Admit too, so a resume can skip the ones it already reported.
// It may change what is sent of a record it admits (a sync's update of an
// existing user goes without its insert-only password hash).
type admitFunc func(*input.Record) (bool, error)

// importLoop streams records into import files of at most ChunkBytes and hands
// them to the scheduler, whose slots back-pressure the reading.
type importLoop struct {
	Source     source
	Journal    report.Journal
	Scheduler  *jobs.Scheduler
	ChunkBytes int
	FirstChunk int       // chunk numbering starts here (a resume continues after the report's last)
	Admit      admitFunc // nil: send everything
	OnRead     func()
}

// Run reads until the source ends (or ctx is cancelled), then waits for the
// scheduler, which runs on workCtx so requests already sent can finish after
// a signal. It returns the reading error and the scheduler's error.
func (p importLoop) Run(ctx, workCtx context.Context) (readErr, sendErr error) {
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
		if ok, err := admit(p.Admit, &rec); err != nil || !ok {
			return err
		}
		if !rec.Valid() {
			return p.Journal.Record(invalidEntry(rec))
		}
		full, err := chunker.Add(rec)
		if errors.Is(err, input.ErrRecordTooLarge) {
			rec.Errors = append(rec.Errors, tooLarge(p.ChunkBytes))
			return p.Journal.Record(invalidEntry(rec))
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

// createLoop streams records to the create runner, whose bounded pool
// back-pressures the reading. Invalid records go to the runner too: it
// journals them.
type createLoop struct {
	Source source
	Runner *create.Runner
	Admit  admitFunc
	OnRead func()
}

// Run is importLoop.Run's counterpart for per-user creates.
func (p createLoop) Run(ctx, workCtx context.Context) (readErr, sendErr error) {
	records := make(chan input.Record)
	done := make(chan error, 1)
	go func() { done <- p.Runner.Run(workCtx, records) }()
	readErr = p.Source(ctx, func(rec input.Record) error {
		if p.OnRead != nil {
			p.OnRead()
		}
		if ok, err := admit(p.Admit, &rec); err != nil || !ok {
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

// keyOf is the report's name for a record read from the input.
func keyOf(rec input.Record) report.Key {
	return report.Key{File: rec.File, Line: rec.Line, Record: rec.Ordinal}
}

func admit(a admitFunc, rec *input.Record) (bool, error) {
	if a == nil {
		return true, nil
	}
	return a(rec)
}

// invalidEntry is the report line of a record that is never sent: every
// problem, each naming its field.
func invalidEntry(rec input.Record) report.Entry {
	return report.Entry{
		File: rec.File, Line: rec.Line, Record: rec.Ordinal, Email: rec.User.Email,
		Status: report.Invalid, Code: "INVALID", Reason: describe(rec.Errors),
	}
}

// describe joins a record's problems, each naming its field.
func describe(errs []input.FieldError) string {
	s := ""
	for i, e := range errs {
		if i > 0 {
			s += "; "
		}
		s += e.Error()
	}
	return s
}

// tooLarge is the problem of a valid record that alone fills more than an
// import file of limit bytes.
func tooLarge(limit int) input.FieldError {
	return input.FieldError{Field: "record", Reason: fmt.Sprintf("larger than the %d-byte import file limit", limit)}
}
