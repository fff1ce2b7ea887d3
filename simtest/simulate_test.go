package simtest

import (
	"errors"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Run advances the clock only when every goroutine of the run waits:
// a goroutine still computing when another already waits on the clock gets
// its own wait measured from the time it asked, not after the other's
// deadline (a driver that advanced whenever something waited would fire
// the second wait at 1.1s).
func TestSimulateWaitsForWork(t *testing.T) {
	clk := clock.NewFake(t0)
	var fired time.Duration
	err := Run(clk, func() error {
		other := make(chan struct{})
		go func() { <-clk.After(time.Second); close(other) }()
		clk.BlockUntil(1)
		spin(20 * time.Millisecond) // real work: no tenant time passes
		<-clk.After(100 * time.Millisecond)
		fired = clk.Now().Sub(t0)
		<-other
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fired != 100*time.Millisecond {
		t.Errorf("the wait fired %v after the start, want 100ms", fired)
	}
	if got := clk.Now().Sub(t0); got != time.Second {
		t.Errorf("the run ended %v after the start, want 1s", got)
	}
}

// spin computes for about d of wall time without waiting on anything.
func spin(d time.Duration) {
	end := time.Now().Add(d)
	x := 0
	for time.Now().Before(end) {
		x++
	}
	_ = x
}

func TestSimulateReturnsTheError(t *testing.T) {
	want := errors.New("stopped")
	err := Run(clock.NewFake(t0), func() error { return want })
	if !errors.Is(err, want) {
		t.Errorf("err = %v, want %v", err, want)
	}
}

func TestParseStates(t *testing.T) {
	dump := []byte(`goroutine 7 [running]:
main.main()
	/x/main.go:10 +0x1d

goroutine 12 [chan receive, 2 minutes]:
main.f()

goroutine 13 [select, locked to thread]:
main.g()

goroutine 14 [sync.Mutex.Lock]:
goroutine 15 [IO wait]:
`)
	got := parseStates(dump)
	want := map[int64]string{7: "running", 12: "chan receive", 13: "select", 14: "sync.Mutex.Lock", 15: "IO wait"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for id, s := range want {
		if got[id] != s {
			t.Errorf("goroutine %d: %q, want %q", id, got[id], s)
		}
	}
	before := map[int64]string{7: "running"}
	if settled(before, got) {
		t.Errorf("a goroutine waiting for network I/O counted as settled")
	}
	delete(got, 15)
	if !settled(before, got) {
		t.Errorf("channel, select and mutex waits (and an older running goroutine) not settled")
	}
}
