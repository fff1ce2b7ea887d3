package modeltest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/a0bulk/a0bulk/report"
)

// errKilled is what the killed process's requests get: it is dead, so it
// neither sends them nor hears their answers.
var errKilled = errors.New("modeltest: the process was killed")

// killPlan says when an attempt dies. Zero values: it is never killed.
type killPlan struct {
	// atLine kills it when its atLine-th journal line is written.
	atLine int
	// atRequest kills it as its atRequest-th HTTP request is about to
	// leave (before the report may even exist).
	atRequest int
	// atWrite kills it while its atWrite-th POST or PATCH is in flight:
	// after the tenant acted, before the answer arrived (the window where
	// a lost answer is settled by the next run).
	atWrite int
	// torn leaves the first line the process was writing after the kill
	// half written (tornAt is a fraction of it), as a power loss would.
	torn   bool
	tornAt float64
}

// killSwitch emulates SIGKILL of an in-process run, honestly enough that
// the resume faces what a dead process leaves:
//
//   - The kill is one instant T, taken under mu, which every HTTP request
//     also takes before it leaves. Requests that left before T still reach
//     the tenant, but their answers are dropped; requests after T never
//     leave.
//   - The report keeps exactly the bytes it had at T (a write-ahead line is
//     written before its request leaves, so every request that may have
//     reached the tenant has its line), optionally followed by a torn piece
//     of the next line. The run goes on writing after T (it cannot be
//     stopped mid-statement); cut throws those lines away.
//   - The sync state keeps exactly its bytes at T (bbolt is crash-safe:
//     a copy read front to back is a state a crash could leave).
//
// It is the run's http.RoundTripper (under the client) and its progress
// display (the journal's observer, which counts lines).
type killSwitch struct {
	next   http.RoundTripper
	report string
	state  string // "" unless a sync
	plan   killPlan
	cancel context.CancelFunc

	mu       sync.Mutex
	killed   bool
	lines    int
	linesAtT int
	requests int
	writes   int
	// at T:
	reportLen     int64
	reportExisted bool
	stateBytes    []byte
	stateExisted  bool

	inflight sync.WaitGroup
}

// killLocked is the instant T. Callers hold mu.
func (k *killSwitch) killLocked() {
	k.killed, k.linesAtT = true, k.lines
	if fi, err := os.Stat(k.report); err == nil {
		k.reportExisted, k.reportLen = true, fi.Size()
	}
	if k.state != "" {
		if b, err := os.ReadFile(k.state); err == nil {
			k.stateExisted, k.stateBytes = true, b
		}
	}
}

// RoundTrip is the transport of the run's client (token requests included).
func (k *killSwitch) RoundTrip(req *http.Request) (*http.Response, error) {
	k.mu.Lock()
	if k.killed {
		k.mu.Unlock()
		return nil, errKilled
	}
	k.requests++
	if k.plan.atRequest > 0 && k.requests == k.plan.atRequest {
		k.killLocked()
		k.mu.Unlock()
		k.cancel()
		return nil, errKilled
	}
	write := 0
	if req.Method == http.MethodPost || req.Method == http.MethodPatch {
		if strings.HasPrefix(req.URL.Path, "/api/v2/") {
			k.writes++
			write = k.writes
		}
	}
	k.inflight.Add(1)
	k.mu.Unlock()
	defer k.inflight.Done()

	// Once sent, a request reaches the tenant whatever the sender does
	// next: only its answer can be lost.
	resp, err := k.next.RoundTrip(req.WithContext(context.WithoutCancel(req.Context())))
	k.mu.Lock()
	fire := !k.killed && write > 0 && write == k.plan.atWrite
	if fire {
		k.killLocked()
	}
	dead := k.killed
	k.mu.Unlock()
	if fire {
		k.cancel()
	}
	if dead {
		if resp != nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return nil, errKilled
	}
	return resp, err
}

// Observe counts the journal's lines (run.Progress).
func (k *killSwitch) Observe(report.Entry) {
	k.mu.Lock()
	k.lines++
	fire := !k.killed && k.plan.atLine > 0 && k.lines == k.plan.atLine
	if fire {
		k.killLocked()
	}
	k.mu.Unlock()
	if fire {
		k.cancel()
	}
}

func (k *killSwitch) RecordRead()               {}
func (k *killSwitch) Waiting(string, time.Time) {}
func (k *killSwitch) Stop()                     {}

// wasKilled reports whether the kill happened.
func (k *killSwitch) wasKilled() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.killed
}

// cut makes the files what the dead process left at T. Call it after the
// run returned; it waits for the requests still in flight first.
func (k *killSwitch) cut() error {
	k.inflight.Wait()
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.killed {
		return nil
	}
	if err := k.cutReport(); err != nil {
		return err
	}
	if k.state == "" {
		return nil
	}
	if !k.stateExisted {
		if err := os.Remove(k.state); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	return os.WriteFile(k.state, k.stateBytes, 0o600)
}

func (k *killSwitch) cutReport() error {
	data, err := os.ReadFile(k.report)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	n := min(k.reportLen, int64(len(data)))
	// The header is written and synced before any request: a kill that
	// caught it half written is a kill before it.
	if !k.reportExisted || bytes.IndexByte(data[:n], '\n') < 0 {
		return os.Remove(k.report)
	}
	keep := data[:n]
	if k.plan.torn && int64(len(data)) > n {
		next := data[n:]
		if i := bytes.IndexByte(next, '\n'); i >= 0 {
			next = next[:i]
		}
		// Never the whole line, nor all but its newline: a line that
		// parses is no torn line.
		if len(next) >= 2 {
			cut := 1 + int(k.plan.tornAt*float64(len(next)-2))
			keep = append(keep[:n:n], next[:cut]...)
		}
	}
	return os.WriteFile(k.report, keep, 0o600)
}
