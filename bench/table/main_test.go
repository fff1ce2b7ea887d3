package main

import (
	"bufio"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	out := `goos: linux
BenchmarkReadValidateChunkNDJSON-2   	      12	  72217130 ns/op	 111.41 MB/s	    276943 users/s
BenchmarkCreateRateLimited/rate50_burst50-2         	       1	23957490575 ns/op	         0 429s	        80.26 achieved/allowed_%
PASS`
	r := parse(bufio.NewScanner(strings.NewReader(out)))
	if got := r["BenchmarkReadValidateChunkNDJSON"]["users/s"]; got != 276943 {
		t.Errorf("users/s %v", got)
	}
	if got := r["BenchmarkCreateRateLimited/rate50_burst50"]["achieved/allowed_%"]; got != 80.26 {
		t.Errorf("achieved %v", got)
	}
	if got := thousands(1234567.4); got != "1,234,567" {
		t.Errorf("thousands %q", got)
	}
}
