package report

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/a0bulk/a0bulk/clock"
)

// BenchmarkLoad reads the report of a finished 200k-user import (per chunk
// of 1,200 records its queued line, its submitted line and a final line
// per record, as jobs.Scheduler writes them): what a
// --resume reads before it does anything. It reports records/s and the
// heap Load keeps (its State), per record. Issue 18's goal is ≥ 1M
// records/s; the process-level figures at 1M and 10M are BenchmarkScale's.
//
// A0BULK_LOAD_RECORDS sets another size (10000000 for issue 18's 10M; the
// report is then ~2.3 GB, in the test's temporary directory);
// A0BULK_LOAD_KEEP=FILE writes it there instead and keeps it, for
// measuring `a0bulk report summary` on it.
func BenchmarkLoad(b *testing.B) {
	const perChunk = 1200
	records := 200_000
	if n, err := strconv.Atoi(os.Getenv("A0BULK_LOAD_RECORDS")); err == nil && n > 0 {
		records = n
	}
	path := filepath.Join(b.TempDir(), "report.ndjson")
	if keep := os.Getenv("A0BULK_LOAD_KEEP"); keep != "" {
		path = keep
	}
	h := testHeader()
	h.Keys = KeysByRecord
	w, err := Create(path, h, clock.NewFake(t0))
	if err != nil {
		b.Fatal(err)
	}
	file := "/srv/migration/users-2026-12-01.ndjson"
	for start := 1; start <= records; start += perChunk {
		chunk := start/perChunk + 1
		end := min(start+perChunk, records+1)
		keys := make([]Key, 0, perChunk)
		for r := start; r < end; r++ {
			keys = append(keys, Key{File: file, Line: r, Record: r})
		}
		must(b, w.Record(QueuedChunk(chunk, keys)))
		must(b, w.Record(Entry{Status: Submitted, Chunk: chunk, JobID: fmt.Sprintf("job_%016d", chunk)}))
		for r := start; r < end; r++ {
			must(b, w.Record(Entry{File: file, Line: r, Record: r, Email: fmt.Sprintf("user.number%d@example.com", r), Status: Imported, Chunk: chunk, JobID: fmt.Sprintf("job_%016d", chunk)}))
		}
	}
	must(b, w.Close())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Load(path); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	st, _ := Load(path)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if st.Finals() != records {
		b.Fatalf("%d finals, want %d", st.Finals(), records)
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(records), "state-B/record")
	runtime.KeepAlive(st)
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
