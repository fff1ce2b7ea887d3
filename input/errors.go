package input

import (
	"errors"
	"fmt"
)

// InputError is a problem that makes the rest of one input file unreadable
// (a bad CSV header, malformed JSON mid-array, an unreadable stream). The
// caller reports it and goes on with the next file; records read before it
// stay valid. Record-level problems are never InputErrors: they come back as
// Records with Errors.
type InputError struct {
	File   string
	Line   int // 0 when unknown
	Field  string
	Reason string
	Err    error // underlying cause, if any (never holds record content)
}

func (e *InputError) Error() string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	return s + ": " + e.Reason
}

func (e *InputError) Unwrap() error { return e.Err }

// ErrRecordTooLarge is returned by Chunker.Add when one user serialised alone
// in an array exceeds the chunk limit; the caller marks the record invalid.
var ErrRecordTooLarge = errors.New("record larger than the chunk limit")

// ErrInvalidRecord is returned by Chunker.Add for a record that has errors:
// only valid records may be chunked.
var ErrInvalidRecord = errors.New("record has errors")

// ErrUnknownFormat is returned by DetectFormat when neither an explicit
// format nor the file extension says how to read a file.
var ErrUnknownFormat = errors.New("unknown input format")
