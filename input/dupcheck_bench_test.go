package input

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// BenchmarkValidatorScale checks n distinct users (email and user_id, as
// the generator writes them) through one Validator: the schema checks
// plus the duplicate check at a scale where it spills to disk. It reports
// users/s and the duplicate check's memory per user beyond its bounded
// table. The 10M case runs only with A0BULK_BENCH_LARGE=1.
func BenchmarkValidatorScale(b *testing.B) {
	for _, n := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			if n > 1_000_000 && os.Getenv("A0BULK_BENCH_LARGE") == "" {
				b.Skip("set A0BULK_BENCH_LARGE=1")
			}
			ok := true
			var rec Record
			for b.Loop() {
				v := NewValidator(ModeImport)
				email := make([]byte, 0, 64)
				id := make([]byte, 0, 24)
				for i := range n {
					email = append(strconv.AppendInt(append(email[:0], "olivia.novak"...), int64(i), 10), "@example.com"...)
					id = strconv.AppendUint(append(id[:0], "5db6f460"...), uint64(i)*0x9e3779b97f4a7c15>>1|1<<62, 16)
					rec = Record{File: "users.ndjson", Line: i + 1, User: User{Email: string(email), EmailVerified: &ok, UserID: string(id), Name: "Olivia Novak"}}
					v.Check(&rec)
					if !rec.Valid() || v.Err() != nil {
						b.Fatalf("user %d: %v %v", i, rec.Errors, v.Err())
					}
				}
				st := v.DupStats()
				b.ReportMetric(float64(st.RunBytes)/float64(n), "run_B/user")
				b.ReportMetric(float64(st.TableBytes)/(1<<20), "table_MB")
				b.ReportMetric(float64(st.DiskBytes)/float64(n), "disk_B/user")
				b.ReportMetric(float64(st.Runs), "runs")
				v.Close()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "users/s")
		})
	}
}
