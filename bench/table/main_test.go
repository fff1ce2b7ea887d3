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

func TestPacingRows(t *testing.T) {
	out := `BenchmarkPlanPacing/essentials/verify-2   	       1	  20697914 ns/op	         0.5 429_%	         0 failed	       750.0 requests	        99.99 sent/allowed_%	       146.1 simulated_s
BenchmarkPlanPacing/free/import-2   	       1	  20697914 ns/op	         2 429_%	         0 failed	       300.0 requests	        99.99 sent/allowed_%	       146.1 simulated_s`
	rows := pacingRows(parse(bufio.NewScanner(strings.NewReader(out))))
	if len(rows) != 12 {
		t.Fatalf("%d rows, want 3 plans × 4 workloads", len(rows))
	}
	got := map[string]row{}
	for _, r := range rows {
		got[r.figure] = r
	}
	if r := got["pacing, essentials plan (simulated), create --verify-email"]; r.met != "yes" || r.measured != "100.0% of the binding bucket, 0.50% 429s (750 requests, 0 failed)" {
		t.Errorf("essentials verify: %+v", r)
	}
	if r := got["pacing, free plan (simulated), import (POST + polls)"]; r.met != "**no**" {
		t.Errorf("2%% 429s met the goal: %+v", r)
	}
	if r := got["pacing, enterprise plan (simulated), create --upsert (half the users exist)"]; r.measured != "not measured" {
		t.Errorf("missing benchmark: %+v", r)
	}
}
