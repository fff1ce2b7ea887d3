//go:build unix

package keyset

import "syscall"

const (
	// mmapMin: below this many bytes an array lives on the Go heap.
	mmapMin = 16 << 10
	// hugeMin: from this size a mapping asks for huge pages (where the
	// system gives them on request): a fault per 2 MB instead of per 4 KB,
	// and far fewer TLB misses for the filters' random reads.
	hugeMin = 4 << 20
)

// mapBytes returns n zeroed bytes mapped outside the Go heap, or false
// when n is small or the mapping fails (the caller then uses the heap).
// Pages cost memory only once touched.
func mapBytes(n int) ([]byte, bool) {
	if n < mmapMin {
		return nil, false
	}
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, false
	}
	if n >= hugeMin {
		adviseHuge(b)
	}
	return b, true
}

func unmapBytes(b []byte) { _ = syscall.Munmap(b) }
