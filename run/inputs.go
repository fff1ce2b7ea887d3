package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/report"
)

// inputs are the files a run reads, and how it reads them.
type inputs struct {
	Paths     []string // "-" is stdin
	Format    string
	MapFile   string
	Mode      input.Mode
	ColumnMap map[string]string
	// byLine: the report being continued predates ordinals, and names its
	// records by file and line alone; records read for it get no ordinal.
	byLine bool
}

// openInputs checks the inputs before anything is read: each exists and
// has a known format, stdin is given at most once, and the map parses.
func openInputs(paths []string, format, mapFile string, mode input.Mode) (inputs, error) {
	in := inputs{Paths: paths, Format: format, MapFile: mapFile, Mode: mode}
	if len(in.Paths) == 0 {
		in.Paths = []string{"-"}
	}
	stdin := 0
	for _, p := range in.Paths {
		if p == "-" {
			stdin++
			continue
		}
		if _, err := input.DetectFormat(p, format); err != nil {
			return in, &UsageError{Err: err}
		}
		if _, err := os.Stat(p); err != nil {
			return in, Usagef("--input: %w", err)
		}
	}
	if stdin > 1 {
		return in, Usagef("--input - (stdin) can be given only once")
	}
	if mapFile != "" {
		m, err := input.LoadColumnMap(mapFile)
		if err != nil {
			return in, Usagef("--map: %w", err)
		}
		in.ColumnMap = m
	}
	return in, nil
}

// fingerprint records what a run reads, so that a report's file:line keeps
// meaning the same record: each input's size and hash (stdin, which cannot
// be read twice, with size -1) and the map file's hash.
func (in inputs) fingerprint() ([]report.Input, string, error) {
	var out []report.Input
	for _, p := range in.Paths {
		if p == "-" {
			out = append(out, report.Input{Path: "-", Size: -1})
			continue
		}
		h, err := report.HashInput(p)
		if err != nil {
			return nil, "", &UsageError{Err: fmt.Errorf("hashing input: %w", err)}
		}
		out = append(out, h)
	}
	mapHash := ""
	if in.MapFile != "" {
		h, err := report.HashInput(in.MapFile)
		if err != nil {
			return nil, "", &UsageError{Err: err}
		}
		mapHash = h.SHA256
	}
	return out, mapHash, nil
}

// reading is one pass over the inputs.
type reading struct {
	in     inputs
	stdin  io.Reader
	counts *byteCounter // nil: not counted
}

// stream reads every input in order, validates every record (one
// validator, so duplicates are caught across files) and hands each record
// to fn. A file that cannot be read further becomes one invalid record at
// the line where it broke, and the next file is read.
func (r reading) stream(ctx context.Context, fn func(input.Record) error) error {
	v := input.NewValidator(r.in.Mode)
	for _, path := range r.in.Paths {
		if err := r.streamFile(ctx, path, v, fn); err != nil {
			return err
		}
	}
	return nil
}

func (r reading) streamFile(ctx context.Context, path string, v *input.Validator, fn func(input.Record) error) error {
	var src io.Reader
	name := path
	if path == "-" {
		src, name = r.stdin, "stdin"
	} else {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("opening input: %w", err)
		}
		defer f.Close()
		src = f
	}
	if r.counts != nil {
		src = r.counts.wrap(src)
	}
	format, err := input.DetectFormat(path, r.in.Format)
	if err != nil {
		return &UsageError{Err: err}
	}
	ordinal := r.ordinals()
	rd, err := input.NewReader(src, name, format, input.Options{Mode: r.in.Mode, ColumnMap: r.in.ColumnMap})
	if err != nil {
		return fileBroken(name, err, func(rec input.Record) error {
			rec.Ordinal = ordinal()
			return fn(rec)
		})
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
			return fileBroken(name, err, func(rec input.Record) error {
				rec.Ordinal = ordinal()
				return fn(rec)
			})
		}
		rec.Ordinal = ordinal()
		v.Check(&rec)
		if err := fn(rec); err != nil {
			return err
		}
	}
}

// ordinals numbers one file's records from 1, every record counted, valid
// or not, so that the same bytes always give the same record the same
// ordinal; for a report that predates ordinals, always 0.
func (r reading) ordinals() func() int {
	n := 0
	return func() int {
		if r.in.byLine {
			return 0
		}
		n++
		return n
	}
}

// fileBroken turns an unreadable remainder of a file into one invalid
// record, so it is in the report (with file, line and reason) and the run
// goes on.
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
func (in inputs) totalBytes() int64 {
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

// byteCounter counts input bytes for the progress display's ETA.
type byteCounter struct{ n atomic.Int64 }

func (c *byteCounter) wrap(r io.Reader) io.Reader { return countingReader{r: r, c: c} }
func (c *byteCounter) Load() int64                { return c.n.Load() }

type countingReader struct {
	r io.Reader
	c *byteCounter
}

func (cr countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.c.n.Add(int64(n))
	return n, err
}
