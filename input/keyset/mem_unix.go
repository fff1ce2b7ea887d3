//go:build unix

package keyset

import "syscall"

// mmapMin: below this many bytes an array lives on the Go heap.
const mmapMin = 16 << 10

// mapBytes returns n zeroed bytes mapped outside the Go heap, or false
// when n is small or the mapping fails (the caller then uses the heap).
func mapBytes(n int) ([]byte, bool) {
	if n < mmapMin {
		return nil, false
	}
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, false
	}
	return b, true
}

func unmapBytes(b []byte) { _ = syscall.Munmap(b) }
