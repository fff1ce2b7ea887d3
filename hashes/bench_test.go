package hashes

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/input"
)

// BenchmarkJoin indexes a password-hash export of n lines (generated on
// the fly, as support's export looks: about 330 bytes a line) and joins n
// records with it by user id, in an order unrelated to the file's. It
// reports lines/s and the memory that grows with the users: the key
// index's filters and fences past its budget plus the join's bit per line
// (index_B/user), the key table's bound (table_MB), the temporary copy on
// disk (disk_B/user), and the process's peak resident memory over its
// resident memory before the index (rss_MB, rss_B/user; Linux). The 10M
// case runs only with A0BULK_BENCH_LARGE=1.
func BenchmarkJoin(b *testing.B) {
	for _, n := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			if n > 1_000_000 && os.Getenv("A0BULK_BENCH_LARGE") == "" {
				b.Skip("set A0BULK_BENCH_LARGE=1")
			}
			for b.Loop() {
				runtime.GC()
				before := rssKB("VmRSS")
				resetPeak()
				x, err := Build(context.Background(), &exportGen{n: n}, "bench.ndjson", Options{Dir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				j := NewJoiner(x)
				var rec input.Record
				for i := range n {
					k := int(uint64(i) * 999983 % uint64(n)) // a permutation: 999983 is a prime that divides no n here
					rec = input.Record{File: "users.ndjson", Line: i + 1, User: input.User{Email: "x@example.com", UserID: "auth0|" + benchID(k)}}
					res, err := j.Join(&rec)
					if err != nil {
						b.Fatal(err)
					}
					if res.Outcome != Joined {
						b.Fatalf("record %d (line %d): %+v", i, k+1, res)
					}
				}
				if err := j.Unjoined(nil); err != nil {
					b.Fatal(err)
				}
				st := x.KeyStats()
				peak := rssKB("VmHWM")
				b.ReportMetric(float64(st.RunBytes+len(j.used)*8)/float64(n), "index_B/user")
				b.ReportMetric(float64(st.TableBytes)/(1<<20), "table_MB")
				b.ReportMetric(float64(st.DiskBytes+x.size)/float64(n), "disk_B/user")
				if before > 0 && peak > 0 {
					b.ReportMetric(float64(peak-before)/1024, "rss_MB")
					b.ReportMetric(float64(peak-before)*1024/float64(n), "rss_B/user")
				}
				x.Close()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}

// benchID is line k's user id: 24 hex digits, like a MongoDB ObjectId.
func benchID(k int) string {
	return fmt.Sprintf("5dea%020x", uint64(k)*0x9e3779b97f4a7c15)
}

// exportGen writes n export lines, one per Read as far as it fits.
type exportGen struct {
	n, i int
	buf  bytes.Buffer
}

func (g *exportGen) Read(p []byte) (int, error) {
	for g.buf.Len() < len(p) && g.i < g.n {
		id := benchID(g.i)
		fmt.Fprintf(&g.buf, `{"_id":{"$oid":%q},"email_verified":true,"email":"user%d@example.com","passwordHash":%q,"password_set_date":{"$date":"2019-12-06T18:36:12.412Z"},"tenant":"bench","connection":"Username-Password-Authentication","identifiers":[{"type":"email","value":"user%d@example.com","verified":true}]}`+"\n",
			id, g.i, hashOf(g.i), g.i)
		g.i++
	}
	if g.buf.Len() == 0 {
		return 0, io.EOF
	}
	return g.buf.Read(p)
}

// rssKB reads a line of /proc/self/status in kB (0 where there is none).
func rssKB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// resetPeak starts VmHWM again from the current resident size (Linux).
func resetPeak() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }
