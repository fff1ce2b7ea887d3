package input

import (
	"fmt"
	"hash/maphash"
	"strings"
)

// Validator checks records against the import schema and its prose rules
// and de-duplicates them across every input it sees: by email
// (case-insensitively), by user_id and by username (case-insensitively, as
// the tenant compares them). Auth0 refuses a second user with any of them
// (DUPLICATED_USER, CONFLICT, CONFLICT_USERNAME) only once the records are
// sent; here the second is invalid before anything is. Not safe for
// concurrent use.
//
// Duplicates are found with sets of 64-bit hashes of the keys, not of
// records: about 20 bytes per unique key (locSet), so a million users cost
// about 20 MB per key they carry. A hash collision (odds about n²/2⁶⁵)
// would mark a distinct user duplicate, which the report shows as invalid;
// it can never send a duplicate.
type Validator struct {
	mode  Mode
	seed  maphash.Seed
	keys  [len(uniqueKeys)]*locSet // key hash → file index<<40 | line
	files []string
	fidx  map[string]uint64
}

// uniqueKeys are the properties no two users of a connection share.
var uniqueKeys = [...]struct {
	field string
	get   func(*User) string // "" when the user has none
}{
	{"email", func(u *User) string { return strings.ToLower(u.Email) }},
	{"user_id", func(u *User) string { return u.UserID }},
	{"username", func(u *User) string { return strings.ToLower(u.Username) }},
}

// NewValidator returns a Validator for mode.
func NewValidator(mode Mode) *Validator {
	v := &Validator{mode: mode, seed: maphash.MakeSeed(), fidx: map[string]uint64{}}
	for i := range v.keys {
		v.keys[i] = newLocSet()
	}
	return v
}

const lineBits = 40

// Check appends to rec.Errors every problem with rec (a record that already
// has field errors is checked too, so that the report lists them all; one
// that could not be read as a whole is left as is). A valid record whose
// email, user_id or username was already seen in a valid record is marked
// invalid, naming where: Auth0 rejects the same user twice, and upsert would
// make the last one silently win.
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
	var hashes [len(uniqueKeys)]uint64
	var has [len(uniqueKeys)]bool
	for i, k := range uniqueKeys {
		key := k.get(&rec.User)
		if key == "" {
			continue
		}
		hashes[i], has[i] = maphash.String(v.seed, key), true
		if first, dup := v.keys[i].get(hashes[i]); dup {
			f, line := v.files[first>>lineBits], first&(1<<lineBits-1)
			rec.Errors = append(rec.Errors, FieldError{Field: k.field, Reason: fmt.Sprintf("duplicate of %s:%d", f, line)})
		}
	}
	if !rec.Valid() {
		return // a duplicate is not sent, so its other keys stay free
	}
	i, ok := v.fidx[rec.File]
	if !ok {
		i = uint64(len(v.files))
		v.files = append(v.files, rec.File)
		v.fidx[rec.File] = i
	}
	for k, h := range hashes {
		if has[k] {
			v.keys[k].put(h, i<<lineBits|uint64(rec.Line)&(1<<lineBits-1))
		}
	}
}

// Seen returns how many distinct emails the Validator has accepted.
func (v *Validator) Seen() int { return v.keys[0].len() }
