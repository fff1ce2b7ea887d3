package keyset

import "syscall"

// adviseHuge asks for transparent huge pages; a refusal changes nothing.
func adviseHuge(b []byte) { _ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) }
