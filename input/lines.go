package input

import (
	"bufio"
	"bytes"
	"io"
)

// lines reads a stream a line at a time in bounded memory: a line longer
// than max bytes is skipped to its end and reported as too long. NDJSON
// inputs and the password-hash export (LineReader) read this way.
type lines struct {
	br   *bufio.Reader
	max  int
	line int // of the line last returned, from 1
	buf  []byte
}

// readLine returns the next line without its newline. A line longer
// than the record limit is skipped to its end and reported as tooLong, so memory
// stays bounded. err is io.EOF on the last (possibly empty) line.
func (n *lines) readLine() (line []byte, tooLong bool, err error) {
	n.buf = n.buf[:0]
	max := n.max
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

// LineReader reads lines of at most a given size, for other line formats
// than the inputs' (the password-hash export).
type LineReader struct{ l lines }

// NewLineReader reads br's lines of at most max bytes.
func NewLineReader(br *bufio.Reader, max int) *LineReader {
	return &LineReader{l: lines{br: br, max: max}}
}

// Next returns the next line without its newline, and its number (from
// 1). A line longer than max comes back as tooLong, without its bytes. err
// is io.EOF with the last line (possibly empty), then alone; any other
// error ends the stream.
func (r *LineReader) Next() (line []byte, n int, tooLong bool, err error) {
	line, tooLong, err = r.l.readLine()
	return line, r.l.line, tooLong, err
}
