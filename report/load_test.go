package report

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/a0bulk/a0bulk/clock"
)

// writeReport records es into a new report and returns its bytes.
func writeReport(t *testing.T, es ...Entry) (string, []byte) {
	t.Helper()
	w, path, _ := newReport(t)
	rec(t, w, es...)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b
}

func TestTornLastLineAtEveryOffset(t *testing.T) {
	last := Entry{File: "users.csv", Line: 3, Email: "c@example.com", Status: Created, UserID: "auth0|3", Reason: "ünïcode"}
	_, full := writeReport(t,
		Entry{File: "users.csv", Line: 1, Status: Created},
		Entry{File: "users.csv", Line: 2, Status: Sending},
		Entry{File: "users.csv", Line: 3, Status: Sending},
		last,
	)
	start := bytes.LastIndexByte(full[:len(full)-1], '\n') + 1
	dir := t.TempDir()
	for cut := start; cut <= len(full); cut++ {
		path := filepath.Join(dir, "cut.ndjson")
		os.Remove(path)
		if err := os.WriteFile(path, full[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		st, err := Load(path)
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		// Whole line, with or without its newline: the final counts.
		complete := cut >= len(full)-1
		torn := cut > start && !complete
		if st.Torn != torn || st.Done(last.Key()) != complete {
			t.Fatalf("cut at %d: torn %v done %v, want %v %v", cut, st.Torn, st.Done(last.Key()), torn, complete)
		}
		if _, sending := st.Sending[last.Key()]; sending == complete {
			t.Fatalf("cut at %d: sending %v", cut, sending)
		}
		// A resume appends after the last whole line and stays parseable.
		w, _, err := Append(path, clock.NewFake(t0))
		if err != nil {
			t.Fatalf("cut at %d: Append: %v", cut, err)
		}
		if !complete {
			rec(t, w, Entry{File: "users.csv", Line: 3, Status: Skipped})
		}
		rec(t, w, Entry{File: "users.csv", Line: 2, Status: Created})
		w.Close()
		st, err = Load(path)
		if err != nil {
			t.Fatalf("cut at %d: Load after resume: %v", cut, err)
		}
		if st.Torn || st.Finals() != 3 || len(st.Sending) != 0 || st.Resumes != 1 {
			t.Fatalf("cut at %d: after resume torn %v finals %d sending %d resumes %d",
				cut, st.Torn, st.Finals(), len(st.Sending), st.Resumes)
		}
	}
}

func TestLoadRejects(t *testing.T) {
	_, full := writeReport(t,
		Entry{File: "f", Line: 1, Status: Created},
		Entry{File: "f", Line: 2, Status: Created},
	)
	lines := strings.SplitAfter(string(full), "\n") // header, 2 entries, ""
	tests := []struct {
		name, content, want string
	}{
		{"empty", "", "no header"},
		{"torn header only", lines[0][:20], "no header"},
		{"bad middle line", lines[0] + "{oops\n" + lines[2], "line 2"},
		{"blank middle line", lines[0] + lines[1] + "\n" + lines[2], "line 3"},
		{"no header", lines[1] + lines[2], "line 1"},
		{"second header", lines[0] + lines[1] + lines[0], "line 3"},
		{"unknown status last", lines[0] + `{"file":"f","line":3,"status":"bogus"}` + "\n", "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r.ndjson")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want it to mention %q", err, tt.want)
			}
			if _, err := Summarize(path); err == nil {
				t.Fatal("Summarize accepted it")
			}
		})
	}
}

func TestLongLines(t *testing.T) {
	long := strings.Repeat("x", 300<<10) // longer than the reader's buffer
	path, _ := writeReport(t, Entry{File: "f", Line: 1, Status: Failed, Reason: long}, Entry{File: "f", Line: 2, Status: Created})
	st, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if finalOf(st, Key{File: "f", Line: 1}).Reason != long || !st.Done(Key{File: "f", Line: 2}) {
		t.Fatal("long line not read back")
	}
}

func TestResumeAppends(t *testing.T) {
	w, path, clk := newReport(t)
	rec(t, w,
		Entry{File: "f", Line: 1, Status: Created},
		Entry{File: "f", Line: 2, Status: Queued, Chunk: 1},
		Entry{Status: Submitted, Chunk: 1, JobID: "job_1"},
	)
	w.Close()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	w, st, err := Append(path, clk)
	if err != nil {
		t.Fatal(err)
	}
	if st.LastChunk != 1 || !st.Done(Key{File: "f", Line: 1}) {
		t.Fatalf("state %+v", st)
	}
	if tl := w.Tally(); tl.Records != 1 || tl.ChunksSubmitted != 1 {
		t.Fatalf("resumed tally %+v", tl)
	}
	// The resumed writer still refuses a second final from the first part.
	if err := w.Record(Entry{File: "f", Line: 1, Status: Created}); err == nil {
		t.Fatal("second final across resume accepted")
	}
	rec(t, w, Entry{File: "f", Line: 2, Status: Imported, JobID: "job_1"})
	if tl := w.Tally(); tl.Records != 2 || tl.JobsFinished != 1 {
		t.Fatalf("tally after settling %+v", tl)
	}
	w.Close()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after resume: %v %v", fi.Mode(), err)
	}
	st, err = Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Finals() != 2 || len(st.InFlightChunks()) != 0 || st.Resumes != 1 || st.Header.Connection != "db" {
		t.Fatalf("after resume %+v", st)
	}
}

func TestInFlightChunks(t *testing.T) {
	k := func(l int) Key { return Key{File: "f", Line: l} }
	q := func(l, c int) Entry { return Entry{File: "f", Line: l, Status: Queued, Chunk: c} }
	sub := func(c int, job string) Entry { return Entry{Status: Submitted, Chunk: c, JobID: job} }
	fin := func(l int) Entry { return Entry{File: "f", Line: l, Status: Imported} }
	tests := []struct {
		name string
		es   []Entry
		want []InFlightChunk
		last int
		// maybe: the lines (of 1..4) that may be in the tenant unanswered.
		maybe []int
	}{
		{"queued, crash before the POST answered", []Entry{q(1, 1), q(2, 1)},
			[]InFlightChunk{{Seq: 1, Keys: []Key{k(1), k(2)}}}, 1, []int{1, 2}},
		{"submitted, no finals", []Entry{q(1, 1), q(2, 1), sub(1, "job_1")},
			[]InFlightChunk{{Seq: 1, JobID: "job_1", Keys: []Key{k(1), k(2)}}}, 1, nil},
		{"submitted, partially finalized", []Entry{q(1, 1), q(2, 1), q(3, 1), sub(1, "job_1"), fin(2)},
			[]InFlightChunk{{Seq: 1, JobID: "job_1", Keys: []Key{k(1), k(3)}, Partial: true}}, 1, nil},
		{"settled chunk drops out", []Entry{q(1, 1), sub(1, "job_1"), fin(1), q(2, 2)},
			[]InFlightChunk{{Seq: 2, Keys: []Key{k(2)}}}, 2, []int{2}},
		{"requeued by a resume belongs to the new chunk, and stays maybe sent", []Entry{q(1, 1), q(2, 1), q(1, 3), q(2, 3), sub(3, "job_3")},
			[]InFlightChunk{{Seq: 3, JobID: "job_3", Keys: []Key{k(1), k(2)}}}, 3, []int{1, 2}},
		{"two resumes: the first chunk's mark outlives the second's submitted line",
			[]Entry{q(1, 1), q(2, 1), q(3, 2), sub(2, "job_2"), q(1, 4), q(2, 4), sub(4, "job_4"), fin(3)},
			[]InFlightChunk{{Seq: 4, JobID: "job_4", Keys: []Key{k(1), k(2)}}}, 4, []int{1, 2}},
		{"partly requeued", []Entry{q(1, 1), q(2, 1), q(2, 2)},
			[]InFlightChunk{{Seq: 1, Keys: []Key{k(1)}, Partial: true}, {Seq: 2, Keys: []Key{k(2)}}}, 2, []int{1, 2}},
		{"queued twice in one chunk (a resend), then submitted", []Entry{q(1, 1), q(2, 1), q(1, 1), q(2, 1), sub(1, "job_1")},
			[]InFlightChunk{{Seq: 1, JobID: "job_1", Keys: []Key{k(1), k(2)}}}, 1, []int{1, 2}},
		{"a final line ends the mark", []Entry{q(1, 1), q(2, 1), q(1, 2), q(2, 2), sub(2, "job_2"), fin(1)},
			[]InFlightChunk{{Seq: 2, JobID: "job_2", Keys: []Key{k(2)}, Partial: true}}, 2, []int{2}},
		{"all settled", []Entry{q(1, 1), sub(1, "job_1"), fin(1)}, []InFlightChunk{}, 1, nil},
	}
	for _, tt := range tests {
		for _, form := range []struct {
			name string
			es   []Entry
		}{{"record lines", tt.es}, {"chunk lines", asChunkLines(tt.es)}} {
			t.Run(tt.name+"/"+form.name, func(t *testing.T) {
				testInFlight(t, form.es, tt.want, tt.last, tt.maybe)
			})
		}
	}
}

// asChunkLines writes each run of consecutive queued lines of one chunk as
// that chunk's queued line: a report written either way means the same.
func asChunkLines(es []Entry) []Entry {
	var out []Entry
	for i := 0; i < len(es); {
		if es[i].Status != Queued {
			out = append(out, es[i])
			i++
			continue
		}
		var keys []Key
		j := i
		for ; j < len(es) && es[j].Status == Queued && es[j].Chunk == es[i].Chunk; j++ {
			keys = append(keys, es[j].Key())
		}
		out = append(out, QueuedChunk(es[i].Chunk, keys))
		i = j
	}
	return out
}

// testInFlight loads a report of es and checks what a resume gets of it:
// the chunks in flight, the last chunk, and which of lines 1..4 may be in
// the tenant unanswered.
func testInFlight(t *testing.T, es []Entry, want []InFlightChunk, last int, wantMaybe []int) {
	t.Helper()
	k := func(l int) Key { return Key{File: "f", Line: l} }
	path, _ := writeReport(t, es...)
	st, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.InFlightChunks(); !reflect.DeepEqual(got, want) {
		t.Fatalf("in flight\n got %+v\nwant %+v", got, want)
	}
	if st.LastChunk != last {
		t.Fatalf("last chunk %d, want %d", st.LastChunk, last)
	}
	var maybe []int
	for l := 1; l <= 4; l++ {
		if st.MaybeSent(k(l)) {
			maybe = append(maybe, l)
		}
	}
	if !reflect.DeepEqual(maybe, wantMaybe) {
		t.Fatalf("maybe sent %v, want %v", maybe, wantMaybe)
	}
	if len(st.maybeSent) != len(wantMaybe) {
		t.Fatalf("%d marks held, want %d (unsettled records only)", len(st.maybeSent), len(wantMaybe))
	}
}

func TestLoadState(t *testing.T) {
	path, _ := writeReport(t,
		Entry{File: "f", Line: 1, Status: Sending},
		Entry{File: "f", Line: 2, Status: Sending},
		Entry{File: "f", Line: 2, Status: Created, UserID: "auth0|2", Email: "f2@example.com"},
		Entry{File: "f", Line: 2, Status: VerificationFailed, JobID: "v1"},
		Entry{File: "f", Line: 2, Status: VerificationSent, JobID: "v2"},
	)
	st, err := LoadFinals(path) // whole final lines: the user id is checked
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Sending[Key{File: "f", Line: 1}]; !ok || len(st.Sending) != 1 {
		t.Fatalf("sending %v", st.Sending)
	}
	if finalOf(st, Key{File: "f", Line: 2}).UserID != "auth0|2" || verificationOf(st, Key{File: "f", Line: 2}).Status != VerificationSent {
		t.Fatalf("state %+v", st)
	}
	if tl := st.Tally(); tl.VerificationSent != 1 || tl.VerificationFailed != 1 || tl.Records != 1 {
		t.Fatalf("tally %+v", tl)
	}
	// What each way of loading keeps of the created line.
	k := Key{File: "f", Line: 2}
	for _, tt := range []struct {
		name          string
		load          func(string) (*State, error)
		userID, email string
	}{
		{"Load", Load, "", ""},
		{"LoadUserIDs", LoadUserIDs, "auth0|2", ""},
		{"LoadFinals", LoadFinals, "auth0|2", "f2@example.com"},
	} {
		st, err := tt.load(path)
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := st.FinalOf(k); !ok || f.Status != Created || f.UserID != tt.userID || f.Email != tt.email {
			t.Errorf("%s: final %+v, want created with user id %q, email %q", tt.name, f, tt.userID, tt.email)
		}
	}
}

func finalOf(st *State, k Key) Entry {
	e, _ := st.FinalOf(k)
	return e
}

func verificationOf(st *State, k Key) Entry {
	e, _ := st.Verification(k)
	return e
}

// A reader that stops early (an error in a line's apply) stops the decoding
// goroutine too, whatever it was doing: the scan returns, nothing leaks.
func TestScanStopsDecoderOnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.ndjson")
	var b strings.Builder
	b.WriteString(`{"status":"run","at":"2026-11-25T10:00:00Z","run":{"version":"t","mode":"import"}}` + "\n")
	for i := 1; i <= 5*batchLines; i++ {
		fmt.Fprintf(&b, `{"file":"f","line":%d,"status":"created","at":"2026-11-25T10:00:00Z"}`+"\n", i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	stopAt := errors.New("enough")
	seen := 0
	_, err := scan(path, func(e *Entry, lineNo int) error {
		if seen++; seen == 3 {
			return stopAt
		}
		return nil
	})
	if !errors.Is(err, stopAt) || seen != 3 {
		t.Fatalf("scan: %v after %d entries, want it to stop at the third", err, seen)
	}
}
