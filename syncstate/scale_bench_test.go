package syncstate

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/a0bulk/a0bulk/clock"
)

// BenchmarkSyncStateScale measures the state as a sync at scale uses it:
// fill a new state with N users (a first sync, every user new), then an
// unchanged pass (a nightly sync of the same N users: one lookup each, no
// put). N is SYNCSTATE_USERS (default 100,000; the README figures are at
// 1M and 10M). Run it with -benchtime 1x: one iteration is the whole pass.
// SYNCSTATE_DIR keeps the state there and, when one of N users is there
// already, skips the fill (the 10M fill takes a while).
//
// Reported per phase: ns/user and CPU seconds, page faults per user (what
// bounding the mapped pages costs: see mapped.go), peak RSS (VmHWM, reset
// per phase through /proc/self/clear_refs; it counts the state's mapped
// pages) split into file-backed and anonymous, and peak Go heap; and the
// state file's bytes per user, leaf fill and free pages.
//
// Emails are not in key order (an export is ordered by something else,
// e.g. creation), so lookups are spread over the whole B+tree as they are
// in a real sync.
func BenchmarkSyncStateScale(b *testing.B) {
	n := 100_000
	if v := os.Getenv("SYNCSTATE_USERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("SYNCSTATE_USERS=%q: want a positive number", v)
		}
	}
	dir := os.Getenv("SYNCSTATE_DIR")
	for i := 0; i < b.N; i++ {
		if os.Getenv("SYNCSTATE_DIR") == "" {
			dir = b.TempDir()
		}
		path := filepath.Join(dir, fmt.Sprintf("state-%d.db", n))
		clk := clock.NewFake(t0)

		_, err := os.Stat(path)
		kept := err == nil
		fill := measure(b, func() {
			if kept {
				return // from an earlier run
			}
			s, err := Open(path, clk)
			if err != nil {
				b.Fatal(err)
			}
			for u := 0; u < n; u++ {
				if err := s.Put(scaleEmail(u), Entry{Hash: scaleHash(u), UserID: scaleUserID(u)}); err != nil {
					b.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
		})
		fi, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}

		unchanged := measure(b, func() {
			s, err := Open(path, clk)
			if err != nil {
				b.Fatal(err)
			}
			if v := os.Getenv("SYNCSTATE_MAP_BUDGET_MB"); v != "" {
				mb, _ := strconv.Atoi(v) // tuning experiments
				s.mapped.budget = int64(mb) << 20
			}
			if got, err := s.Len(); err != nil || got != n {
				b.Fatalf("Len = %d, %v; want %d", got, err, n)
			}
			for u := 0; u < n; u++ {
				e, ok, err := s.Get(scaleEmail(u))
				if err != nil || !ok || e.Hash != scaleHash(u) {
					b.Fatalf("user %d: %+v %v %v", u, e, ok, err)
				}
			}
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
		})

		leafFill, free := layout(b, path, clk)
		b.ReportMetric(leafFill, "leaf-fill-%")
		b.ReportMetric(free, "free-pages-%")
		b.ReportMetric(float64(n), "users")
		b.ReportMetric(float64(fi.Size())/float64(n), "state-B/user")
		if !kept {
			fill.report(b, "fill", n)
		}
		unchanged.report(b, "unchanged", n)
	}
}

// layout is how full the state's leaf pages are, and the share of its
// pages that are free: what its size per user is made of. It reads every
// page, so it is not part of a measured phase.
func layout(b *testing.B, path string, clk clock.Clock) (leafFill, free float64) {
	s, err := Open(path, clk)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	err = s.db.View(func(tx *bolt.Tx) error {
		st := tx.Bucket(usersBucket).Stats()
		leafFill = 100 * float64(st.LeafInuse) / float64(st.LeafAlloc)
		pages := tx.Size() / int64(s.db.Info().PageSize)
		free = 100 * float64(s.db.Stats().FreePageN) / float64(pages)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return leafFill, free
}

// scaleEmail is user u's email: unique, and not in key order.
func scaleEmail(u int) string {
	var x [8]byte
	binary.BigEndian.PutUint64(x[:], uint64(u)*0x9E3779B97F4A7C15)
	return fmt.Sprintf("%s.user%d@example.com", hex.EncodeToString(x[:3]), u)
}

func scaleHash(u int) Hash {
	var x [8]byte
	binary.BigEndian.PutUint64(x[:], uint64(u))
	return sha256.Sum256(x[:])
}

// scaleUserID is a create-mode id (an import-mode sync stores none).
func scaleUserID(u int) string { return fmt.Sprintf("auth0|%024x", u) }

// phase is what one measured pass cost.
type phase struct {
	elapsed  time.Duration
	cpu      time.Duration // user + system: the machine may be shared
	faults   int64         // page faults (minor + major)
	peakRSS  int64         // bytes, VmHWM
	rssFile  int64         // peak bytes of file-backed RSS (the state's mmap pages)
	rssAnon  int64         // peak bytes of anonymous RSS (heap, stacks)
	peakHeap uint64
}

func (p phase) report(b *testing.B, name string, n int) {
	b.ReportMetric(float64(p.elapsed.Nanoseconds())/float64(n), name+"-ns/user")
	b.ReportMetric(p.elapsed.Seconds(), name+"-s")
	b.ReportMetric(p.cpu.Seconds(), name+"-cpu-s")
	b.ReportMetric(float64(p.faults)/float64(n), name+"-faults/user")
	b.ReportMetric(float64(p.peakRSS)/(1<<20), name+"-peakRSS-MB")
	b.ReportMetric(float64(p.rssFile)/(1<<20), name+"-peakRSSfile-MB")
	b.ReportMetric(float64(p.rssAnon)/(1<<20), name+"-peakRSSanon-MB")
	b.ReportMetric(float64(p.peakHeap)/(1<<20), name+"-peakHeap-MB")
}

// measure runs f and returns its time, peak RSS and peak heap. The heap and
// the RSS split are sampled every few milliseconds, so their peaks are
// close lower bounds; VmHWM is the kernel's exact peak.
func measure(b *testing.B, f func()) phase {
	b.Helper()
	runtime.GC()
	// "5" resets VmHWM to the current RSS (Linux ≥ 4.0); elsewhere the
	// peak is the process's.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	var (
		peak       uint64
		file, anon int64
		wg         sync.WaitGroup
		stop       = make(chan struct{})
	)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			st := procStatus()
			file, anon = max(file, st["RssFile"]), max(anon, st["RssAnon"])
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	start, cpu0, faults0 := time.Now(), cpuTime(), pageFaults()
	f()
	elapsed, cpu, faults := time.Since(start), cpuTime()-cpu0, pageFaults()-faults0
	close(stop)
	wg.Wait()
	st := procStatus()
	return phase{elapsed: elapsed, peakRSS: st["VmHWM"], rssFile: file, rssAnon: anon, peakHeap: peak, cpu: cpu, faults: faults}
}

// procStatus is /proc/self/status's sizes in bytes (empty off Linux).
func procStatus() map[string]int64 {
	out := map[string]int64{}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var (
			name string
			kb   int64
		)
		if _, err := fmt.Sscanf(sc.Text(), "%s %d kB", &name, &kb); err == nil {
			out[name[:len(name)-1]] = kb << 10
		}
	}
	return out
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pageFaults is the process's page faults so far.
func pageFaults() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Minflt + ru.Majflt
}
