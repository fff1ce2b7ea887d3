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
	// Delimiter is --delimiter's, checked (0: detected per CSV file).
	Delimiter byte
	// byLine: the report being continued predates ordinals, and names its
	// records by file and line alone; records read for it get no ordinal.
	byLine bool
	// spooled are the fingerprints of spool copies, taken while copying
	// (by path): they are not read again to be hashed.
	spooled map[string]report.Input
}

// openInputs checks the inputs before anything is read: each exists, is
// a file or a pipe, has a known format (a pipe without an extension is
// sniffed, as stdin is), none is given twice, and the map and delimiter
// parse. how says how they are read (its Format, Map and Delimiter).
func openInputs(paths []string, how report.Settings, mode input.Mode) (inputs, error) {
	in := inputs{Paths: paths, Format: how.Format, MapFile: how.Map, Mode: mode}
	mapFile := how.Map
	if how.Delimiter != "" {
		d, err := input.ParseDelimiter(how.Delimiter)
		if err != nil {
			return in, &UsageError{Err: err}
		}
		in.Delimiter = d
	}
	if len(in.Paths) == 0 {
		in.Paths = []string{"-"}
	}
	stdin := 0
	type seenFile struct {
		path string
		st   os.FileInfo
	}
	var seen []seenFile
	for _, p := range in.Paths {
		if p == "-" {
			stdin++
			// "--input - --input /dev/stdin" is one pipe read twice.
			if st, err := os.Stdin.Stat(); err == nil {
				seen = append(seen, seenFile{"-", st})
			}
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return in, Usagef("--input: %w", err)
		}
		if st.IsDir() {
			return in, Usagef("--input %s is a directory", p)
		}
		if _, err := in.format(p); err != nil {
			return in, &UsageError{Err: err}
		}
		// The same records twice would be read as duplicates of
		// themselves, and their report lines would collide.
		for _, o := range seen {
			if os.SameFile(o.st, st) {
				return in, Usagef("--input %s and --input %s are the same file: give each input once", o.path, p)
			}
		}
		seen = append(seen, seenFile{p, st})
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

// isPipe says whether path can be read only once: stdin, a FIFO, process
// substitution (/dev/fd/N), a device. Those are never hashed: a run copies
// them first (spoolPipes), and validate and dry runs read them directly.
func isPipe(path string) bool {
	if path == "-" {
		return true
	}
	st, err := os.Stat(path)
	return err == nil && !st.Mode().IsRegular()
}

// format is how path is read: --format, else its extension; a pipe with
// neither (stdin, /dev/fd/63) is sniffed.
func (in inputs) format(path string) (input.Format, error) {
	f, err := input.DetectFormat(path, in.Format)
	if err != nil && errors.Is(err, input.ErrUnknownFormat) && in.Format == "" && isPipe(path) {
		return input.FormatAuto, nil
	}
	return f, err
}

// hasPipe returns the first input that is a pipe, if any.
func (in inputs) hasPipe() (string, bool) {
	for _, p := range in.Paths {
		if isPipe(p) {
			return p, true
		}
	}
	return "", false
}

// fingerprint records what a run reads, so that a report's file:line keeps
// meaning the same record: each input's size and hash and the map file's
// hash. A pipe is never read here (it would be consumed before its
// records): the caller copies it first.
func (in inputs) fingerprint() ([]report.Input, string, error) {
	var out []report.Input
	for _, p := range in.Paths {
		if h, ok := in.spooled[p]; ok {
			out = append(out, h)
			continue
		}
		if isPipe(p) {
			return nil, "", Usagef("--input %s is a pipe, which can be read only once", pipeName(p))
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

// delimiter is how the report records --delimiter: the character itself
// ("" when detected).
func (in inputs) delimiter() string {
	if in.Delimiter == 0 {
		return ""
	}
	return string(rune(in.Delimiter))
}

// pipeName is how messages name an input: "-" is stdin.
func pipeName(path string) string {
	if path == "-" {
		return "stdin"
	}
	return path
}

// reading is one pass over the inputs.
type reading struct {
	in     inputs
	stdin  io.Reader
	counts *byteCounter // nil: not counted
	// join, when set, joins each record with its password hash before it
	// is validated, and ends its pass when every record is read.
	join *hashJoin
}

// stream reads every input in order, validates every record (one
// validator, so duplicates are caught across files) and hands each record
// to fn. A file that cannot be read further becomes one invalid record at
// the line where it broke, and the next file is read. It stops with ctx's
// error as soon as ctx ends, even inside a record or a blocked pipe.
func (r reading) stream(ctx context.Context, fn func(input.Record) error) error {
	v := input.NewValidator(r.in.Mode)
	defer v.Close() // its spill files, if the inputs outgrew its memory
	for _, path := range r.in.Paths {
		if err := r.streamFile(ctx, path, v, fn); err != nil {
			return err
		}
	}
	if r.join != nil {
		return r.join.finish()
	}
	return nil
}

func (r reading) streamFile(ctx context.Context, path string, v *input.Validator, fn func(input.Record) error) error {
	src, name, err := r.open(ctx, path)
	if err != nil {
		return err
	}
	defer src.Close()
	var rs io.Reader = src
	if r.counts != nil {
		rs = r.counts.wrap(rs)
	}
	format, err := r.in.format(path)
	if err != nil {
		return &UsageError{Err: err}
	}
	ordinal := r.ordinals()
	// broken hands on the record that stands for a file's unreadable rest.
	broken := func(rec input.Record) error {
		rec.Ordinal = ordinal()
		if err := r.joined(&rec); err != nil {
			return err
		}
		return fn(rec)
	}
	rd, err := input.NewReader(rs, name, format, input.Options{Mode: r.in.Mode, ColumnMap: r.in.ColumnMap, Delimiter: r.in.Delimiter})
	if err != nil {
		return fileBroken(ctx, name, err, broken)
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
			return fileBroken(ctx, name, err, broken)
		}
		rec.Ordinal = ordinal()
		if err := r.joined(&rec); err != nil {
			return err
		}
		v.Check(&rec)
		if err := v.Err(); err != nil {
			// Whether rec is a duplicate is unknown: it must not be sent,
			// nor reported as anything.
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}

// joined joins rec with its password hash, when the pass joins.
func (r reading) joined(rec *input.Record) error {
	if r.join == nil {
		return nil
	}
	return r.join.join(rec)
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

// open opens one input for reading until ctx ends: a pipe through a
// goroutine (its read may block for good), a file checked between reads.
func (r reading) open(ctx context.Context, path string) (io.ReadCloser, string, error) {
	switch {
	case path == "-":
		return openPipe(ctx, func() (io.ReadCloser, error) { return io.NopCloser(r.stdin), nil }), "stdin", nil
	case isPipe(path):
		return openPipe(ctx, func() (io.ReadCloser, error) { return os.Open(path) }), path, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("opening input: %w", err)
	}
	return struct {
		io.Reader
		io.Closer
	}{ctxReader{ctx: ctx, r: f}, f}, path, nil
}

// fileBroken turns an unreadable remainder of a file into one invalid
// record, so it is in the report (with file, line and reason) and the run
// goes on.
func fileBroken(ctx context.Context, name string, err error, fn func(input.Record) error) error {
	if ctx.Err() != nil {
		return ctx.Err() // the run stopped mid-file: nothing is broken
	}
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
// unknown, as for a pipe).
func (in inputs) totalBytes() int64 {
	var n int64
	for _, p := range in.Paths {
		if isPipe(p) {
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
