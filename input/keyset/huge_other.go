//go:build unix && !linux

package keyset

func adviseHuge([]byte) {}
