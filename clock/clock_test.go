package clock

import (
	"testing"
	"time"
)

func TestFakeFiresOnlyWhenDue(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	early, late := f.After(time.Second), f.After(3*time.Second)
	f.Advance(2 * time.Second)
	select {
	case got := <-early:
		if !got.Equal(start.Add(2 * time.Second)) {
			t.Fatalf("early fired at %v", got)
		}
	default:
		t.Fatal("1s waiter did not fire after 2s")
	}
	select {
	case <-late:
		t.Fatal("3s waiter fired after 2s")
	default:
	}
	if f.Waiters() != 1 {
		t.Fatalf("waiters = %d, want 1", f.Waiters())
	}
}

func TestBlockUntilSeesWaiterFromOtherGoroutine(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	done := make(chan struct{})
	go func() {
		<-f.After(time.Minute)
		close(done)
	}()
	f.BlockUntil(1)
	f.Advance(time.Minute)
	<-done
}

func TestZeroDurationFiresImmediately(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	select {
	case <-f.After(0):
	default:
		t.Fatal("After(0) should be ready at once")
	}
}

func TestDriveRunsWaitersToTheEnd(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	done := make(chan error, 1)
	go func() {
		for range 3 {
			<-f.After(2 * time.Second)
		}
		done <- nil
	}()
	if err := f.Drive(time.Second, done); err != nil {
		t.Fatal(err)
	}
	if got := f.Now().Sub(start); got != 6*time.Second {
		t.Fatalf("drove the clock %v, want 6s", got)
	}
}
