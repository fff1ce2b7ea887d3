//go:build unix

package input

import "syscall"

// mmapMin: below this many bytes a table lives on the Go heap.
const mmapMin = 16 << 10

// allocWords returns n zeroed words. Large tables are mapped outside the
// Go heap: they hold no pointers, and on the heap the garbage collector's
// headroom (GOGC) would double their cost in resident memory. mapped says
// freeWords must unmap them.
func allocWords(n int) (w []uint64, mapped bool) {
	if n*8 < mmapMin {
		return make([]uint64, n), false
	}
	b, err := syscall.Mmap(-1, 0, n*8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]uint64, n), false
	}
	return unsafeWords(b, n), true
}

func freeWords(w []uint64) {
	_ = syscall.Munmap(unsafeBytes(w))
}
