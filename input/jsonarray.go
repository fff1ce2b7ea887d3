package input

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// lineCounter sits under the JSON decoder and remembers where the newlines
// are among the bytes the decoder has read but not yet consumed, so that a
// stream offset maps to a line. Only newlines ahead of the last queried
// offset are kept, so memory stays bounded by the decoder's buffer. It also
// stops a single huge element from being buffered whole.
type lineCounter struct {
	r        io.Reader
	read     int64   // bytes handed to the decoder so far
	pending  []int64 // offsets of newlines not yet passed
	passed   int     // newlines before the last queried offset
	mark     int64   // offset of the end of the last element
	maxAhead int64
	// win holds the bytes from mark on (at most about maxAhead), so that a
	// syntax error can be located exactly: the decoder's own error offsets
	// are not stream offsets.
	win      []byte
	winStart int64
}

// setMark records the end of an element and forgets the bytes before it.
func (c *lineCounter) setMark(off int64) {
	c.mark = off
	if d := int(off - c.winStart); d > 0 {
		c.win = c.win[:copy(c.win, c.win[d:])]
		c.winStart = off
	}
}

// errorAt finds the stream offset of a syntax error in the value that
// starts at off, by scanning the retained bytes with a fresh decoder whose
// offsets start at zero. It returns off itself for token-level errors.
func (c *lineCounter) errorAt(off int64) int64 {
	i := off - c.winStart
	if i < 0 || i > int64(len(c.win)) {
		return off
	}
	var raw json.RawMessage
	var se *json.SyntaxError
	if err := json.NewDecoder(bytes.NewReader(c.win[i:])).Decode(&raw); errors.As(err, &se) && se.Offset > 0 {
		return off + se.Offset - 1
	}
	return off
}

var errElementTooLarge = errors.New("element too large")

func (c *lineCounter) Read(p []byte) (int, error) {
	if c.read-c.mark > c.maxAhead {
		return 0, errElementTooLarge
	}
	n, err := c.r.Read(p)
	c.win = append(c.win, p[:n]...)
	for i, b := range p[:n] {
		if b == '\n' {
			c.pending = append(c.pending, c.read+int64(i))
		}
	}
	c.read += int64(n)
	return n, err
}

// lineAt returns the 1-based line of stream offset off. Offsets must not
// go backwards between calls.
func (c *lineCounter) lineAt(off int64) int {
	i := 0
	for i < len(c.pending) && c.pending[i] < off {
		i++
	}
	c.passed += i
	c.pending = c.pending[i:]
	if len(c.pending) == 0 {
		c.pending = nil // let the backing array go
	}
	return c.passed + 1
}

// jsonArrayReader streams the elements of one top-level JSON array.
type jsonArrayReader struct {
	file string
	o    Options
	lc   *lineCounter
	dec  *json.Decoder
	done bool
}

func newJSONArrayReader(r io.Reader, file string, o Options) (*jsonArrayReader, error) {
	// The decoder reads ahead at most about twice the value it holds.
	lc := &lineCounter{r: r, maxAhead: 2*int64(o.maxRecord()) + 64<<10}
	j := &jsonArrayReader{file: file, o: o, lc: lc, dec: json.NewDecoder(lc)}
	tok, err := j.dec.Token()
	if err == io.EOF {
		return nil, &InputError{File: file, Line: 1, Reason: "empty file: want a JSON array of users"}
	}
	if err != nil {
		return nil, j.fatal(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		hint := ""
		if d == '{' {
			hint = " (one object per line is NDJSON: use --format ndjson)"
		}
		return nil, &InputError{File: file, Line: lc.lineAt(j.dec.InputOffset()), Reason: "want a JSON array of users" + hint}
	}
	lc.setMark(j.dec.InputOffset())
	return j, nil
}

// fatal turns a decoder error into an InputError.
func (j *jsonArrayReader) fatal(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		// After an error the decoder stands at the start of the bad value
		// (or at the bad token).
		at := j.lc.errorAt(j.dec.InputOffset())
		return &InputError{File: j.file, Line: j.lc.lineAt(at), Reason: "malformed JSON: " + jsonErr(err) + "; the rest of the file cannot be read", Err: err}
	case errors.Is(err, errElementTooLarge):
		return &InputError{File: j.file, Line: j.lc.lineAt(j.lc.mark), Reason: fmt.Sprintf("the array element starting on or after this line is larger than %d bytes; the rest of the file cannot be read", j.o.maxRecord()), Err: err}
	case errors.As(err, new(*GzipError)):
		// Where the decompressed stream broke: the records before it stand.
		return &InputError{File: j.file, Line: j.lc.lineAt(j.lc.read), Reason: err.Error(), Err: err}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &InputError{File: j.file, Line: j.lc.lineAt(j.lc.read), Reason: "truncated JSON: the array is not closed", Err: err}
	}
	return &InputError{File: j.file, Reason: "reading: " + err.Error(), Err: err}
}

func (j *jsonArrayReader) Next() (Record, error) {
	if j.done {
		return Record{}, io.EOF
	}
	if !j.dec.More() {
		// Closing ']' (or a syntax error), then nothing but whitespace.
		if _, err := j.dec.Token(); err != nil {
			return Record{}, j.fatal(err)
		}
		j.done = true
		if _, err := j.dec.Token(); err != io.EOF {
			if err != nil {
				return Record{}, j.fatal(err)
			}
			return Record{}, &InputError{File: j.file, Line: j.lc.lineAt(j.dec.InputOffset()), Reason: "content after the closing ] of the array"}
		}
		return Record{}, io.EOF
	}
	var raw json.RawMessage
	if err := j.dec.Decode(&raw); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Record{}, j.fatal(err)
	}
	end := j.dec.InputOffset()
	j.lc.setMark(end)
	line := j.lc.lineAt(end) - bytes.Count(raw, []byte{'\n'})
	rec := Record{File: j.file, Line: line}
	if len(raw) > j.o.maxRecord() {
		rec.Errors = append(rec.Errors, FieldError{Reason: fmt.Sprintf("larger than %d bytes", j.o.maxRecord())})
		return rec, nil
	}
	decodeMapped(raw, j.o, false, &rec)
	return rec, nil
}
