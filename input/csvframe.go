package input

import (
	"bytes"
	"errors"
	"io"
)

// csvFramer sits under encoding/csv and follows where each record ends (a
// newline outside quotes, as encoding/csv reads them), so that a record
// larger than the limit is cut out of the stream instead of buffered whole:
// the reader stops handing bytes to encoding/csv at the limit, skips the
// rest of that record, and a fresh csv.Reader reads on after it. An
// unterminated quote thus costs one record (the rest of the file), never
// unbounded memory.
//
// Only '"', the delimiter and '\n' matter, as encoding/csv sees them with
// LazyQuotes off: a quote that starts a field opens a quoted field, where
// "" is a quote and a newline is content; a quote anywhere else is a bare
// quote, which spoils its line only.
type csvFramer struct {
	r     io.Reader
	limit int  // the largest record, in bytes (its newline not counted)
	delim byte // the field delimiter (',' ';' '\t' …)

	// Where the scan stands.
	quoted     bool // inside a quoted field
	quoteSeen  bool // inside a quoted field, right after a '"'
	fieldStart bool // the next byte starts a field
	size       int  // bytes of the current record so far
	field      int  // the current record's field, from 0
	lines      int  // newlines scanned
	recLine    int  // the line the current record starts on

	over    bool   // the current record passed the limit
	pending []byte // bytes read from r but not scanned yet
	buf     []byte // backs pending
	err     error  // r's error, returned once pending is empty
}

var errCSVRecordTooLarge = errors.New("CSV record too large")

func newCSVFramer(r io.Reader, limit int, delim byte) *csvFramer {
	return &csvFramer{r: r, limit: limit, delim: delim, fieldStart: true, recLine: 1}
}

// Read hands encoding/csv the scanned bytes, up to the first byte that
// would make a record larger than the limit; from there on it fails with
// errCSVRecordTooLarge until skip.
func (f *csvFramer) Read(p []byte) (int, error) {
	if f.over {
		return 0, errCSVRecordTooLarge
	}
	var n int
	if len(f.pending) > 0 {
		n = copy(p, f.pending)
		f.pending = f.pending[n:]
	} else if f.err != nil {
		return 0, f.err
	} else {
		n, f.err = f.r.Read(p)
	}
	k, ev := f.scan(p[:n], false)
	if ev == scanOver {
		// What was read past the limit is skipped from, not lost.
		f.over = true
		f.pending = append(append(make([]byte, 0, n-k+len(f.pending)), p[k:n]...), f.pending...)
		if k == 0 {
			return 0, errCSVRecordTooLarge
		}
		return k, nil
	}
	if len(f.pending) > 0 {
		return n, nil
	}
	return n, f.err
}

// skip reads past the record that passed the limit, to its end (or the end
// of the file), and returns the line it starts on and the field that made
// it too large. Read then goes on with the next record.
func (f *csvFramer) skip() (line, field int, err error) {
	line, field = f.recLine, f.field
	for {
		if len(f.pending) == 0 {
			if f.err != nil {
				break // the record runs to the end of the file
			}
			if cap(f.buf) < 64<<10 {
				f.buf = make([]byte, 64<<10)
			}
			n, rerr := f.r.Read(f.buf[:cap(f.buf)])
			f.pending, f.err = f.buf[:n], rerr
		}
		k, ev := f.scan(f.pending, true)
		f.pending = f.pending[k:]
		if ev == scanEnded {
			break
		}
	}
	f.over = false
	if f.err != nil && !errors.Is(f.err, io.EOF) {
		return line, field, f.err
	}
	return line, field, nil
}

type scanEvent int

const (
	scanAll   scanEvent = iota // every byte scanned
	scanOver                   // stopped at the byte that passes the limit
	scanEnded                  // (skipping) stopped after the record's newline
)

// scan follows p and returns how many of its bytes it took. Scanning
// (not skipping), it stops at the first byte a record has over the limit;
// skipping, it never stops for size but does after the current record's
// newline.
func (f *csvFramer) scan(p []byte, skipping bool) (int, scanEvent) {
	room := func() int {
		if skipping {
			return len(p)
		}
		return f.limit - f.size
	}
	i := 0
	quoteAt := -1 // the next '"' at or after i, when unquoted (len(p): none)
	for i < len(p) {
		if f.quoted {
			if f.quoteSeen {
				f.quoteSeen = false
				if p[i] != '"' {
					f.quoted = false // that was the closing quote
					continue
				}
				// "" in a quoted field: its second half is content.
				if room() == 0 {
					f.quoteSeen = true // p[i] is still to be scanned
					return i, scanOver
				}
				f.size++
				i++
				continue
			}
			end := len(p)
			if j := bytes.IndexByte(p[i:], '"'); j >= 0 {
				end = i + j + 1
				f.quoteSeen = true
			}
			if r := room(); end-i > r {
				f.lines += bytes.Count(p[i:i+r], newline)
				f.size += r
				f.quoteSeen = false
				return i + r, scanOver
			}
			f.lines += bytes.Count(p[i:end], newline)
			f.size += end - i
			i = end
			continue
		}
		if quoteAt < i {
			quoteAt = len(p)
			if j := bytes.IndexByte(p[i:], '"'); j >= 0 {
				quoteAt = i + j
			}
		}
		stop := quoteAt
		if j := bytes.IndexByte(p[i:quoteAt], '\n'); j >= 0 {
			stop = i + j
		}
		seg := p[i:stop]
		if r := room(); len(seg) > r {
			f.field += bytes.Count(seg[:r], []byte{f.delim})
			f.size += r
			return i + r, scanOver
		}
		if len(seg) > 0 {
			f.field += bytes.Count(seg, []byte{f.delim})
			f.fieldStart = seg[len(seg)-1] == f.delim
			f.size += len(seg)
		}
		i = stop
		if i == len(p) {
			break
		}
		if p[i] == '\n' {
			// The record's newline (or a blank line, which encoding/csv
			// skips): the next record starts after it.
			f.lines++
			f.size, f.field, f.fieldStart, f.recLine = 0, 0, true, f.lines+1
			i++
			if skipping {
				return i, scanEnded
			}
			continue
		}
		// A quote: it opens a quoted field where a field starts, and is a
		// bare quote (an error for that line) anywhere else.
		if room() == 0 {
			return i, scanOver
		}
		f.quoted = f.fieldStart
		f.fieldStart = false
		f.size++
		i++
	}
	return i, scanAll
}

var newline = []byte{'\n'}
