package input

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
)

// Gzip is read transparently: Auth0's user exports are delivered gzipped,
// and people pipe them in as they come. A stream is gzip when it starts
// with gzip's magic (RFC 1952), whatever its name says; the format inside
// is then decided as for any input (--format, the extension without .gz,
// or sniffing). Records keep the compressed file's name and the line of the
// decompressed stream. Memory stays constant: the decompressor holds its
// 32 KiB window, and the readers on top bound each record as before.

var gzipMagic = []byte{0x1f, 0x8b}

// IsGzip reports whether br starts with gzip's magic, without consuming
// anything.
func IsGzip(br *bufio.Reader) bool {
	b, _ := br.Peek(len(gzipMagic))
	return bytes.Equal(b, gzipMagic)
}

// Gunzip returns the decompressed stream of br, which starts with gzip's
// magic (IsGzip). A header that is not gzip after all is an InputError; a
// failure later reads as a GzipError.
func Gunzip(br *bufio.Reader, file string) (*bufio.Reader, error) {
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, &InputError{File: file, Line: 1, Reason: "starts like gzip but is not readable as gzip: " + gzipReason(err), Err: err}
	}
	return bufio.NewReaderSize(gzipErrors{zr}, 64<<10), nil
}

// gzipErrors names a decompression failure as one: a truncated download
// would otherwise read as a truncated JSON array or CSV record.
type gzipErrors struct{ r io.Reader }

func (g gzipErrors) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		err = &GzipError{Err: err}
	}
	return n, err
}

// GzipError is a decompression failure: the file is corrupt or truncated.
// It does not unwrap to io.ErrUnexpectedEOF on purpose (see gzipErrors).
type GzipError struct{ Err error }

func (e *GzipError) Error() string {
	return "the gzip data is corrupt or truncated (" + gzipReason(e.Err) + ")"
}

func gzipReason(err error) string {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "it ends early"
	case errors.Is(err, gzip.ErrChecksum):
		return "checksum mismatch"
	}
	return err.Error()
}

// sniffGzip sniffs the format of the decompressed start of br (gzip),
// without consuming br: it inflates what fits in br's buffer.
func sniffGzip(br *bufio.Reader) Format {
	peeked, _ := br.Peek(br.Size())
	zr, err := gzip.NewReader(bytes.NewReader(peeked))
	if err != nil {
		return FormatCSV
	}
	// The first 64 KiB of content decide, as for a plain stream; an early
	// end (only part of the stream was peeked) is expected.
	head, _ := io.ReadAll(io.LimitReader(zr, 64<<10))
	return sniff(bufio.NewReaderSize(bytes.NewReader(head), 64<<10))
}
