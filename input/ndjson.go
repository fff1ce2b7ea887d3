package input

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ndjsonReader reads one user per line, e.g. an Auth0 user export.
type ndjsonReader struct {
	file string
	o    Options
	br   *bufio.Reader
	line int
	buf  []byte
}

func newNDJSONReader(br *bufio.Reader, file string, o Options) *ndjsonReader {
	return &ndjsonReader{file: file, o: o, br: br}
}

func (n *ndjsonReader) Next() (Record, error) {
	for {
		line, tooLong, err := n.readLine()
		if err != nil && err != io.EOF {
			reason := "reading: " + err.Error()
			if errors.As(err, new(*GzipError)) {
				reason = err.Error()
			}
			return Record{}, &InputError{File: n.file, Line: n.line, Reason: reason, Err: err}
		}
		if tooLong {
			return Record{File: n.file, Line: n.line, Errors: []FieldError{{Reason: fmt.Sprintf("line longer than %d bytes", n.o.maxRecord())}}}, nil
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			rec := Record{File: n.file, Line: n.line}
			decodeMapped(t, n.o, true, &rec)
			return rec, nil
		}
		if err == io.EOF {
			return Record{}, io.EOF
		}
	}
}

// readLine returns the next line without its newline. A line longer than
// the record limit is skipped to its end and reported as tooLong, so memory
// stays bounded. err is io.EOF on the last (possibly empty) line.
func (n *ndjsonReader) readLine() (line []byte, tooLong bool, err error) {
	n.buf = n.buf[:0]
	max := n.o.maxRecord()
	for {
		frag, e := n.br.ReadSlice('\n')
		if !tooLong {
			if len(n.buf)+len(frag) > max+2 { // +2: room for "\r\n"
				tooLong = true
				n.buf = n.buf[:0]
			} else {
				n.buf = append(n.buf, frag...)
			}
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		if e == io.EOF && len(frag) == 0 && len(n.buf) == 0 && !tooLong {
			return nil, false, io.EOF
		}
		n.line++
		if e != nil && e != io.EOF {
			return nil, false, e
		}
		if tooLong {
			return nil, true, e
		}
		b := bytes.TrimSuffix(n.buf, []byte{'\n'})
		b = bytes.TrimSuffix(b, []byte{'\r'})
		if len(b) > max {
			return nil, true, e
		}
		return b, false, e
	}
}
