package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/pipeline"
	"github.com/a0bulk/a0bulk/report"
)

// inputOptions are the flags that say what to read.
type inputOptions struct {
	Paths     []string // "-" is stdin
	Format    string
	MapFile   string
	Mode      input.Mode
	ColumnMap map[string]string
}

func readInputOptions(paths []string, format, mapFile string, mode input.Mode) (inputOptions, error) {
	in := inputOptions{Paths: paths, Format: format, MapFile: mapFile, Mode: mode}
	if len(in.Paths) == 0 {
		in.Paths = []string{"-"}
	}
	stdin := 0
	for _, p := range in.Paths {
		if p == "-" {
			stdin++
		}
		if _, err := input.DetectFormat(p, format); err != nil && p != "-" {
			return in, &UsageError{Err: err}
		}
		if p != "-" {
			if _, err := os.Stat(p); err != nil {
				return in, usagef("--input: %w", err)
			}
		}
	}
	if stdin > 1 {
		return in, usagef("--input - (stdin) can be given only once")
	}
	if mapFile != "" {
		m, err := input.LoadColumnMap(mapFile)
		if err != nil {
			return in, usagef("--map: %w", err)
		}
		in.ColumnMap = m
	}
	return in, nil
}

// hashInputs records what a run reads, so that --resume can refuse a changed
// input. Stdin cannot be re-read, so it is recorded with size -1.
func (in inputOptions) hashInputs() ([]report.Input, error) {
	var out []report.Input
	for _, p := range in.Paths {
		if p == "-" {
			out = append(out, report.Input{Path: "-", Size: -1})
			continue
		}
		h, err := report.HashInput(p)
		if err != nil {
			return nil, fmt.Errorf("hashing input: %w", err)
		}
		out = append(out, h)
	}
	return out, nil
}

// stream reads every input in order, validates every record (one validator,
// so duplicates are caught across files), and hands each record to fn. A file
// that cannot be read further becomes one invalid record at the line where it
// broke, and the next file is read. counter, if not nil, sees the bytes read.
func (in inputOptions) stream(ctx context.Context, s *IOStreams, counter *byteCounter, fn func(input.Record) error) error {
	v := input.NewValidator(in.Mode)
	for _, path := range in.Paths {
		if err := in.streamFile(ctx, s, path, v, counter, fn); err != nil {
			return err
		}
	}
	return nil
}

// source binds stream to this run's streams and byte counter, as the
// pipeline's Source.
func (in inputOptions) source(s *IOStreams, counter *byteCounter) pipeline.Source {
	return func(ctx context.Context, fn func(input.Record) error) error {
		return in.stream(ctx, s, counter, fn)
	}
}

func (in inputOptions) streamFile(ctx context.Context, s *IOStreams, path string, v *input.Validator, counter *byteCounter, fn func(input.Record) error) error {
	var r io.Reader
	name := path
	if path == "-" {
		r, name = s.In, "stdin"
	} else {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("opening input: %w", err)
		}
		defer f.Close()
		r = f
	}
	if counter != nil {
		r = counter.wrap(r)
	}
	format, err := input.DetectFormat(path, in.Format)
	if err != nil {
		return &UsageError{Err: err}
	}
	rd, err := input.NewReader(r, name, format, input.Options{Mode: in.Mode, ColumnMap: in.ColumnMap})
	if err != nil {
		return fileBroken(name, err, fn)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fileBroken(name, err, fn)
		}
		v.Check(&rec)
		if err := fn(rec); err != nil {
			return err
		}
	}
}

// fileBroken turns an unreadable remainder of a file into one invalid record,
// so it is in the report (with file, line and reason) and the run goes on.
func fileBroken(name string, err error, fn func(input.Record) error) error {
	var ie *input.InputError
	if !errors.As(err, &ie) {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	rec := input.Record{File: ie.File, Line: ie.Line, Errors: []input.FieldError{{Field: ie.Field, Reason: ie.Reason}}}
	if rec.File == "" {
		rec.File = name
	}
	return fn(rec)
}

// totalBytes is the size of the input files, for the progress ETA (0 when
// unknown, as for stdin).
func (in inputOptions) totalBytes() int64 {
	var n int64
	for _, p := range in.Paths {
		if p == "-" {
			return 0
		}
		if st, err := os.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n
}
