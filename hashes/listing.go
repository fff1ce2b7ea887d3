package hashes

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/a0bulk/a0bulk/input"
)

// Listed is one line of a join's listing: a record the join gave no hash
// (join "none" or "ambiguous", with the record's file and line) or gave one
// with a note (join "joined" with a reason: a bcrypt hash sent as
// custom_password_hash, or one that is not bcrypt, which made the record
// invalid), or a line of the hash file no record took ("unmatched") or that
// could not be read ("unreadable", with hashes_line). It never holds a
// hash. A record of the run that is not in the listing was joined.
type Listed struct {
	Join string `json:"join"`
	// The record's place, for none and ambiguous.
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Record int    `json:"record,omitempty"`
	// The hash line's place, for unmatched and unreadable (and the line
	// an ambiguous record hit first).
	Hashes     string `json:"hashes,omitempty"`
	HashesLine int    `json:"hashes_line,omitempty"`
	Email      string `json:"email,omitempty"`
	UserID     string `json:"user_id,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// Outcomes of hash lines in a listing.
const (
	Unmatched  = "unmatched"
	Unreadable = "unreadable"
)

// OfRecord is the listing line of a record the join gave no hash, or gave
// one with a note; ok is false for one plainly joined (not listed).
func OfRecord(rec input.Record, res Result, hashesFile string) (Listed, bool) {
	if res.Outcome == Joined && res.Reason == "" {
		return Listed{}, false
	}
	l := Listed{Join: string(res.Outcome), File: rec.File, Line: rec.Line, Record: rec.Ordinal,
		Email: rec.User.Email, UserID: rec.User.UserID, Reason: res.Reason}
	if res.HashLine != 0 {
		l.Hashes, l.HashesLine = hashesFile, res.HashLine
	}
	return l, true
}

// OfLine is the listing line of a hash line the join left.
func OfLine(u Unjoined, hashesFile string) Listed {
	if u.Reason != "" {
		return Listed{Join: Unreadable, Hashes: hashesFile, HashesLine: u.Line, Reason: u.Reason}
	}
	return Listed{Join: Unmatched, Hashes: hashesFile, HashesLine: u.Line, Email: u.Email, UserID: u.UserID}
}

// String is the line for people: "users.csv:3: none (…)".
func (l Listed) String() string {
	var b strings.Builder
	if l.File != "" {
		fmt.Fprintf(&b, "%s:%d: %s", l.File, l.Line, l.Join)
	} else {
		fmt.Fprintf(&b, "%s:%d: %s", l.Hashes, l.HashesLine, l.Join)
	}
	switch {
	case l.Reason != "":
		b.WriteString(": " + l.Reason)
	case l.UserID != "" || l.Email != "":
		fmt.Fprintf(&b, " (%s)", strings.Trim(l.UserID+" "+l.Email, " "))
	}
	return b.String()
}

// ListingPath is where a run's listing goes: beside its report,
// "run.ndjson" → "run.hash-join.ndjson".
func ListingPath(report string) string {
	return strings.TrimSuffix(report, ".ndjson") + ".hash-join.ndjson"
}

// Listing writes a join's listing: NDJSON, mode 0600, written under a
// temporary name beside path and renamed onto it when the pass is over, so
// that path is either a whole listing or the previous one (a resume reads
// every record again and writes it anew).
type Listing struct {
	f    *os.File
	w    *bufio.Writer
	path string
	err  error
	done bool
}

// CreateListing starts a listing that will be path.
func CreateListing(path string) (*Listing, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("creating the hash-join listing: %w", err)
	}
	return &Listing{f: f, w: bufio.NewWriterSize(f, 64<<10), path: path}, nil
}

// Add writes one line.
func (l *Listing) Add(x Listed) error {
	if l.err != nil {
		return l.err
	}
	b, err := json.Marshal(x)
	if err == nil {
		b = append(b, '\n')
		_, err = l.w.Write(b)
	}
	if err != nil {
		l.err = fmt.Errorf("writing the hash-join listing: %w", err)
	}
	return l.err
}

// Commit puts the listing in place (rename never follows a symlink at the
// destination: it replaces the link itself).
func (l *Listing) Commit() error {
	l.done = true
	err := l.err
	if err == nil {
		err = l.w.Flush()
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(l.f.Name(), l.path)
	}
	if err != nil {
		os.Remove(l.f.Name())
		return fmt.Errorf("writing the hash-join listing %s: %w", l.path, err)
	}
	return nil
}

// Discard removes an unfinished listing.
func (l *Listing) Discard() error {
	if l.done {
		return nil
	}
	l.done = true
	return errors.Join(l.f.Close(), os.Remove(l.f.Name()))
}
