//go:build !unix

package keyset

func mapBytes(int) ([]byte, bool) { return nil, false }

func unmapBytes([]byte) {}
