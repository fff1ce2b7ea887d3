package report

import (
	"bytes"
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
	var d lineDecoder
	return d.decode(b, wl)
}

// lineDecoder is decodeLine that remembers the last file name and job id it
// read: consecutive lines nearly always repeat them, and sharing the string
// saves an allocation per line.
type lineDecoder struct {
	file, job string
	// lean, when set, names the statuses whose email, user_id, reason and
	// at the reader never looks at: they are left empty (and a bad at
	// unnoticed), which saves a resume two allocations and a time parse
	// on nearly every line.
	lean func(Status) bool
}

func (ld *lineDecoder) decode(b []byte, wl *wireLine) error {
	if ld.flat(b, &wl.Entry, &wl.For) {
		return nil
	}
	*wl = wireLine{}
	return json.Unmarshal(b, wl)
}

// knownStatuses lets a decoded status share one string instead of
// allocating it on every line.
var knownStatuses = []Status{Queued, Imported, Created, Submitted, Sending, Updated, Skipped, Invalid, Failed,
	Retrying, VerificationSent, VerificationFailed, VerificationSending, VerificationSkipped,
	statusRun, statusResumed, statusEnd}

func statusOf(v []byte) Status {
	for _, st := range knownStatuses {
		if string(v) == string(st) {
			return st
		}
	}
	return Status(v)
}

// decodeFlat parses a JSON object whose members are the Entry fields (and
// "for"), each a string with no escapes or a non-negative integer, with
// nothing but whitespace after it. It reports false, leaving e partly set,
// for anything else.
func decodeFlat(b []byte, e *Entry, purpose *Purpose) bool {
	var ld lineDecoder
	return ld.flat(b, e, purpose)
}

func (ld *lineDecoder) flat(b []byte, e *Entry, purpose *Purpose) bool {
	*e, *purpose = Entry{}, ""
	d := flatDecoder{b: b, ld: ld}
	d.space()
	if !d.byte('{') {
		return false
	}
	d.space()
	if d.byte('}') {
		return d.end() && d.finish(e)
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
			return d.end() && d.finish(e)
		}
		return false
	}
}

type flatDecoder struct {
	b  []byte
	i  int
	ld *lineDecoder
	// The values a lean line may leave unread, as they appear in b.
	email, userID, reason, at []byte
}

// finish sets the values decoded last, unless the line's status says they
// are not needed (lineDecoder.lean).
func (d *flatDecoder) finish(e *Entry) bool {
	if d.ld.lean != nil && d.ld.lean(e.Status) {
		return true
	}
	if d.at != nil {
		t, err := time.Parse(time.RFC3339Nano, string(d.at))
		if err != nil {
			return false // encoding/json gives the error
		}
		e.At = t
	}
	if d.email != nil {
		e.Email = string(d.email)
	}
	if d.userID != nil {
		e.UserID = string(d.userID)
	}
	if d.reason != nil {
		e.Reason = string(d.reason)
	}
	return true
}

// reuse returns v as a string, the one last seen when equal.
func reuse(last *string, v []byte) string {
	if string(v) != *last { // no allocation: the compiler compares in place
		*last = string(v)
	}
	return *last
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
	n := bytes.IndexByte(d.b[d.i:], '"')
	if n < 0 {
		return nil, false
	}
	s := d.b[d.i : d.i+n]
	ascii := true
	for _, c := range s {
		if c < 0x20 || c == '\\' || c >= 0x80 {
			if c >= 0x80 {
				ascii = false
				continue
			}
			return nil, false // an escape (the quote found may be one) or a control character
		}
	}
	if !ascii && !utf8.Valid(s) {
		return nil, false
	}
	d.i += n + 1
	return s, true
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
		e.File = reuse(&d.ld.file, v)
	case "email":
		d.email = v
	case "status":
		e.Status = statusOf(v)
	case "user_id":
		d.userID = v
	case "job_id":
		e.JobID = reuse(&d.ld.job, v)
	case "code":
		e.Code = string(v)
	case "reason":
		d.reason = v
	case "for":
		*purpose = Purpose(v)
	case "at":
		d.at = v
	default:
		return false // run, end, or a field this version does not know
	}
	return true
}
