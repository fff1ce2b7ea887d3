package input

import (
	"fmt"
	"strings"

	"github.com/a0bulk/a0bulk/input/keyset"
)

// Validator checks records against the import schema and its prose rules
// and de-duplicates them across every input it sees: by email
// (case-insensitively), by user_id and by username (case-insensitively, as
// the tenant compares them). Auth0 refuses a second user with any of them
// (DUPLICATED_USER, CONFLICT, CONFLICT_USERNAME) only once the records are
// sent; here the second is invalid before anything is. Not safe for
// concurrent use.
//
// The keys seen, with where each was first seen, are one keyset.Set (the
// kind of key is part of it): exact, so a record is called a duplicate
// only of a record with the very same key, never of a hash collision. It
// is the only memory that grows with the number of users: a bounded table
// (keyset.DefaultBudget), then about 1.6 bytes per key once keys spill to
// disk (see keyset). Close it to remove the spill files.
type Validator struct {
	mode  Mode
	dups  *keyset.Set
	seen  [len(uniqueKeys)]int
	files []string
	fidx  map[string]uint64
	err   error
}

// uniqueKeys are the properties no two users of a connection share; the
// index is the key's kind in the set.
var uniqueKeys = [...]struct {
	field string
	get   func(*User) string // "" when the user has none
}{
	{"email", func(u *User) string { return strings.ToLower(u.Email) }},
	{"user_id", func(u *User) string { return u.UserID }},
	{"username", func(u *User) string { return strings.ToLower(u.Username) }},
}

// NewValidator returns a Validator for mode.
func NewValidator(mode Mode) *Validator { return newValidator(mode, keyset.Options{}) }

func newValidator(mode Mode, o keyset.Options) *Validator {
	return &Validator{mode: mode, dups: keyset.New(o), fidx: map[string]uint64{}}
}

const lineBits = 40

// Check appends to rec.Errors every problem with rec (a record that already
// has field errors is checked too, so that the report lists them all; one
// that could not be read as a whole is left as is). A valid record whose
// email, user_id or username was already seen in a valid record is marked
// invalid, naming where: Auth0 rejects the same user twice, and upsert would
// make the last one silently win.
//
// If the duplicate check cannot answer (its spill file cannot be written or
// read), Err says so and rec must not be used: whether it is a duplicate
// is unknown.
func (v *Validator) Check(rec *Record) {
	for _, e := range rec.Errors {
		if e.Field == "" {
			return // unreadable as a whole: field checks would only add noise
		}
	}
	validateUser(rec, v.mode)
	if !rec.Valid() || v.err != nil {
		return
	}
	var probes [len(uniqueKeys)]keyset.Probe
	var has [len(uniqueKeys)]bool
	for i, k := range uniqueKeys {
		key := k.get(&rec.User)
		if key == "" {
			continue
		}
		probes[i], has[i] = v.dups.Probe(uint8(i), key), true
		first, dup, err := v.dups.Lookup(probes[i])
		if err != nil {
			v.err = err
			return
		}
		if dup {
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
	for k, p := range probes {
		if !has[k] {
			continue
		}
		if err := v.dups.Add(p, i<<lineBits|uint64(rec.Line)&(1<<lineBits-1)); err != nil {
			v.err = err
			return
		}
		v.seen[k]++
	}
}

// Err is why the duplicate check stopped answering, if it did: the record
// passed to the Check that failed, and every one after, is unchecked.
func (v *Validator) Err() error { return v.err }

// Close removes the duplicate check's spill files and frees its memory.
func (v *Validator) Close() error { return v.dups.Close() }

// Seen returns how many distinct emails the Validator has accepted.
func (v *Validator) Seen() int { return v.seen[0] }

// DupStats says what the duplicate check holds: keys, memory, spills.
func (v *Validator) DupStats() keyset.Stats { return v.dups.Stats() }
