package hashes

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/keyset"
)

// By is the key a record is joined on.
type By string

const (
	// ByID joins a record with the hash line of its user id (the input's
	// user_id, with or without "auth0|").
	ByID By = "id"
	// ByEmail also joins, by email, a record whose user id finds no hash
	// line (or that has none).
	ByEmail By = "email"
)

// ParseBy reads --hashes-by ("" is ByID).
func ParseBy(s string) (By, error) {
	switch By(s) {
	case "", ByID:
		return ByID, nil
	case ByEmail:
		return ByEmail, nil
	}
	return "", fmt.Errorf("--hashes-by must be id or email, not %q", s)
}

// Options shape an Index.
type Options struct {
	By By
	// Budget is the in-memory key table's bytes; past it the keys spill to
	// disk. 0: DefaultBudget.
	Budget int
	// Dir is where the temporary files go ("": os.TempDir()).
	Dir string
	// MaxLineBytes bounds one line; 0: 64 KiB (a line is a few hundred
	// bytes).
	MaxLineBytes int
}

// DefaultBudget is the key table's memory when Options.Budget is 0: a
// quarter of the duplicate check's, since the index is built before the
// input is read and both stay alive for the whole run.
const DefaultBudget = 8 << 20

const defaultMaxLine = 64 << 10

// Key kinds in the index. A dup kind holds a key two lines share, with the
// second line's offset: a record with that key is ambiguous.
const (
	kindID uint8 = iota
	kindEmail
	kindIDDup
	kindEmailDup
)

// Index is the password-hash export of one file, indexed on disk. Not safe
// for concurrent use. Close it to free its memory and files.
type Index struct {
	name  string
	by    By
	keys  *keyset.Set
	store *os.File // 0600, unlinked at creation where the system allows
	path  string   // the store's name while it must still be removed
	w     *bufio.Writer
	size  int64
	// lines counts the hash lines indexed (ordinals 0..lines-1); bad the
	// unreadable ones.
	lines, bad int
	firstBad   string // "line N: reason" of the first unreadable line
	buf        []byte
}

// Open indexes the export at path (gzip is read transparently).
func Open(ctx context.Context, path string, o Options) (*Index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--hashes: %w", err)
	}
	defer f.Close()
	return Build(ctx, f, path, o)
}

// Build indexes the export read from r, named name in messages. It fails
// when r cannot be read, or holds no hash line at all (the wrong file);
// unreadable lines are kept for the listing and do not stop the rest.
func Build(ctx context.Context, r io.Reader, name string, o Options) (_ *Index, err error) {
	if o.By == "" {
		o.By = ByID
	}
	if o.Budget == 0 {
		o.Budget = DefaultBudget
	}
	maxLine := o.MaxLineBytes
	if maxLine <= 0 {
		maxLine = defaultMaxLine
	}
	store, path, err := createStore(o.Dir)
	if err != nil {
		return nil, err
	}
	x := &Index{name: name, by: o.By, store: store, path: path, w: bufio.NewWriterSize(store, 256<<10),
		keys: keyset.New(keyset.Options{Budget: o.Budget, Dir: o.Dir, Name: "password-hash index"})}
	defer func() {
		if err != nil {
			x.Close()
		}
	}()
	br := bufio.NewReaderSize(r, 64<<10)
	if input.IsGzip(br) {
		if br, err = input.Gunzip(br, name); err != nil {
			return nil, fmt.Errorf("--hashes %w", err)
		}
	}
	lr := input.NewLineReader(br, maxLine)
	for i := 1; ; i++ {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		line, n, tooLong, rerr := lr.Next()
		if rerr != nil && rerr != io.EOF {
			return nil, fmt.Errorf("--hashes %s: reading line %d: %w", name, n, rerr)
		}
		switch {
		case tooLong:
			err = x.addBad(n, fmt.Sprintf("line longer than %d bytes", maxLine))
		case len(bytes.TrimSpace(line)) == 0:
		default:
			l, perr := ParseLine(line)
			if perr != nil {
				err = x.addBad(n, perr.Error())
			} else {
				l.Line = n
				err = x.add(l)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("--hashes %s: %w", name, err)
		}
		if rerr == io.EOF {
			break
		}
	}
	if err := x.w.Flush(); err != nil {
		return nil, fmt.Errorf("--hashes %s: writing its temporary copy: %w", name, err)
	}
	if x.lines == 0 {
		if x.bad > 0 {
			return nil, fmt.Errorf("--hashes %s: no line is a password-hash export line (%s)", name, x.firstBad)
		}
		return nil, fmt.Errorf("--hashes %s: the file has no lines", name)
	}
	return x, nil
}

// Name is the file the index was built from.
func (x *Index) Name() string { return x.name }

// By is the key records are joined on.
func (x *Index) By() By { return x.by }

// Lines is the number of hash lines indexed; Unreadable the lines that
// could not be read.
func (x *Index) Lines() int      { return x.lines }
func (x *Index) Unreadable() int { return x.bad }

// KeyStats says what the key index holds: its memory, spills, disk.
func (x *Index) KeyStats() keyset.Stats { return x.keys.Stats() }

// Close frees the index's memory and removes its files.
func (x *Index) Close() error {
	errs := []error{x.keys.Close()}
	if x.store != nil {
		errs = append(errs, x.store.Close())
		x.store = nil
	}
	if x.path != "" {
		errs = append(errs, os.Remove(x.path))
		x.path = ""
	}
	return errors.Join(errs...)
}

// add stores a hash line and indexes its keys.
func (x *Index) add(l Line) error {
	off := x.size
	body := binary.AppendUvarint(x.buf[:0], uint64(x.lines))
	body = binary.AppendUvarint(body, uint64(l.Line))
	for _, s := range []string{l.UserID, l.Email, l.Hash} {
		body = binary.AppendUvarint(body, uint64(len(s)))
		body = append(body, s...)
	}
	x.buf = body
	if err := x.write(tagHash, body); err != nil {
		return err
	}
	x.lines++
	if err := x.index(kindID, kindIDDup, l.UserID, off); err != nil {
		return err
	}
	if x.by == ByEmail && l.Email != "" {
		return x.index(kindEmail, kindEmailDup, emailKey(l.Email), off)
	}
	return nil
}

// index maps key to the entry at off; a key already mapped is marked
// shared (the first two lines that share it are named).
func (x *Index) index(kind, dupKind uint8, key string, off int64) error {
	p := x.keys.Probe(kind, key)
	_, found, err := x.keys.Lookup(p)
	if err != nil {
		return err
	}
	if !found {
		return x.keys.Add(p, uint64(off))
	}
	dp := x.keys.Probe(dupKind, key)
	if _, seen, err := x.keys.Lookup(dp); err != nil || seen {
		return err
	}
	return x.keys.Add(dp, uint64(off))
}

// addBad stores an unreadable line.
func (x *Index) addBad(n int, reason string) error {
	if x.bad == 0 {
		x.firstBad = fmt.Sprintf("line %d: %s", n, reason)
	}
	x.bad++
	body := binary.AppendUvarint(x.buf[:0], uint64(n))
	body = append(body, reason...)
	x.buf = body
	return x.write(tagBad, body)
}

// find returns the entry key (of kind) maps to, and the second line that
// shares the key, if any (dup.Line 0: none).
func (x *Index) find(kind, dupKind uint8, key string) (e, dup entry, found bool, err error) {
	off, found, err := x.keys.Lookup(x.keys.Probe(kind, key))
	if err != nil || !found {
		return e, dup, false, err
	}
	if e, err = x.read(int64(off)); err != nil {
		return e, dup, false, err
	}
	doff, shared, err := x.keys.Lookup(x.keys.Probe(dupKind, key))
	if err != nil {
		return e, dup, false, err
	}
	if shared {
		if dup, err = x.read(int64(doff)); err != nil {
			return e, dup, false, err
		}
	}
	return e, dup, true, nil
}

// emailKey is how emails are compared: database connections store them
// lower-cased.
func emailKey(s string) string { return strings.ToLower(s) }
