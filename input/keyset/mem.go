package keyset

import "unsafe"

// The set's large arrays hold no pointers and live as long as the set (the
// in-memory table for the whole run, each filter for its run): they are
// mapped outside the Go heap, so the garbage collector's headroom (GOGC)
// does not double them in resident memory. Small ones stay on the heap.

// block is one allocation: its bytes, and whether release must unmap it.
type block struct {
	b      []byte
	mapped bool
}

func alloc(n int) block {
	if b, ok := mapBytes(n); ok {
		return block{b, true}
	}
	return block{make([]byte, n), false}
}

func (m *block) release() {
	if m.mapped {
		unmapBytes(m.b)
	}
	*m = block{}
}

func (m block) words() []uint64 {
	if len(m.b) < 8 {
		return nil
	}
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(m.b))), len(m.b)/8)
}

func (m block) words32() []uint32 {
	if len(m.b) < 4 {
		return nil
	}
	return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(m.b))), len(m.b)/4)
}

// unsafeString views b as a string for a call that does not keep it.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
