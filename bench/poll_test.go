package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
	"github.com/a0bulk/a0bulk/jobs"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
	"github.com/a0bulk/a0bulk/throttle"
)

// countJournal counts final lines; the scheduler needs nothing else.
type countJournal struct {
	mu     sync.Mutex
	finals map[report.Status]int
}

func (j *countJournal) Record(e report.Entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if e.Status.IsFinal() {
		j.finals[e.Status]++
	}
	return nil
}

// BenchmarkImportPollMin drives jobs.Scheduler directly (as cli does) with
// the first poll wait at the cli's default (1s) and shorter, to show how
// much of the slot time the poll interval leaves idle when jobs are fast.
func BenchmarkImportPollMin(b *testing.B) {
	in := genFile(b, b.TempDir(), importUsers, input.FormatNDJSON, gen.GenOptions{})
	for _, pollMin := range []time.Duration{time.Second, 250 * time.Millisecond, 100 * time.Millisecond} {
		b.Run(fmt.Sprintf("poll_min=%v", pollMin), func(b *testing.B) {
			var busy, rate float64
			runs := 0
			for b.Loop() {
				host, _, rc := tenant(b, sandbox.Config{JobDelay: fastJobDelay})
				start := time.Now()
				got := importDirect(b, host, in, pollMin)
				elapsed := time.Since(start)
				if got != importUsers {
					b.Fatalf("%d users imported, want %d", got, importUsers)
				}
				rc.mu.Lock()
				busy += bothBusy(rc.jobStarts, 2*fastJobDelay)
				rc.mu.Unlock()
				rate += importUsers / elapsed.Seconds()
				runs++
			}
			b.ReportMetric(100*busy/float64(runs), "slots_busy_%")
			b.ReportMetric(rate/float64(runs), "users/s")
		})
	}
}

// importDirect imports path through a Scheduler with the given PollMin and
// returns how many records ended created or imported.
func importDirect(b *testing.B, host, path string, pollMin time.Duration) int {
	ctx := context.Background()
	// The sandbox has no rate limit here: start the pacer where the
	// unlimited tenant's headers put it (burst 50) instead of at Auth0's
	// safe 2/s, so that only polling and the tenant decide the pace.
	client, err := management.New(management.Config{Domain: host, ClientID: "bench", ClientSecret: "bench-secret",
		Throttle: throttle.Options{Rate: 50, Burst: 50}})
	if err != nil {
		b.Fatal(err)
	}
	conn, err := client.ConnectionByName(ctx, connection)
	if err != nil {
		b.Fatal(err)
	}
	j := &countJournal{finals: map[report.Status]int{}}
	s := &jobs.Scheduler{API: client, Journal: j, Clock: clock.Real{}, ConnectionID: conn.ID, PollMin: pollMin}
	chunks := make(chan input.Chunk)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, chunks) }()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	r, err := input.NewReader(f, path, input.FormatNDJSON, input.Options{})
	if err != nil {
		b.Fatal(err)
	}
	c := input.NewChunker(chunkLimit, 1)
	send := func(ch *input.Chunk) error { chunks <- *ch; return nil }
	v := input.NewValidator(input.ModeImport)
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if v.Check(&rec); !rec.Valid() {
			continue
		}
		full, err := c.Add(rec)
		if err != nil {
			b.Fatal(err)
		}
		if full != nil {
			send(full)
		}
	}
	if last := c.Flush(); last != nil {
		send(last)
	}
	close(chunks)
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return j.finals[report.Created] + j.finals[report.Imported]
}
