package hashes

import (
	"encoding/binary"
	"fmt"
	"os"
)

// The store holds every line as read, in file order, each entry
//
//	tag (1 byte) | uvarint body length | body
//
// with tag 'h' (a hash line: uvarint ordinal, uvarint line, then user id,
// email and hash each as uvarint length + bytes) or 'b' (an unreadable
// line: uvarint line, reason). The index maps keys to an entry's offset;
// the final scan lists what no record joined, in line order.
const (
	tagHash = 'h'
	tagBad  = 'b'
)

// write appends an entry to the store.
func (x *Index) write(tag byte, body []byte) error {
	var hdr [1 + binary.MaxVarintLen64]byte
	hdr[0] = tag
	n := 1 + binary.PutUvarint(hdr[1:], uint64(len(body)))
	if _, err := x.w.Write(hdr[:n]); err != nil {
		return fmt.Errorf("writing its temporary copy: %w", err)
	}
	if _, err := x.w.Write(body); err != nil {
		return fmt.Errorf("writing its temporary copy: %w", err)
	}
	x.size += int64(n + len(body))
	return nil
}

// entry is a hash line read back from the store.
type entry struct {
	ordinal int
	Line
}

// read decodes the hash entry at off.
func (x *Index) read(off int64) (entry, error) {
	const guess = 512
	b := x.readAt(off, guess)
	if len(b) < 2 || b[0] != tagHash {
		return entry{}, x.corrupt()
	}
	l, n := binary.Uvarint(b[1:])
	if n <= 0 {
		return entry{}, x.corrupt()
	}
	need := 1 + n + int(l)
	if need > len(b) {
		b = x.readAt(off, need)
		if len(b) < need {
			return entry{}, x.corrupt()
		}
	}
	e, ok := decodeHash(b[1+n : need])
	if !ok {
		return entry{}, x.corrupt()
	}
	return e, nil
}

// readAt reads up to n bytes of the store at off into x.buf.
func (x *Index) readAt(off int64, n int) []byte {
	n = int(min(int64(n), x.size-off))
	if n <= 0 {
		return nil
	}
	if cap(x.buf) < n {
		x.buf = make([]byte, n)
	}
	b := x.buf[:n]
	m, _ := x.store.ReadAt(b, off)
	return b[:m]
}

func (x *Index) corrupt() error {
	return fmt.Errorf("--hashes %s: its temporary copy is unreadable (was it removed or truncated while the run went on?)", x.name)
}

func decodeHash(b []byte) (entry, bool) {
	var e entry
	ord, n := binary.Uvarint(b)
	if n <= 0 {
		return e, false
	}
	b = b[n:]
	line, n := binary.Uvarint(b)
	if n <= 0 {
		return e, false
	}
	b = b[n:]
	e.ordinal, e.Line.Line = int(ord), int(line)
	for _, dst := range []*string{&e.UserID, &e.Email, &e.Hash} {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return e, false
		}
		*dst = string(b[n : n+int(l)])
		b = b[n+int(l):]
	}
	return e, len(b) == 0
}

// createStore makes the store: 0600, exclusive (never an existing file or
// a symlink), and unlinked at once where the system allows, so that even a
// killed run leaves no copy of the hashes behind.
func createStore(dir string) (*os.File, string, error) {
	f, err := os.CreateTemp(dir, "a0bulk-hashes-*.tmp")
	if err != nil {
		return nil, "", fmt.Errorf("--hashes: creating its temporary copy (set TMPDIR to a writable directory): %w", err)
	}
	path := f.Name()
	if os.Remove(path) == nil {
		path = ""
	}
	return f, path, nil
}
