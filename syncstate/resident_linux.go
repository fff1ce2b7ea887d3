package syncstate

import (
	"bytes"
	"os"
	"strconv"
)

// residentFileBytes is the process's resident file-backed memory: the third
// field of /proc/self/statm ("shared": resident pages backed by a file),
// which is where the state's mapped pages count.
func residentFileBytes() (int64, bool) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, false
	}
	f := bytes.Fields(b)
	if len(f) < 3 {
		return 0, false
	}
	pages, err := strconv.ParseInt(string(f[2]), 10, 64)
	if err != nil {
		return 0, false
	}
	return pages * int64(os.Getpagesize()), true
}
