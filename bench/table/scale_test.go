package main

import (
	"bufio"
	"strings"
	"testing"
)

const scaleOut = `BenchmarkScale/format=ndjson/users=1000000-2   1	1 ns/op	 100 import:MB	 20 import:cpu_s	 150 import:s	 400 report_B/user	 30 summary:MB	 8 summary:s	 7 summary:cpu_s	 1700 resume_done:MB	 100 resume_done:s	 60 resume_done:cpu_s
BenchmarkScale/format=ndjson/users=10000000-2  1	1 ns/op	 300 import:MB	 200 import:cpu_s	 1600 import:s	 401 report_B/user	 31 summary:MB	 85 summary:s	 70 summary:cpu_s	 6150 resume_done:MB	 1 resume_done:capped	 40 resume_done:s	 20 resume_done:cpu_s	 35 create:MB	 5 create:s	 4 create:cpu_s
BenchmarkScale/format=csv/users=1000000-2      1	1 ns/op	 90 import:MB	 20 import:cpu_s	 140 import:s
BenchmarkImportSandbox/job=500ms-2             1	1 ns/op	 3745 users/s`

func TestScaleTable(t *testing.T) {
	out := scaleTable(parse(bufio.NewScanner(strings.NewReader(scaleOut))))
	for _, want := range []string{
		"| command | 1M users | 10M users | growth 1M → 10M | peak RSS < 256 MB? |",
		"| import (NDJSON) | 100 MB, 150 s (cpu 20) | 300 MB, 1600 s (cpu 200) | RSS ×3.00, time ×10.7 | **no** (at 10M) |",
		"| report summary (NDJSON) | 30 MB, 8.0 s (cpu 7.0) | 31 MB, 85 s (cpu 70) | RSS ×1.03, time ×10.6 | yes (at 10M) |",
		"| create (NDJSON) | — | 35 MB, 5.0 s (cpu 4.0) | — | yes (at 10M) |",
		"| import --resume of the finished report (NDJSON) | 1700 MB, 100 s (cpu 60) | **> 6150 MB: killed at the cap** after 40 s | RSS > ×3.6 | **no** (at 10M) |",
		"| import (CSV) | 90 MB, 140 s (cpu 20) | — | — | yes (at 1M) |",
		"| report bytes per user (import) (NDJSON) | 400 B | 401 B | | |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks\n%s\nin\n%s", want, out)
		}
	}
	if strings.Contains(out, "sync") || strings.Contains(out, "failures") {
		t.Errorf("rows for commands never measured:\n%s", out)
	}
	if scaleTable(parse(bufio.NewScanner(strings.NewReader("BenchmarkChunkFill-2 1 1 ns/op 99 fill_%")))) != "" {
		t.Error("a scale table without scale results")
	}
}

func TestUsersLabel(t *testing.T) {
	for n, want := range map[int]string{100_000: "100k", 1_000_000: "1M", 10_000_000: "10M", 20_000: "20k", 1234: "1234"} {
		if got := usersLabel(n); got != want {
			t.Errorf("%d: %q, want %q", n, got, want)
		}
	}
}
