package report

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
)

func keysOf(es []Entry) []Key {
	out := make([]Key, len(es))
	for i := range es {
		out[i] = es[i].Key()
	}
	return out
}

func TestQueuedChunkRuns(t *testing.T) {
	seq := func(file string, ord, line, n, step int) []Key {
		var ks []Key
		for i := range n {
			k := Key{File: file, Line: line + i*step}
			if ord > 0 {
				k.Record = ord + i
			}
			ks = append(ks, k)
		}
		return ks
	}
	cat := func(kss ...[]Key) []Key {
		var out []Key
		for _, ks := range kss {
			out = append(out, ks...)
		}
		return out
	}
	tests := []struct {
		name string
		keys []Key
		want []FileRuns
	}{
		{"CSV or NDJSON: one run", seq("u.csv", 1, 2, 1200, 1),
			[]FileRuns{{"u.csv", [][]int{{1, 2, 1200}}}}},
		{"an invalid record leaves a hole", cat(seq("u.csv", 1, 2, 10, 1), seq("u.csv", 12, 13, 5, 1)),
			[]FileRuns{{"u.csv", [][]int{{1, 2, 10}, {12, 13, 5}}}}},
		{"a CSV record over two lines", cat(seq("u.csv", 1, 2, 3, 1), seq("u.csv", 4, 6, 2, 1)),
			[]FileRuns{{"u.csv", [][]int{{1, 2, 3}, {4, 6, 2}}}}},
		{"a minified JSON array: one line", seq("u.json", 1, 1, 500, 0),
			[]FileRuns{{"u.json", [][]int{{1, 1, 500, 0}}}}},
		{"a pretty-printed JSON array: 9 lines a record", seq("u.json", 1, 2, 300, 9),
			[]FileRuns{{"u.json", [][]int{{1, 2, 300, 9}}}}},
		{"two files", cat(seq("a.csv", 99, 100, 2, 1), seq("b.csv", 1, 2, 3, 1)),
			[]FileRuns{{"a.csv", [][]int{{99, 100, 2}}}, {"b.csv", [][]int{{1, 2, 3}}}}},
		{"keyed by line (before ordinals)", seq("u.csv", 0, 2, 7, 1),
			[]FileRuns{{"u.csv", [][]int{{0, 2, 7}}}}},
		{"one record", seq("u.csv", 5, 6, 1, 1),
			[]FileRuns{{"u.csv", [][]int{{5, 6, 1}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := QueuedChunk(3, tt.keys)
			if !reflect.DeepEqual(e.Records, tt.want) {
				t.Fatalf("runs %v, want %v", e.Records, tt.want)
			}
			if err := validateChunkLine(&e); err != nil {
				t.Fatal(err)
			}
			// Through the wire and back, a reader gets every record.
			b, err := json.Marshal(wireShape(&e))
			if err != nil {
				t.Fatal(err)
			}
			var back Entry
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			ms := back.Members()
			if got := keysOf(ms); !reflect.DeepEqual(got, tt.keys) {
				t.Fatalf("members %v, want %v", got, tt.keys)
			}
			for _, m := range ms {
				if m.Status != Queued || m.Chunk != 3 || m.IsChunkLine() {
					t.Fatalf("member %+v is not a queued line of chunk 3", m)
				}
			}
		})
	}
}

// TestQueuedChunkRoundTrip: any sequence of keys, as a chunk holds them
// (ordinals rising within a file), comes back from its line in order.
func TestQueuedChunkRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var keys []Key
		byLine := r.IntN(4) == 0
		for f := range 1 + r.IntN(3) {
			file := string(rune('a' + f))
			ord, line := 1+r.IntN(50), 1+r.IntN(50)
			for range r.IntN(40) {
				k := Key{File: file, Line: line}
				if !byLine {
					k.Record = ord
				}
				keys = append(keys, k)
				ord += 1 + r.IntN(2)*r.IntN(3) // mostly consecutive, some holes
				line += []int{0, 1, 1, 1, 2, 7}[r.IntN(6)]
				if byLine && keys[len(keys)-1].Line == line {
					line++ // records keyed by line never share one
				}
			}
		}
		if len(keys) == 0 {
			continue
		}
		e := QueuedChunk(1, keys)
		if err := validateChunkLine(&e); err != nil {
			t.Fatalf("%v: %v", keys, err)
		}
		if got := keysOf(e.Members()); !reflect.DeepEqual(got, keys) {
			t.Fatalf("keys %v\nback %v\nruns %v", keys, got, e.Records)
		}
	}
}

func TestChunkLineRefused(t *testing.T) {
	bad := []struct {
		name string
		e    Entry
		want string
	}{
		{"no chunk", Entry{Status: Queued, Records: []FileRuns{{"f", [][]int{{1, 1, 1}}}}}, "chunk >= 1"},
		{"a file of its own", Entry{Status: Queued, Chunk: 1, File: "f", Line: 1, Records: []FileRuns{{"f", [][]int{{1, 1, 1}}}}}, "records only"},
		{"an empty file", Entry{Status: Queued, Chunk: 1, Records: []FileRuns{{"f", nil}}}, "no runs"},
		{"a short run", Entry{Status: Queued, Chunk: 1, Records: []FileRuns{{"f", [][]int{{1, 1}}}}}, "bad run"},
		{"count 0", Entry{Status: Queued, Chunk: 1, Records: []FileRuns{{"f", [][]int{{1, 1, 0}}}}}, "bad run"},
		{"line 0", Entry{Status: Queued, Chunk: 1, Records: []FileRuns{{"f", [][]int{{1, 0, 2}}}}}, "bad run"},
		{"records keyed by line on one line", Entry{Status: Queued, Chunk: 1, Records: []FileRuns{{"f", [][]int{{0, 3, 2, 0}}}}}, "bad run"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			err := validateIn(&tt.e, testHeader())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("no ordinal in a report keyed by record", func(t *testing.T) {
		h := testHeader()
		h.Keys = KeysByRecord
		e := QueuedChunk(1, []Key{{File: "f", Line: 2, Record: 1}, {File: "f", Line: 4}})
		if err := validateIn(&e, h); err == nil || !strings.Contains(err.Error(), "no record ordinal") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("a record already final", func(t *testing.T) {
		w, _, _ := newReport(t)
		rec(t, w, Entry{File: "f", Line: 2, Status: Invalid, Code: "INVALID"})
		err := w.Record(QueuedChunk(1, []Key{{File: "f", Line: 1}, {File: "f", Line: 2}}))
		if !errors.Is(err, ErrAlreadyFinal) {
			t.Fatalf("err %v, want ErrAlreadyFinal", err)
		}
		if got := w.InFlight(); got != 0 {
			t.Fatalf("in flight %d after a refused line, want 0", got)
		}
	})
}

// TestChunkLineWriter: the writer counts a chunk line as its records, tells
// observers of each, and a chunk's queued line costs a few bytes per record.
func TestChunkLineWriter(t *testing.T) {
	w, path, _ := newReport(t)
	var seen []Key
	w.Observe(func(e Entry) {
		if e.Status == Queued {
			seen = append(seen, e.Key())
		}
	})
	var keys []Key
	for l := 1; l <= 1000; l++ {
		if l != 500 {
			keys = append(keys, Key{File: "users-with-a-long-path/export-2026-12-06.csv", Line: l})
		}
	}
	rec(t, w, QueuedChunk(1, keys))
	if got := w.InFlight(); got != len(keys) {
		t.Fatalf("in flight %d, want %d", got, len(keys))
	}
	if !reflect.DeepEqual(seen, keys) {
		t.Fatalf("observers saw %d records, want %d", len(seen), len(keys))
	}
	rec(t, w, Entry{Status: Submitted, Chunk: 1, JobID: "job_1"}, Entry{File: keys[0].File, Line: 1, Status: Imported})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	if n := len(lines[1]); n > 200 {
		t.Fatalf("the queued line of 999 records is %d bytes: %s", n, lines[1])
	}
	st, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	c := st.InFlightChunks()
	if len(c) != 1 || c[0].JobID != "job_1" || len(c[0].Keys) != len(keys)-1 || !c[0].Partial {
		t.Fatalf("in flight %+v", c)
	}
}
