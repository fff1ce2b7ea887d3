package report

import (
	"fmt"
	"testing"
)

func TestRecIndex(t *testing.T) {
	x := newRecIndex()
	keys := []Key{
		{File: "a", Line: 1, Record: 1},
		{File: "a", Line: 9, Record: recPageSize - 1}, // last of the first page
		{File: "a", Line: 9, Record: recPageSize},     // first of the second
		{File: "a", Line: 3, Record: 7 * recPageSize}, // pages in between stay unallocated
		{File: "b", Line: 1, Record: 1},               // another file
		{File: "a", Line: 1},                          // keyed by line: another numbering
	}
	for i, k := range keys {
		x.set(k, byte(i+1))
	}
	for i, k := range keys {
		if got := x.get(k); got != byte(i+1) {
			t.Errorf("%v: %d, want %d", k, got, i+1)
		}
	}
	if x.len() != len(keys) {
		t.Fatalf("len %d, want %d", x.len(), len(keys))
	}
	if got := x.get(Key{File: "a", Record: 2}); got != 0 {
		t.Fatalf("unset record: %d", got)
	}
	if got := x.get(Key{File: "c", Record: 1 << 30}); got != 0 {
		t.Fatalf("unknown file: %d", got)
	}
	if n := len(x.files[recFile{name: "a"}].pages); n != 8 {
		t.Fatalf("file a has %d page slots, want 8", n)
	}
	if pg := x.files[recFile{name: "a"}].pages[3]; pg != nil {
		t.Fatalf("a page no record touched was allocated")
	}
	x.set(keys[0], 0)
	x.set(Key{File: "z", Record: 5}, 0) // clearing what is not there allocates nothing
	if x.len() != len(keys)-1 || x.get(keys[0]) != 0 || x.files[recFile{name: "z"}] != nil {
		t.Fatalf("after clearing: len %d, value %d", x.len(), x.get(keys[0]))
	}
	x.set(Key{File: "a"}, 1) // no line, no ordinal: nothing to index
	if x.len() != len(keys)-1 {
		t.Fatalf("a key with no ordinal was counted")
	}
}

func TestFinalIndexCodes(t *testing.T) {
	f := newFinalIndex()
	k := func(i int) Key { return Key{File: "f", Line: i, Record: i} }
	// More distinct codes than a byte holds: the rest overflow to a map.
	for i := 1; i <= maxCodes+5; i++ {
		f.set(k(i), Failed, fmt.Sprintf("CODE_%d", i))
	}
	f.set(k(100), Created, "")
	f.set(k(101), Skipped, "CODE_1") // a known code, shared
	for i := 1; i <= maxCodes+5; i++ {
		st, code, ok := f.get(k(i))
		if !ok || st != Failed || code != fmt.Sprintf("CODE_%d", i) {
			t.Fatalf("record %d: %v %q %v", i, st, code, ok)
		}
	}
	if st, code, ok := f.get(k(100)); !ok || st != Created || code != "" {
		t.Fatalf("created: %v %q %v", st, code, ok)
	}
	if st, code, _ := f.get(k(101)); st != Skipped || code != "CODE_1" {
		t.Fatalf("skipped: %v %q", st, code)
	}
	if len(f.overflow) != 5 {
		t.Fatalf("%d codes overflowed, want 5", len(f.overflow))
	}
	// An overflowed record given a table code again forgets its map entry.
	f.set(k(maxCodes+5), Failed, "CODE_2")
	if _, code, _ := f.get(k(maxCodes + 5)); code != "CODE_2" || len(f.overflow) != 4 {
		t.Fatalf("re-set: %q, overflow %d", code, len(f.overflow))
	}
	f.del(k(maxCodes + 4))
	if _, _, ok := f.get(k(maxCodes + 4)); ok || len(f.overflow) != 3 || f.len() != maxCodes+6 {
		t.Fatalf("deleted record still there (overflow %d, len %d)", len(f.overflow), f.len())
	}
	for _, st := range FinalStatuses {
		f.set(k(200), st, "")
		if got, _, _ := f.get(k(200)); got != st {
			t.Fatalf("status %s read back as %s", st, got)
		}
	}
}
