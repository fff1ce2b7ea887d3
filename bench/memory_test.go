package bench

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
)

// binary is the a0bulk under test: $A0BULK_BIN, else the one `make build`
// writes.
func binary(b *testing.B) string {
	if p := os.Getenv("A0BULK_BIN"); p != "" {
		return p
	}
	p, err := filepath.Abs("../bin/a0bulk")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		b.Skipf("no %s: run make build (or set A0BULK_BIN)", p)
	}
	return p
}

// BenchmarkValidateMemory streams generated users through `a0bulk validate`
// in a child process, straight from the generator through a pipe (no file),
// and reports the child's peak resident set (getrusage ru_maxrss, i.e.
// VmHWM). The input size never shows up in memory; only the duplicate
// check grows with the number of distinct users: a bounded table, then
// about 1.6 bytes per key (input/keyset). The 10M case (about seven minutes,
// the generator being the slow side) runs only with A0BULK_BENCH_LARGE=1.
func BenchmarkValidateMemory(b *testing.B) {
	bin := binary(b)
	sizes := []int{100_000, 1_000_000}
	if os.Getenv("A0BULK_BENCH_LARGE") != "" {
		sizes = append(sizes, 10_000_000)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			var rss, rate float64
			runs := 0
			for b.Loop() {
				// Under the helper (scale_child_test.go): this benchmark
				// process is large, the child's ru_maxrss must not be.
				m := newMeasured(bin, "validate", "--input", "-", "--format", "ndjson", "--quiet")
				in, err := m.cmd.StdinPipe()
				if err != nil {
					b.Fatal(err)
				}
				if err := m.start(); err != nil {
					b.Fatal(err)
				}
				w := bufio.NewWriterSize(in, 1<<16)
				genErr := gen.Users(11, n, w, input.FormatNDJSON, gen.GenOptions{})
				if genErr == nil {
					genErr = w.Flush()
				}
				in.Close()
				u, err := m.wait()
				if err != nil || u.Exit != 0 || genErr != nil {
					b.Fatalf("validate: %v, exit %d; generator: %v", err, u.Exit, genErr)
				}
				rate += float64(n) / u.Wall
				rss += u.RSSMB
				runs++
			}
			b.ReportMetric(rss/float64(runs), "peak_rss_MB")
			b.ReportMetric(rate/float64(runs), "users/s_with_generator")
		})
	}
}
