package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func testHeader() RunHeader {
	return RunHeader{
		Version: "test", Mode: "import", Connection: "db", Upsert: true, ExternalID: "x",
		Inputs: []Input{{Path: "users.csv", Size: 10, SHA256: "ab"}},
	}
}

func newReport(t *testing.T) (*Writer, string, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(t0)
	path := filepath.Join(t.TempDir(), "report.ndjson")
	w, err := Create(path, testHeader(), clk)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, path, clk
}

func rec(t *testing.T, w *Writer, es ...Entry) {
	t.Helper()
	for _, e := range es {
		if err := w.Record(e); err != nil {
			t.Fatalf("Record(%+v): %v", e, err)
		}
	}
}

func TestCreateMode0600EvenWithUmask0(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	_, path, _ := newReport(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Fatalf("mode %o, want 600", got)
	}
}

func TestCreateRefusesExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.ndjson")
	if err := os.WriteFile(path, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(path, testHeader(), clock.NewFake(t0)); !errors.Is(err, os.ErrExist) {
		t.Fatalf("Create over existing file: err %v, want ErrExist", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "precious\n" {
		t.Fatalf("existing file changed: %q", b)
	}
}

func TestHeaderLine(t *testing.T) {
	w, path, _ := newReport(t)
	w.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"status":"run","at":"2026-11-25T10:00:00Z","run":{"version":"test","mode":"import","connection":"db","upsert":true,"external_id":"x","inputs":[{"path":"users.csv","size":10,"sha256":"ab"}],"started_at":"2026-11-25T10:00:00Z"}}` + "\n"
	if string(b) != want {
		t.Fatalf("header\n got %s\nwant %s", b, want)
	}
	st, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	h := testHeader()
	h.StartedAt = t0
	if err := st.Header.Check(h); err != nil || !st.Header.StartedAt.Equal(t0) {
		t.Fatalf("loaded header %+v: %v", st.Header, err)
	}
}

func TestRecordRefuses(t *testing.T) {
	w, _, _ := newReport(t)
	rec(t, w,
		Entry{File: "a", Line: 1, Status: Queued, Chunk: 1},
		Entry{File: "a", Line: 1, Status: Imported},
		Entry{File: "a", Line: 1, Status: VerificationSent}, // beside a final: fine
	)
	tests := []struct {
		name    string
		e       Entry
		already bool
	}{
		{"second final", Entry{File: "a", Line: 1, Status: Failed}, true},
		{"second final same status", Entry{File: "a", Line: 1, Status: Imported}, true},
		{"queue a final record", Entry{File: "a", Line: 1, Status: Queued, Chunk: 2}, true},
		{"send a final record", Entry{File: "a", Line: 1, Status: Sending}, true},
		{"unknown status", Entry{File: "a", Line: 2, Status: "weird"}, false},
		{"header status", Entry{File: "a", Line: 2, Status: "run"}, false},
		{"queued without chunk", Entry{File: "a", Line: 2, Status: Queued}, false},
		{"submitted without job", Entry{Status: Submitted, Chunk: 1}, false},
		{"record without line", Entry{File: "a", Status: Created}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := w.Record(tt.e)
			if err == nil {
				t.Fatal("accepted")
			}
			if errors.Is(err, ErrAlreadyFinal) != tt.already {
				t.Fatalf("err %v: ErrAlreadyFinal %v, want %v", err, !tt.already, tt.already)
			}
		})
	}
	// The same key in another file is another record.
	rec(t, w, Entry{File: "b", Line: 1, Status: Created})
	if got := w.Tally().Records; got != 2 {
		t.Fatalf("records %d, want 2", got)
	}
}

func TestTally(t *testing.T) {
	w, path, _ := newReport(t)
	rec(t, w,
		Entry{File: "f", Line: 1, Status: Queued, Chunk: 1},
		Entry{File: "f", Line: 2, Status: Queued, Chunk: 1},
		Entry{Status: Submitted, Chunk: 1, JobID: "job_1"},
		Entry{File: "f", Line: 3, Status: Queued, Chunk: 2},
		Entry{Status: Submitted, Chunk: 2, JobID: "job_2"},
		Entry{File: "f", Line: 1, Status: Imported, JobID: "job_1"},
		Entry{File: "f", Line: 4, Status: Invalid, Reason: "email"},
		Entry{File: "f", Line: 5, Status: Sending},
		Entry{File: "f", Line: 5, Status: Created},
		Entry{File: "f", Line: 5, Status: VerificationSent, JobID: "v1"},
		Entry{File: "f", Line: 1, Status: VerificationFailed, JobID: "v2"},
	)
	got := w.Tally()
	if got.Records != 3 || got.Total() != 3 || got.Final[Imported] != 1 || got.Final[Invalid] != 1 ||
		got.Final[Created] != 1 || got.VerificationSent != 1 || got.VerificationFailed != 1 ||
		got.ChunksSubmitted != 2 || got.JobsFinished != 0 || got.AllSucceeded() {
		t.Fatalf("tally %+v", got)
	}
	if w.InFlight() != 2 {
		t.Fatalf("in flight %d, want 2", w.InFlight())
	}
	rec(t, w, Entry{File: "f", Line: 2, Status: Failed, JobID: "job_1"})
	if got := w.Tally(); got.JobsFinished != 1 || got.Final[Failed] != 1 {
		t.Fatalf("after chunk 1 settled: %+v", got)
	}
	// The tally is a copy.
	got.Final[Created] = 99
	if w.Tally().Final[Created] != 1 {
		t.Fatal("Tally shares its map")
	}
	w.Close()
	sum, err := Summarize(path)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Records != 4 || sum.Final[Failed] != 1 || sum.JobsFinished != 1 || sum.InFlight != 1 || sum.AllSucceeded() {
		t.Fatalf("summary %+v", sum)
	}
}

func TestAllSucceeded(t *testing.T) {
	tests := []struct {
		final map[Status]int
		want  bool
	}{
		{nil, true},
		{map[Status]int{Created: 2, Updated: 1, Imported: 3, Skipped: 1}, true},
		{map[Status]int{Created: 2, Invalid: 0}, true},
		{map[Status]int{Created: 2, Invalid: 1}, false},
		{map[Status]int{Failed: 1}, false},
	}
	for _, tt := range tests {
		if got := (Tally{Final: tt.final}).AllSucceeded(); got != tt.want {
			t.Errorf("%v: %v, want %v", tt.final, got, tt.want)
		}
	}
}

func TestConcurrentRecord(t *testing.T) {
	w, path, _ := newReport(t)
	var observed sync.Map
	w.Observe(func(e Entry) { observed.Store(e.Key(), e.Status) })
	const workers, each = 16, 200
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 1; i <= each; i++ {
				e := Entry{File: fmt.Sprintf("f%d", g), Line: i, Status: Created}
				if err := w.Record(Entry{File: e.File, Line: i, Status: Sending}); err != nil {
					errs <- err
					return
				}
				if err := w.Record(e); err != nil {
					errs <- err
					return
				}
				_ = w.Tally()
			}
		}(g)
	}
	// Racing duplicates of one record: exactly one may win.
	var wins sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for g := 0; g < workers; g++ {
		wins.Add(1)
		go func() {
			defer wins.Done()
			if w.Record(Entry{File: "race", Line: 1, Status: Skipped}) == nil {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	wins.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if won != 1 {
		t.Fatalf("%d duplicate finals accepted, want 1", won)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	n := 0
	observed.Range(func(_, _ any) bool { n++; return true })
	if n != workers*each+1 {
		t.Fatalf("observed %d records", n)
	}
	st, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Finals() != workers*each+1 || len(st.Sending) != 0 || len(st.Duplicates) != 0 {
		t.Fatalf("loaded %d finals, %d sending, %d dups", st.Finals(), len(st.Sending), len(st.Duplicates))
	}
}

func TestFsyncBatching(t *testing.T) {
	w, _, clk := newReport(t)
	syncs := func() int {
		w.syncMu.Lock()
		defer w.syncMu.Unlock()
		return w.syncs
	}
	for i := 1; i < syncEvery; i++ {
		rec(t, w, Entry{File: "f", Line: i, Status: Sending})
	}
	if syncs() != 0 {
		t.Fatalf("synced after %d lines", syncEvery-1)
	}
	rec(t, w, Entry{File: "f", Line: syncEvery, Status: Sending})
	if syncs() != 1 {
		t.Fatalf("%d syncs after %d lines, want 1", syncs(), syncEvery)
	}
	clk.Advance(syncInterval - time.Millisecond)
	rec(t, w, Entry{File: "f", Line: 1000, Status: Sending})
	if syncs() != 1 {
		t.Fatal("synced before the interval")
	}
	clk.Advance(time.Millisecond)
	rec(t, w, Entry{File: "f", Line: 1001, Status: Sending})
	if syncs() != 2 {
		t.Fatalf("%d syncs after the interval, want 2", syncs())
	}
	if err := w.Sync(); err != nil || syncs() != 3 {
		t.Fatalf("Sync: %v, %d syncs", err, syncs())
	}
}

func TestRecordSetsAt(t *testing.T) {
	w, path, clk := newReport(t)
	clk.Advance(time.Minute)
	given := t0.Add(time.Hour)
	rec(t, w, Entry{File: "f", Line: 1, Status: Created}, Entry{File: "f", Line: 2, Status: Created, At: given})
	w.Close()
	st, err := LoadFinals(path)
	if err != nil {
		t.Fatal(err)
	}
	if at := finalOf(st, Key{File: "f", Line: 1}).At; !at.Equal(t0.Add(time.Minute)) {
		t.Fatalf("At %v, want clock time", at)
	}
	if at := finalOf(st, Key{File: "f", Line: 2}).At; !at.Equal(given) {
		t.Fatalf("At %v, want given", at)
	}
}

func TestClosed(t *testing.T) {
	w, _, _ := newReport(t)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Record(Entry{File: "f", Line: 1, Status: Created}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Record after Close: %v", err)
	}
	if err := w.Sync(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Sync after Close: %v", err)
	}
}

func TestSecondWriterRefused(t *testing.T) {
	w, path, clk := newReport(t)
	if _, _, err := Append(path, clk); !errors.Is(err, ErrInUse) {
		t.Fatalf("Append while written: %v, want ErrInUse", err)
	}
	w.Close()
	w2, _, err := Append(path, clk)
	if err != nil {
		t.Fatalf("Append after Close: %v", err)
	}
	w2.Close()
}

func TestHashInput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(path, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	in, err := HashInput(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Input{Path: path, Size: 3, SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}
	if in != want {
		t.Fatalf("got %+v, want %+v", in, want)
	}
	if _, err := HashInput(path + ".missing"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestHeaderCheck(t *testing.T) {
	base := testHeader()
	tests := []struct {
		name  string
		edit  func(h *RunHeader)
		field string
	}{
		{"same", func(h *RunHeader) {}, ""},
		{"version and time may differ", func(h *RunHeader) { h.Version = "v2"; h.StartedAt = t0 }, ""},
		{"mode", func(h *RunHeader) { h.Mode = "create" }, "mode"},
		{"connection", func(h *RunHeader) { h.Connection = "other" }, "connection"},
		{"upsert", func(h *RunHeader) { h.Upsert = false }, "upsert"},
		{"external id", func(h *RunHeader) { h.ExternalID = "y" }, "external_id"},
		{"inputs count", func(h *RunHeader) { h.Inputs = nil }, "inputs"},
		{"input changed", func(h *RunHeader) { h.Inputs = []Input{{Path: "users.csv", Size: 10, SHA256: "cd"}} }, "inputs[0].sha256"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := testHeader()
			tt.edit(&now)
			err := base.Check(now)
			var me *MismatchError
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.As(err, &me) || me.Field != tt.field {
				t.Fatalf("err %v, want mismatch on %s", err, tt.field)
			}
		})
	}
}
