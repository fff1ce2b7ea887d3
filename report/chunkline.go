package report

import (
	"errors"
	"fmt"
)

// A chunk's queued line names all of its records at once, as runs of
// consecutive records on consecutive lines:
//
//	{"status":"queued","at":"…","chunk":7,"records":[{"file":"users.csv","runs":[[8401,8402,1199],[9601,9602,3]]}]}
//
// One line per chunk instead of one per record: a queued line per record
// (~150 bytes, its file name and email repeated) was 40% of a report, and
// nothing reads those fields back. What the line must tell a resume is
// only which records may be in the chunk's job (record ordinal and line,
// the record's key); a run of [ordinal, line, count] says that for a whole
// CSV or NDJSON chunk in a few bytes. Records are unchanged: a reader
// expands the line into the per-record queued entries it stands for
// (Members), so everything after the decoder (resume, summary, progress)
// sees what a report of per-record queued lines gives, and reports
// written that way are still read. A JSON array's records share a line
// (minified) or take several each (pretty-printed): a run then carries its
// line step, [ordinal, line, count, step].

// FileRuns are the records of a chunk line that are in one file.
type FileRuns struct {
	File string `json:"file"`
	// Runs are [first record's ordinal, its line, count] or [ordinal,
	// line, count, step]: count records with consecutive ordinals, each
	// step lines after the one before (1 when left out). In a report keyed
	// by line (written before ordinals), the ordinal is 0 for every record.
	Runs [][]int `json:"runs"`
}

// QueuedChunk returns the queued line of import chunk seq, whose records
// are keys, in order.
func QueuedChunk(seq int, keys []Key) Entry {
	e := Entry{Status: Queued, Chunk: seq}
	for _, k := range keys {
		if n := len(e.Records); n > 0 && e.Records[n-1].File == k.File {
			fr := &e.Records[n-1]
			if r := extend(fr.Runs[len(fr.Runs)-1], k); r != nil {
				fr.Runs[len(fr.Runs)-1] = r
				continue
			}
			fr.Runs = append(fr.Runs, []int{k.Record, k.Line, 1})
			continue
		}
		e.Records = append(e.Records, FileRuns{File: k.File, Runs: [][]int{{k.Record, k.Line, 1}}})
	}
	return e
}

// extend returns run r with k added (r itself, grown), or nil, leaving r
// as it was, when k is not the record
// right after r: the next ordinal (0 stays 0), step lines further. A run of
// one record takes its step from the second.
func extend(r []int, k Key) []int {
	ord, line, n, step := runOf(r)
	nextOrd := 0
	if ord > 0 {
		nextOrd = ord + n
	}
	if k.Record != nextOrd {
		return nil
	}
	if n == 1 {
		step = k.Line - line
		if step < 0 || (step == 0 && ord == 0) {
			return nil
		}
	} else if k.Line != line+n*step {
		return nil
	}
	// In place: a new slice per record would be 1,200 allocations a chunk.
	r[2]++
	if step != 1 && len(r) == 3 {
		r = append(r, step)
	}
	return r
}

// runOf unpacks a run (see FileRuns.Runs).
func runOf(r []int) (ord, line, n, step int) {
	step = 1
	if len(r) == 4 {
		step = r[3]
	}
	return r[0], r[1], r[2], step
}

// IsChunkLine reports whether e is a chunk's queued line (QueuedChunk).
func (e *Entry) IsChunkLine() bool { return e.Status == Queued && len(e.Records) > 0 }

// Members returns the per-record entries e stands for: a queued entry per
// record of a chunk line (with e's chunk and time), or e itself.
func (e *Entry) Members() []Entry {
	if !e.IsChunkLine() {
		return []Entry{*e}
	}
	var out []Entry
	e.eachMember(func(m *Entry) error {
		out = append(out, *m)
		return nil
	})
	return out
}

// eachMember calls fn with each record entry e stands for (see Members),
// reusing one Entry: fn must copy what it keeps.
func (e *Entry) eachMember(fn func(m *Entry) error) error {
	if !e.IsChunkLine() {
		return fn(e)
	}
	m := Entry{Status: Queued, Chunk: e.Chunk, At: e.At}
	for _, fr := range e.Records {
		m.File = fr.File
		for _, r := range fr.Runs {
			ord, line, n, step := runOf(r)
			for i := range n {
				m.Line, m.Record = line+i*step, 0
				if ord > 0 {
					m.Record = ord + i
				}
				if err := fn(&m); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// validateChunkLine checks a chunk line's shape: the chunk-level fields
// only, and well-formed runs.
func validateChunkLine(e *Entry) error {
	if e.File != "" || e.Line != 0 || e.Record != 0 || e.Email != "" || e.UserID != "" || e.JobID != "" {
		return errors.New("a chunk's queued line names its records in records only")
	}
	if e.Chunk < 1 {
		return fmt.Errorf("queued line needs chunk >= 1 (chunk %d)", e.Chunk)
	}
	for _, fr := range e.Records {
		if len(fr.Runs) == 0 {
			return fmt.Errorf("chunk %d: no runs for %q", e.Chunk, fr.File)
		}
		for _, r := range fr.Runs {
			if len(r) != 3 && len(r) != 4 {
				return fmt.Errorf("chunk %d: bad run %v for %q (want [ordinal, line, count] or [ordinal, line, count, step])", e.Chunk, r, fr.File)
			}
			ord, line, n, step := runOf(r)
			if ord < 0 || line < 1 || n < 1 || step < 0 || (step == 0 && ord == 0 && n > 1) {
				return fmt.Errorf("chunk %d: bad run %v for %q (want ordinal >= 0, line >= 1, count >= 1, step >= 0)", e.Chunk, r, fr.File)
			}
		}
	}
	return nil
}
