package sandbox

import (
	"unsafe"
)

// regions owns the memory of a lean store: pages of records and text, and
// hash tables. Mapped regions are unmapped by release (a cleanup on the
// store runs it once the store is unreachable).
type regions struct {
	mapped map[*byte]int // start → length, of every live mapped region
}

func newRegions() *regions { return &regions{mapped: map[*byte]int{}} }

// alloc returns n zeroed, 8-byte aligned bytes.
func (r *regions) alloc(n int) []byte {
	b, mapped := mapZeroed(n)
	if mapped {
		r.mapped[unsafe.SliceData(b)] = n
	}
	return b
}

// free gives back a region alloc returned (a table replaced by its larger
// successor).
func (r *regions) free(b []byte) {
	if len(b) == 0 {
		return
	}
	p := unsafe.SliceData(b)
	if n, ok := r.mapped[p]; ok {
		delete(r.mapped, p)
		unmap(unsafe.Slice(p, n))
	}
}

func (r *regions) release() {
	for p, n := range r.mapped {
		unmap(unsafe.Slice(p, n))
	}
	clear(r.mapped)
}

// heapZeroed: n zeroed bytes on the Go heap, 8-byte aligned (backed by
// words) so that records and uint32 slots may be laid over them.
func heapZeroed(n int) []byte {
	w := make([]uint64, (n+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(w))), n)
}

// asU32 views b (8-byte aligned, a multiple of 4 long) as uint32s.
func asU32(b []byte) []uint32 {
	return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
}

// asRecs views b as lean records. leanRec holds no pointers, so memory the
// garbage collector does not know about may hold it.
func asRecs(b []byte) []leanRec {
	var r leanRec
	return unsafe.Slice((*leanRec)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(r)))
}
