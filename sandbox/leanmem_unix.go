//go:build unix

package sandbox

import "syscall"

// mapMin: below this many bytes a region lives on the Go heap.
const mapMin = 16 << 10

// mapZeroed returns n zeroed bytes, 8-byte aligned. Large regions are
// mapped outside the Go heap (mapped true; unmap them): the lean store's
// pages hold no pointers, and on the heap the garbage collector's headroom
// (GOGC) would double their cost in resident memory while the tenant
// churns through request bodies.
func mapZeroed(n int) (b []byte, mapped bool) {
	if n >= mapMin {
		if b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE); err == nil {
			return b, true
		}
	}
	return heapZeroed(n), false
}

func unmap(b []byte) { _ = syscall.Munmap(b) }
