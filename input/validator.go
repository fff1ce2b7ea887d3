package input

import (
	"fmt"
	"hash/maphash"
	"strings"
)

// Validator checks records against the import schema and its prose rules
// and de-duplicates them by email across every input it sees. Not safe for
// concurrent use.
//
// Duplicates are found with a set of 64-bit hashes of the lower-cased
// email, not of records: about 20 bytes per unique user (locSet), so a
// million users cost about 20 MB. A hash collision (odds about n²/2⁶⁵) would
// mark a distinct user duplicate, which the report shows as invalid; it can
// never send a duplicate.
type Validator struct {
	mode  Mode
	seed  maphash.Seed
	seen  *locSet // email hash → file index<<40 | line
	files []string
	fidx  map[string]uint64
}

// NewValidator returns a Validator for mode.
func NewValidator(mode Mode) *Validator {
	return &Validator{mode: mode, seed: maphash.MakeSeed(), seen: newLocSet(), fidx: map[string]uint64{}}
}

const lineBits = 40

// Check appends to rec.Errors every problem with rec (a record that already
// has field errors is checked too, so that the report lists them all; one
// that could not be read as a whole is left as is). A valid
// record whose email (case-insensitively) was already seen in a valid record
// is marked invalid: Auth0 rejects the same user twice in one import, and
// upsert would make the last one silently win.
func (v *Validator) Check(rec *Record) {
	for _, e := range rec.Errors {
		if e.Field == "" {
			return // unreadable as a whole: field checks would only add noise
		}
	}
	validateUser(rec, v.mode)
	if !rec.Valid() {
		return
	}
	h := maphash.String(v.seed, strings.ToLower(rec.User.Email))
	if first, dup := v.seen.get(h); dup {
		f, line := v.files[first>>lineBits], first&(1<<lineBits-1)
		rec.Errors = append(rec.Errors, FieldError{Field: "email", Reason: fmt.Sprintf("duplicate of %s:%d", f, line)})
		return
	}
	i, ok := v.fidx[rec.File]
	if !ok {
		i = uint64(len(v.files))
		v.files = append(v.files, rec.File)
		v.fidx[rec.File] = i
	}
	v.seen.put(h, i<<lineBits|uint64(rec.Line)&(1<<lineBits-1))
}

// Seen returns how many distinct emails the Validator has accepted.
func (v *Validator) Seen() int { return v.seen.len() }
