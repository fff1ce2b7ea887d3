// Package simtest runs a0bulk's workflow as a discrete-event simulation:
// minutes of tenant time on a fake clock in the time its computation
// takes, against a tenant reached in memory. The benchmarks measure pacing
// with it, and the rate-limit chaos tests play 30-second storms with it
// without sleeping.
package simtest

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

// Run runs work on its own goroutine as a discrete-event simulation
// on clk: whenever every goroutine started since simulate was called is
// blocked (on a channel, a select, a mutex: nothing left to do until time
// passes), clk jumps to its next deadline. A run of minutes of tenant time
// then takes as long as its computation, and its figures are those of the
// clock, whatever the machine's load.
//
// Blocked is read from the runtime's goroutine states (runtime.Stack, one
// consistent stop-the-world snapshot), the same notion testing/synctest
// uses, which the create runner's pool cannot run under. It holds only if
// nothing the run waits for comes from outside the process: the tenant must
// be reached without sockets (memTransport). A run that blocks with nothing
// on the clock is deadlocked: Run returns an error with the stacks.
func Run(clk *clock.Fake, work func() error) error {
	before := goroutineStates()
	done := make(chan error, 1)
	go func() { done <- work() }()
	var stuckSince time.Time
	for spins := 0; ; spins++ {
		select {
		case err := <-done:
			return err
		default:
		}
		if busy() && spins%32 != 31 {
			yield(spins)
			continue
		}
		if !settled(before, goroutineStates()) {
			stuckSince = time.Time{}
			yield(spins)
			continue
		}
		// work may have returned between the two looks.
		select {
		case err := <-done:
			return err
		default:
		}
		at, ok := clk.NextDeadline()
		if !ok {
			// Every goroutine of the run waits and nothing waits on the
			// clock: deadlock, unless something outside the process
			// answers soon (it should not: give it a little real time).
			if stuckSince.IsZero() {
				stuckSince = time.Now()
			}
			if time.Since(stuckSince) > deadlockGrace {
				return fmt.Errorf("simulation deadlocked at %v: every goroutine blocked, nothing waiting on the clock\n%s", clk.Now(), allStacks())
			}
			yield(spins)
			continue
		}
		stuckSince = time.Time{}
		spins = 0
		clk.Advance(at.Sub(clk.Now()))
	}
}

// deadlockGrace is the real time a blocked run with nothing on the clock is
// given before Run calls it a deadlock.
const deadlockGrace = 5 * time.Second

// yield lets the run's goroutines work before the next look: first by
// rescheduling, then by short naps, since each look stops the world.
func yield(spins int) {
	if spins < 64 {
		runtime.Gosched()
		return
	}
	time.Sleep(time.Duration(min(spins-63, 50)) * 20 * time.Microsecond)
}

// sched holds the scheduler's approximate goroutine counts.
var sched = []metrics.Sample{{Name: "/sched/goroutines/runnable:goroutines"}, {Name: "/sched/goroutines/not-in-go:goroutines"}}

// busy is a cheap first look: the scheduler's approximate counts show a
// goroutine ready to run or in a system call. It only spares the costly
// exact look (settled) while something obviously works. It counts every
// goroutine of the process (a signal handler's sits in a system call for
// good), so Run still looks every 32 spins whatever it says.
func busy() bool {
	metrics.Read(sched)
	return sched[0].Value.Uint64() > 0 || sched[1].Value.Uint64() > 0
}

// settled reports whether every goroutine in now that was not in before is
// blocked on something only another goroutine of the process (or the
// clock, through a channel) can release.
func settled(before, now map[int64]string) bool {
	for id, state := range now {
		if _, old := before[id]; old {
			continue
		}
		if !blocked(state) {
			return false
		}
	}
	return true
}

// blocked reports whether a goroutine state (runtime's wait reason, as
// runtime.Stack prints it) waits on the program: a channel, a select, a
// sync primitive. Running, runnable, in a system call, sleeping on the
// wall clock or waiting for network I/O are not.
func blocked(state string) bool {
	for _, p := range []string{"chan ", "select", "sync.", "semacquire"} {
		if strings.HasPrefix(state, p) {
			return true
		}
	}
	return false
}

// goroutineStates maps each goroutine's id to its state, from one
// runtime.Stack snapshot.
func goroutineStates() map[int64]string {
	return parseStates(allStacks())
}

// stackBuf is reused by allStacks: Run looks once per event.
var stackBuf = make([]byte, 64<<10)

// allStacks is runtime.Stack of every goroutine. The result is valid until
// the next call.
func allStacks() []byte {
	for {
		n := runtime.Stack(stackBuf, true)
		if n < len(stackBuf) {
			return stackBuf[:n]
		}
		stackBuf = make([]byte, 2*len(stackBuf))
	}
}

// parseStates reads the "goroutine 12 [chan receive, 2 minutes]:" header
// of each goroutine in a runtime.Stack dump.
func parseStates(dump []byte) map[int64]string {
	out := map[int64]string{}
	for len(dump) > 0 {
		line := dump
		if i := bytes.IndexByte(dump, '\n'); i >= 0 {
			line, dump = dump[:i], dump[i+1:]
		} else {
			dump = nil
		}
		rest, ok := bytes.CutPrefix(line, []byte("goroutine "))
		if !ok || !bytes.HasSuffix(line, []byte("]:")) {
			continue
		}
		idText, _, _ := bytes.Cut(rest, []byte{' '})
		id, err := strconv.ParseInt(string(idText), 10, 64)
		if err != nil {
			continue
		}
		i := bytes.IndexByte(rest, '[')
		if i < 0 {
			continue
		}
		state, _, _ := bytes.Cut(rest[i+1:len(rest)-2], []byte{','})
		out[id] = string(state)
	}
	return out
}
