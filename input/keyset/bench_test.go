package keyset

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// BenchmarkSet adds n distinct keys shaped like emails and user ids, each
// looked up first as the duplicate check does, and reports the time per
// key and what the set keeps in memory per key past its budget. The 10M
// case runs only with A0BULK_BENCH_LARGE=1.
func BenchmarkSet(b *testing.B) {
	for _, n := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			if n > 1_000_000 && os.Getenv("A0BULK_BENCH_LARGE") == "" {
				b.Skip("set A0BULK_BENCH_LARGE=1")
			}
			var st Stats
			for b.Loop() {
				s := New(Options{})
				key := make([]byte, 0, 64)
				for i := range n {
					key = append(strconv.AppendInt(append(key[:0], "first.last"...), int64(i), 10), "@example.com"...)
					p := s.Probe(uint8(i&1), string(key))
					if _, dup, err := s.Lookup(p); err != nil || dup {
						b.Fatalf("key %d: dup %v, %v", i, dup, err)
					}
					if err := s.Add(p, uint64(i)); err != nil {
						b.Fatal(err)
					}
				}
				st = s.Stats()
				s.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/key")
			b.ReportMetric(float64(st.RunBytes)/float64(n), "run_B/key")
			b.ReportMetric(float64(st.TableBytes)/(1<<20), "table_MB")
			b.ReportMetric(float64(st.DiskBytes)/float64(n), "disk_B/key")
			b.ReportMetric(float64(st.Spills), "spills")
			b.ReportMetric(float64(st.Merges), "merges")
			b.ReportMetric(float64(st.Runs), "runs")
		})
	}
}
