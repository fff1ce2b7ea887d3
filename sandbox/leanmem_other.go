//go:build !unix

package sandbox

func mapZeroed(n int) (b []byte, mapped bool) { return heapZeroed(n), false }

func unmap([]byte) {}
