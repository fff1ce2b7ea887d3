package run

import (
	"context"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

// After a stop, requests in flight get the grace to finish; closing Abort
// (a second Ctrl-C) ends it at once, with no time passing.
func TestAbortEndsTheGrace(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC))
	abort := make(chan struct{})
	env := Env{Clock: clk, Grace: 10 * time.Second, Abort: abort}
	parent, stop := context.WithCancel(context.Background())
	work, cancel := env.graceContext(parent)
	defer cancel()
	stop()
	clk.BlockUntil(1) // the grace has begun
	clk.Advance(9 * time.Second)
	select {
	case <-work.Done():
		t.Fatal("the work ended before its grace")
	default:
	}
	close(abort)
	<-work.Done()
}
