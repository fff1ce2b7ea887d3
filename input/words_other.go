//go:build !unix

package input

func allocWords(n int) (w []uint64, mapped bool) { return make([]uint64, n), false }

func freeWords([]uint64) {}
