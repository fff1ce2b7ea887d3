package keyset

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
)

// blockSize is the read unit of a run: a lookup that passes a run's filter
// reads one block (rarely two) to confirm the key.
const blockSize = 4 << 10

// run is one spill on disk: records sorted by fingerprint, each the
// fingerprint (8 bytes, little-endian) then the body (memtable.go). Only
// its filter and its fence (the first fingerprint and the offset of each
// block) stay in memory: about 1.5 + 0.15 bytes per key.
type run struct {
	f     *spillFile
	size  int64
	n     int
	level int // 0: a spill; 1+: a merge of fanIn runs of the level below
	bloom bloom
	fence
}

// fence is a run's index of blocks, outside the Go heap like the filter:
// sized for the most blocks the run's bytes can make, of which only the
// pages written are ever resident.
type fence struct {
	mem   block
	first []uint64 // first fingerprint of each block
	offs  []uint64 // where each block starts; it ends where the next starts
}

func newFence(size int64) fence {
	n := int(size/blockSize) + 1
	m := alloc(n * 16)
	w := m.words()
	return fence{mem: m, first: w[:0:n], offs: w[n : n : 2*n]}
}

func (f *fence) fenceBytes() int { return len(f.first) * 16 }

func (f *fence) release() {
	f.mem.release()
	f.first, f.offs = nil, nil
}

func (r *run) close() error {
	r.bloom.release()
	r.fence.release()
	return r.f.close()
}

// find looks p's key up in r, confirming a fingerprint match against the
// key itself. buf is a reusable block buffer.
func (r *run) find(p Probe, buf *[]byte, st *Stats) (uint64, bool, error) {
	if r.n == 0 || !r.bloom.has(p.fp) {
		return 0, false, nil
	}
	// Records with p's fingerprint start in the last block whose first
	// fingerprint is below it and may run on through blocks that start
	// with it.
	b := max(0, sort.Search(len(r.first), func(i int) bool { return r.first[i] >= p.fp })-1)
	if r.first[b] > p.fp {
		st.FilterMisses++
		return 0, false, nil
	}
	for ; b < len(r.first) && r.first[b] <= p.fp; b++ {
		start, end := int64(r.offs[b]), r.size
		if b+1 < len(r.offs) {
			end = int64(r.offs[b+1])
		}
		blk := *buf
		if n := int(end - start); cap(blk) < n {
			blk = make([]byte, n)
			*buf = blk
		} else {
			blk = blk[:n]
		}
		if _, err := r.f.f.ReadAt(blk, start); err != nil {
			return 0, false, fmt.Errorf("reading the %s's spill file: %w", r.f.name, err)
		}
		st.BlockReads++
		for len(blk) > 0 {
			if len(blk) < 8 {
				return 0, false, r.f.corrupt()
			}
			fp := binary.LittleEndian.Uint64(blk)
			kind, val, key, n := decodeBody(blk[8:])
			if n == 0 {
				return 0, false, r.f.corrupt()
			}
			blk = blk[8+n:]
			switch {
			case fp < p.fp:
				continue
			case fp > p.fp:
				st.FilterMisses++
				return 0, false, nil
			case kind == p.kind && string(key) == p.key:
				return val, true, nil
			}
			st.Collisions++
		}
	}
	st.FilterMisses++
	return 0, false, nil
}

var errCorrupt = errors.New("spill file is corrupt")

// corrupt is errCorrupt, naming what the file is for.
func (s *spillFile) corrupt() error { return fmt.Errorf("the %s's %w", s.name, errCorrupt) }

// runWriter writes records, in fingerprint order, to a new run, building
// its filter and fence as it goes.
type runWriter struct {
	r   *run
	w   *bufio.Writer
	off int64
	err error
}

// newRunWriter starts a run of n records of size bytes in all.
func newRunWriter(f *spillFile, n int, size int64, level, bitsPerKey int) *runWriter {
	return &runWriter{
		r: &run{f: f, n: n, level: level, bloom: newBloom(n, bitsPerKey), fence: newFence(size)},
		w: bufio.NewWriterSize(f.f, 256<<10),
	}
}

// add adds a record: fp and its encoded body.
func (w *runWriter) add(fp uint64, body []byte) {
	if w.err != nil {
		return
	}
	r := w.r
	if len(r.offs) == 0 || w.off-int64(r.offs[len(r.offs)-1]) >= blockSize {
		r.first = append(r.first, fp)
		r.offs = append(r.offs, uint64(w.off))
	}
	r.bloom.add(fp)
	var hdr [8]byte
	binary.LittleEndian.PutUint64(hdr[:], fp)
	n, err := w.w.Write(hdr[:])
	if err == nil {
		var m int
		m, err = w.w.Write(body)
		n += m
	}
	w.off += int64(n)
	w.err = err
}

// finish flushes the run; on error it is closed (its file gone).
func (w *runWriter) finish() (*run, error) {
	err := w.err
	if err == nil {
		err = w.w.Flush()
	}
	if err != nil {
		w.r.close()
		return nil, fmt.Errorf("writing the %s's spill file: %w", w.r.f.name, err)
	}
	w.r.size = w.off
	return w.r, nil
}

// runReader reads a run's records in order, for a merge.
type runReader struct {
	r   *bufio.Reader
	fp  uint64
	b   []byte // the current record's body
	ok  bool
	err error
}

func newRunReader(r *run) *runReader {
	return &runReader{r: bufio.NewReaderSize(io.NewSectionReader(r.f.f, 0, r.size), 64<<10)}
}

// next reads the following record into fp and b; ok is false at the end
// or on error (err).
func (rr *runReader) next() {
	var hdr [8]byte
	if _, err := io.ReadFull(rr.r, hdr[:]); err != nil {
		rr.ok = false
		if err != io.EOF {
			rr.err = err
		}
		return
	}
	rr.fp = binary.LittleEndian.Uint64(hdr[:])
	rr.b = rr.b[:0]
	kind, err := rr.r.ReadByte()
	if err != nil {
		rr.ok, rr.err = false, unexpected(err)
		return
	}
	rr.b = append(rr.b, kind)
	val, err := binary.ReadUvarint(rr.r)
	if err != nil {
		rr.ok, rr.err = false, unexpected(err)
		return
	}
	l, err := binary.ReadUvarint(rr.r)
	if err != nil || l > 1<<20 {
		rr.ok, rr.err = false, unexpected(err)
		return
	}
	rr.b = binary.AppendUvarint(rr.b, val)
	rr.b = binary.AppendUvarint(rr.b, l)
	n := len(rr.b)
	rr.b = slices.Grow(rr.b, int(l))[:n+int(l)]
	if _, err := io.ReadFull(rr.r, rr.b[n:]); err != nil {
		rr.ok, rr.err = false, unexpected(err)
		return
	}
	rr.ok = true
}

func unexpected(err error) error {
	if err == nil || err == io.EOF {
		return errCorrupt
	}
	return err
}

// spillFile is one file of runs: created 0600 and exclusively (never an
// existing file or symlink), and unlinked at once where the system allows
// (Unix), so nothing is left behind even if the process is killed; where
// it does not, close removes it.
type spillFile struct {
	f    *os.File
	path string // still to remove at close; "" once unlinked
	name string // what the set is for (Options.Name)
}

func createSpill(dirs []string, name string) (*spillFile, error) {
	var errs []error
	for _, d := range dirs {
		f, err := os.CreateTemp(d, "a0bulk-"+strings.ReplaceAll(name, " ", "-")+"-*.run")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s := &spillFile{f: f, path: f.Name(), name: name}
		if os.Remove(s.path) == nil {
			s.path = ""
		}
		return s, nil
	}
	return nil, fmt.Errorf("creating the %s's spill file (set TMPDIR to a writable directory): %w", name, errors.Join(errs...))
}

func (s *spillFile) close() error {
	if s == nil || s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	if s.path != "" {
		if rerr := os.Remove(s.path); rerr != nil && err == nil {
			err = rerr
		}
		s.path = ""
	}
	return err
}
