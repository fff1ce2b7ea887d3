package input

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// Reader yields the records of one input file, in order. Next returns io.EOF
// at the end. A problem with one record is not an error: the record comes
// back with Errors and reading goes on. An error from Next (always an
// *InputError) means the rest of the file cannot be read; it is final for
// this file and the caller goes on with the next one.
type Reader interface {
	Next() (Record, error)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// NewReader returns a streaming reader for r. file names the input in
// records and errors. FormatAuto sniffs the content (stdin, a .gz file).
// Gzip is decompressed on the way, whatever f says (see gzip.go).
func NewReader(r io.Reader, file string, f Format, o Options) (Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if IsGzip(br) {
		var err error
		if br, err = Gunzip(br, file); err != nil {
			return nil, err
		}
	}
	// A UTF-8 BOM (Excel's CSV export writes one) is not content.
	if b, _ := br.Peek(3); bytes.Equal(b, utf8BOM) {
		br.Discard(3)
	}
	if f == FormatAuto {
		f = sniff(br)
	}
	switch f {
	case FormatCSV:
		return newCSVReader(br, file, o)
	case FormatJSON:
		return newJSONArrayReader(br, file, o)
	case FormatNDJSON:
		return newNDJSONReader(br, file, o), nil
	}
	return nil, &InputError{File: file, Reason: fmt.Sprintf("unknown format %q", f), Err: ErrUnknownFormat}
}
