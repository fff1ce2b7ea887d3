package report

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// decodeLine parses one report line into wl. Record lines, nearly all of a
// report, are flat objects of strings and integers that this package wrote
// itself: decodeFlat reads those about eight times faster than
// encoding/json, which a resume of 10M records would otherwise spend a
// minute in. Anything else (the header, end-of-run lines, escapes, a torn
// or hand-edited line) goes to encoding/json, which gives the same result
// or the error.
func decodeLine(b []byte, wl *wireLine) error {
	if decodeFlat(b, &wl.Entry, &wl.For) {
		return nil
	}
	*wl = wireLine{}
	return json.Unmarshal(b, wl)
}

// knownStatuses lets a decoded status share one string instead of
// allocating it on every line.
var knownStatuses = func() map[string]Status {
	m := make(map[string]Status)
	for _, st := range []Status{Created, Updated, Imported, Skipped, Invalid, Failed,
		Queued, Submitted, Sending, Retrying,
		VerificationSent, VerificationFailed, VerificationSending, VerificationSkipped,
		statusRun, statusResumed, statusEnd} {
		m[string(st)] = st
	}
	return m
}()

// decodeFlat parses a JSON object whose members are the Entry fields (and
// "for"), each a string with no escapes or a non-negative integer, with
// nothing but whitespace after it. It reports false, leaving e partly set,
// for anything else.
func decodeFlat(b []byte, e *Entry, purpose *Purpose) bool {
	*e, *purpose = Entry{}, ""
	d := flatDecoder{b: b}
	d.space()
	if !d.byte('{') {
		return false
	}
	d.space()
	if d.byte('}') {
		return d.end()
	}
	for {
		key, ok := d.str()
		if !ok {
			return false
		}
		d.space()
		if !d.byte(':') {
			return false
		}
		d.space()
		if !d.member(key, e, purpose) {
			return false
		}
		d.space()
		if d.byte(',') {
			d.space()
			continue
		}
		if d.byte('}') {
			return d.end()
		}
		return false
	}
}

type flatDecoder struct {
	b []byte
	i int
}

func (d *flatDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\r', '\n':
			d.i++
		default:
			return
		}
	}
}

func (d *flatDecoder) byte(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *flatDecoder) end() bool {
	d.space()
	return d.i == len(d.b)
}

// str reads a string with no escapes and no control characters; its bytes
// alias the line. Non-ASCII bytes must be valid UTF-8, as encoding/json
// would otherwise replace them.
func (d *flatDecoder) str() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start := d.i
	ascii := true
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			return s, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= 0x80:
			ascii = false
		}
		d.i++
	}
	return nil, false
}

func (d *flatDecoder) int() (int, bool) {
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	digits := d.b[start:d.i]
	if len(digits) == 0 || len(digits) > 18 || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	n := 0
	for _, c := range digits {
		n = n*10 + int(c-'0')
	}
	return n, true
}

func (d *flatDecoder) member(key []byte, e *Entry, purpose *Purpose) bool {
	switch string(key) {
	case "line", "chunk", "record":
		n, ok := d.int()
		if !ok {
			return false
		}
		switch string(key) {
		case "line":
			e.Line = n
		case "chunk":
			e.Chunk = n
		default:
			e.Record = n
		}
		return true
	}
	v, ok := d.str()
	if !ok {
		return false
	}
	switch string(key) {
	case "file":
		e.File = string(v)
	case "email":
		e.Email = string(v)
	case "status":
		st, known := knownStatuses[string(v)]
		if !known {
			st = Status(v)
		}
		e.Status = st
	case "user_id":
		e.UserID = string(v)
	case "job_id":
		e.JobID = string(v)
	case "code":
		e.Code = string(v)
	case "reason":
		e.Reason = string(v)
	case "for":
		*purpose = Purpose(v)
	case "at":
		t, err := time.Parse(time.RFC3339Nano, string(v))
		if err != nil {
			return false // encoding/json gives the error
		}
		e.At = t
	default:
		return false // run, end, or a field this version does not know
	}
	return true
}
