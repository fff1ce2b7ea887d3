package hashes

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/a0bulk/a0bulk/input"
)

// Outcome is what the join found for one record.
type Outcome string

const (
	// Joined: one hash line is the record's; its hash is the user's
	// password_hash (or custom_password_hash, see Join).
	Joined Outcome = "joined"
	// None: no hash line has the record's key; the user is sent without a
	// hash (Auth0 then gives it a random one: it must reset its password).
	None Outcome = "none"
	// Ambiguous: two hash lines have the record's key, a line already went
	// to another record, or the input has a hash of its own that differs.
	// The record is invalid (never sent): a hash is insert-only, so a user
	// sent without one could never get it later.
	Ambiguous Outcome = "ambiguous"
)

// Counts are a join's outcomes over the records it saw, and what it left
// of the hash file.
type Counts struct {
	Joined    int `json:"joined"`
	None      int `json:"none"`
	Ambiguous int `json:"ambiguous"`
	// AsCustom of the joined: a bcrypt hash Auth0 does not take as
	// password_hash (another cost than 10, or $2y$), sent as
	// custom_password_hash with algorithm bcrypt.
	AsCustom int `json:"as_custom_password_hash,omitempty"`
	// NotBcrypt of the joined: a hash a0bulk cannot name the algorithm of;
	// the record is invalid.
	NotBcrypt int `json:"not_bcrypt,omitempty"`
	// Lines are the hash lines read; Unmatched those no record joined;
	// Unreadable those that could not be read.
	Lines      int `json:"hash_lines"`
	Unmatched  int `json:"unmatched_hash_lines"`
	Unreadable int `json:"unreadable_hash_lines,omitempty"`
}

// Records is the number of records the join saw.
func (c Counts) Records() int { return c.Joined + c.None + c.Ambiguous }

// Listed is the number of lines of the join's listing (OfRecord, OfLine).
func (c Counts) Listed() int {
	return c.None + c.Ambiguous + c.AsCustom + c.NotBcrypt + c.Unmatched + c.Unreadable
}

// Joiner joins records with an Index, one pass over the input. It keeps one
// bit per hash line (which went to a record), so that a line joins at most
// one record and the lines no record took can be listed. Not safe for
// concurrent use.
type Joiner struct {
	x      *Index
	used   []uint64
	counts Counts
}

// NewJoiner starts a pass over the input with x.
func NewJoiner(x *Index) *Joiner {
	return &Joiner{x: x, used: make([]uint64, (x.lines+63)/64), counts: Counts{Lines: x.lines, Unreadable: x.bad}}
}

// Counts are the outcomes so far (Unmatched once Unjoined has run).
func (j *Joiner) Counts() Counts { return j.counts }

// Result is one record's join.
type Result struct {
	Outcome Outcome
	// HashLine is the hash file's line that was joined (or the first one
	// that makes the record ambiguous); 0 when none.
	HashLine int
	// Reason says why the record is ambiguous, why its hash line cannot
	// be used (the record's error on password_hash says it too), or that
	// its hash goes as custom_password_hash; "" otherwise.
	Reason string
}

// Join finds rec's hash line, by its user id (with or without "auth0|"),
// and by email when the index is ByEmail and the id finds none. A joined
// hash goes into rec.User: as password_hash when Auth0 takes it there
// (bcrypt at cost 10), as custom_password_hash with algorithm bcrypt when
// it is bcrypt of another cost or $2y$ (Auth0 takes those there), and a
// hash that is not bcrypt makes the record invalid. An ambiguous record is
// made invalid too. rec.HashLine says where a joined hash came from.
//
// A record that is invalid already is looked up (so that its line does not
// show as unmatched) but not given a hash. The error is the index's (its
// temporary files); the record must not be used then.
func (j *Joiner) Join(rec *input.Record) (Result, error) {
	res, e, err := j.match(rec)
	if err != nil {
		return res, err
	}
	switch res.Outcome {
	case None:
		j.counts.None++
		return res, nil
	case Ambiguous:
		j.counts.Ambiguous++
		rec.Errors = append(rec.Errors, input.FieldError{Field: "password_hash", Reason: "ambiguous: " + res.Reason})
		return res, nil
	}
	j.counts.Joined++
	j.used[e.ordinal/64] |= 1 << (e.ordinal % 64)
	if !rec.Valid() {
		return res, nil
	}
	u := &rec.User
	if u.PasswordHash != "" || u.CustomPasswordHash != nil {
		if u.PasswordHash == e.Hash {
			return res, nil // the input already has this very hash
		}
		j.counts.Joined--
		j.counts.Ambiguous++
		res.Outcome = Ambiguous
		res.Reason = fmt.Sprintf("the input has a password hash and %s has another for this user: keep one", j.where(e.Line.Line))
		rec.Errors = append(rec.Errors, input.FieldError{Field: "password_hash", Reason: "ambiguous: " + res.Reason})
		return res, nil
	}
	cost, bcrypt := input.BcryptCost(e.Hash)
	switch {
	case input.IsPasswordHash(e.Hash):
		u.PasswordHash = e.Hash
	case bcrypt:
		// Auth0's password_hash pattern is bcrypt at cost 10 only;
		// custom_password_hash with algorithm bcrypt takes $2a$, $2b$ and
		// $2y$ at any cost ("Bulk User Import Database Schema and
		// Examples", bcrypt), in utf8.
		u.CustomPasswordHash = &input.CustomPasswordHash{Algorithm: "bcrypt", Hash: &input.HashValue{Value: e.Hash, Encoding: "utf8"}}
		j.counts.AsCustom++
		res.Reason = fmt.Sprintf("the hash of %s is bcrypt %s: sent as custom_password_hash with algorithm bcrypt, which Auth0 takes at any cost and as $2y$ (password_hash: $2a$ or $2b$ at cost 10 only)", j.where(e.Line.Line), bcryptShape(e.Hash, cost))
	default:
		j.counts.NotBcrypt++
		res.Reason = fmt.Sprintf("the passwordHash of %s is not a bcrypt hash: a0bulk cannot tell its algorithm (give the user a custom_password_hash in the input instead)", j.where(e.Line.Line))
		rec.Errors = append(rec.Errors, input.FieldError{Field: "password_hash", Reason: res.Reason})
		return res, nil
	}
	rec.HashLine = e.Line.Line
	return res, nil
}

// bcryptShape says what keeps a bcrypt hash out of password_hash.
func bcryptShape(h string, cost int) string {
	if cost != 10 {
		return fmt.Sprintf("of cost %d", cost)
	}
	return "$" + h[1:3] + "$"
}

// match finds rec's line: by id, then (ByEmail) by email. The id is the
// record's user_id as it is, else without "auth0|": an NDJSON export's
// user_id comes here stripped of it already, a CSV's may still carry it,
// and a user whose own id starts with it (auth0|auth0|…, a past import
// that kept the prefix) is still found exactly. Nothing ever adds it.
func (j *Joiner) match(rec *input.Record) (Result, entry, error) {
	if id := rec.User.UserID; id != "" {
		res, e, err := j.lookup(rec, kindID, kindIDDup, id, "user id")
		if rest, ok := strings.CutPrefix(id, Prefix); ok && err == nil && res.Outcome == None && rest != "" {
			res, e, err = j.lookup(rec, kindID, kindIDDup, rest, "user id")
		}
		if err != nil || res.Outcome != None || j.x.by != ByEmail {
			return res, e, err
		}
	}
	if j.x.by == ByEmail && rec.User.Email != "" {
		return j.lookup(rec, kindEmail, kindEmailDup, emailKey(rec.User.Email), "email")
	}
	return Result{Outcome: None}, entry{}, nil
}

func (j *Joiner) lookup(rec *input.Record, kind, dupKind uint8, key, what string) (Result, entry, error) {
	e, dup, found, err := j.x.find(kind, dupKind, key)
	switch {
	case err != nil:
		return Result{}, e, err
	case !found:
		return Result{Outcome: None}, e, nil
	case dup.Line.Line != 0:
		return Result{Outcome: Ambiguous, HashLine: e.Line.Line,
			Reason: fmt.Sprintf("lines %d and %d of --hashes %s both have this user's %s", e.Line.Line, dup.Line.Line, j.x.name, what)}, e, nil
	case j.isUsed(e.ordinal) && rec.Valid():
		return Result{Outcome: Ambiguous, HashLine: e.Line.Line,
			Reason: fmt.Sprintf("%s already went to an earlier record (by %s)", j.where(e.Line.Line), what)}, e, nil
	}
	return Result{Outcome: Joined, HashLine: e.Line.Line}, e, nil
}

func (j *Joiner) isUsed(ordinal int) bool { return j.used[ordinal/64]&(1<<(ordinal%64)) != 0 }

func (j *Joiner) where(line int) string {
	return fmt.Sprintf("line %d of --hashes %s", line, j.x.name)
}

// Unjoined is a hash line the join left: no record took it, or it could
// not be read. It never holds the hash.
type Unjoined struct {
	Line int
	// UserID is the tenant's id of the user ("auth0|" + the line's id);
	// "" for an unreadable line.
	UserID string
	Email  string
	// Reason is why the line could not be read ("" when it was read).
	Reason string
}

// Unjoined calls fn with every hash line no record took and every line
// that could not be read, in line order, once the pass is over, and counts
// the former. It reads the index's copy sequentially: constant memory.
func (j *Joiner) Unjoined(fn func(Unjoined) error) error {
	x := j.x
	j.counts.Unmatched = 0
	r := bufio.NewReaderSize(io.NewSectionReader(x.store, 0, x.size), 256<<10)
	var body []byte
	for {
		tag, err := r.ReadByte()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return x.corrupt()
		}
		l, err := binary.ReadUvarint(r)
		if err != nil || l > 1<<24 {
			return x.corrupt()
		}
		if cap(body) < int(l) {
			body = make([]byte, l)
		}
		body = body[:l]
		if _, err := io.ReadFull(r, body); err != nil {
			return x.corrupt()
		}
		var u Unjoined
		switch tag {
		case tagHash:
			e, ok := decodeHash(body)
			if !ok {
				return x.corrupt()
			}
			if j.isUsed(e.ordinal) {
				continue
			}
			j.counts.Unmatched++
			u = Unjoined{Line: e.Line.Line, UserID: Prefix + e.UserID, Email: e.Email}
		case tagBad:
			n, k := binary.Uvarint(body)
			if k <= 0 {
				return x.corrupt()
			}
			u = Unjoined{Line: int(n), Reason: string(body[k:])}
		default:
			return x.corrupt()
		}
		if fn != nil {
			if err := fn(u); err != nil {
				return err
			}
		}
	}
}
