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
	lines
}

func newNDJSONReader(br *bufio.Reader, file string, o Options) *ndjsonReader {
	return &ndjsonReader{file: file, o: o, lines: lines{br: br, max: o.maxRecord()}}
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
