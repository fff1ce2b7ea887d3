package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
)

const rssHelperEnv = "A0BULK_BENCH_RSS_HELPER"

// TestMain turns the test binary into the RSS helper when asked: it runs
// os.Args[1:] with its own stdin, and prints the child's peak RSS.
func TestMain(m *testing.M) {
	if os.Getenv(rssHelperEnv) != "1" {
		os.Exit(m.Run())
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, io.Discard, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "rss helper:", err)
		os.Exit(1)
	}
	fmt.Printf("maxrss_kb %d\n", cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)
	os.Exit(0)
}

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
				// Through a small helper: a child's ru_maxrss starts from its
				// parent's at exec, and this benchmark process is large.
				cmd := exec.Command(os.Args[0], bin, "validate", "--input", "-", "--format", "ndjson", "--quiet")
				cmd.Env = append(os.Environ(), rssHelperEnv+"=1")
				in, err := cmd.StdinPipe()
				if err != nil {
					b.Fatal(err)
				}
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, io.Discard
				start := time.Now()
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				w := bufio.NewWriterSize(in, 1<<16)
				genErr := gen.Users(11, n, w, input.FormatNDJSON, gen.GenOptions{})
				if genErr == nil {
					genErr = w.Flush()
				}
				in.Close()
				if err := cmd.Wait(); err != nil || genErr != nil {
					b.Fatalf("validate: %v; generator: %v", err, genErr)
				}
				rate += float64(n) / time.Since(start).Seconds()
				var kb int64
				if _, err := fmt.Sscanf(out.String(), "maxrss_kb %d", &kb); err != nil {
					b.Fatalf("helper said %q: %v", out.String(), err)
				}
				rss += float64(kb) / 1024
				runs++
			}
			b.ReportMetric(rss/float64(runs), "peak_rss_MB")
			b.ReportMetric(rate/float64(runs), "users/s_with_generator")
		})
	}
}
