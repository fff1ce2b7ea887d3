package report

import (
	"errors"
	"fmt"
)

// Header-only statuses: they never appear in an Entry given to Record.
const (
	statusRun     Status = "run"
	statusResumed Status = "resumed"
)

// ErrAlreadyFinal is wrapped by Record when an entry would give a record a
// second final line, or would send again a record that is already final.
var ErrAlreadyFinal = errors.New("record already has a final line")

// Tally is the run's counts so far: the single source of the summary,
// progress and exit code.
type Tally struct {
	// Final counts records per final status.
	Final map[Status]int
	// Records is the number of distinct records with a final line.
	Records            int
	VerificationSent   int
	VerificationFailed int
	// VerificationSkipped counts verification_skipped lines: users not
	// emailed because their email is already verified.
	VerificationSkipped int
	// VerificationPending counts records whose last verification line is
	// verification_sending: an email requested, its outcome unknown.
	VerificationPending int
	// ChunksSubmitted counts submitted lines (import jobs created).
	ChunksSubmitted int
	// JobsFinished counts submitted chunks all of whose queued records now
	// have a final line.
	JobsFinished int
}

// Total is the number of records settled so far.
func (t Tally) Total() int {
	n := 0
	for _, c := range t.Final {
		n += c
	}
	return n
}

// AllSucceeded reports whether no record ended invalid or failed (exit code
// 0). Verification lines do not count: they are not a record's outcome.
func (t Tally) AllSucceeded() bool {
	for st, c := range t.Final {
		if c > 0 && !st.Succeeded() {
			return false
		}
	}
	return true
}

func (t Tally) clone() Tally {
	c := t
	c.Final = make(map[Status]int, len(t.Final))
	for k, v := range t.Final {
		c.Final[k] = v
	}
	return c
}

// finalRef is what the tracker remembers of a record's final line.
type finalRef struct {
	status Status
	code   string
}

// tracker follows the journal line by line. The Writer and Load share it so
// that a resumed Writer continues exactly the counts the file holds.
type tracker struct {
	files     map[string]string // interned file names: one copy per input file
	final     *finalIndex       // one byte per record: see recindex.go
	chunkOf   *recChunks        // queued records without a final line → chunk
	pending   map[int]int       // chunk → its queued records without a final line
	submitted map[int]struct{}  // chunks with a submitted line
	sending   map[Key]struct{}  // sending records without a final line
	reopened  map[Key]struct{}  // retrying records not yet queued, sending or final
	verifying map[Key]struct{}  // verification requested, outcome unknown
	tally     Tally
	reasons   reasonTally // of the latest final lines, and verification failures
	lines     int         // lines applied, header included
}

func newTracker() *tracker {
	return &tracker{
		files:     make(map[string]string),
		final:     newFinalIndex(),
		chunkOf:   newRecChunks(),
		pending:   make(map[int]int),
		submitted: make(map[int]struct{}),
		sending:   make(map[Key]struct{}),
		reopened:  make(map[Key]struct{}),
		verifying: make(map[Key]struct{}),
		tally:     Tally{Final: make(map[Status]int)},
	}
}

// intern makes e.File share the one copy of its file name, so that millions
// of keys do not each hold their own.
func (t *tracker) intern(e *Entry) {
	if s, ok := t.files[e.File]; ok {
		e.File = s
		return
	}
	t.files[e.File] = e.File
}

// validateIn is validate for a report whose header says how it keys its
// records: in one keyed by record, a record line without its ordinal would
// name another record than the one it is about.
func validateIn(e *Entry, h RunHeader) error {
	if e.IsChunkLine() {
		if err := validateChunkLine(e); err != nil {
			return err
		}
		if h.KeyedByLine() {
			return nil
		}
		return e.eachMember(func(m *Entry) error {
			if m.Record < 1 {
				return fmt.Errorf("queued line of chunk %d: %s:%d has no record ordinal", e.Chunk, m.File, m.Line)
			}
			return nil
		})
	}
	if err := validate(e); err != nil {
		return err
	}
	if !h.KeyedByLine() && e.Status != Submitted && e.Record < 1 {
		return fmt.Errorf("%s line for %s:%d has no record ordinal", e.Status, e.File, e.Line)
	}
	return nil
}

// validate checks the shape of a record or chunk line.
func validate(e *Entry) error {
	switch {
	case e.Status == Submitted:
		if e.Chunk < 1 || e.JobID == "" {
			return fmt.Errorf("submitted line needs chunk >= 1 and a job_id (chunk %d)", e.Chunk)
		}
		return nil
	case e.Status == Queued:
		if e.Chunk < 1 {
			return fmt.Errorf("queued line for %s:%d needs chunk >= 1", e.File, e.Line)
		}
	case e.Status.IsFinal(), e.Status == Sending, e.Status == Retrying, e.Status.IsVerification():
	default:
		return fmt.Errorf("unknown status %q", e.Status)
	}
	if e.Line < 1 {
		return fmt.Errorf("%s line for %q needs line >= 1", e.Status, e.File)
	}
	return nil
}

// check refuses what would break "exactly one final line per record": a
// second final, or sending again a record that is already final. Only a
// record whose final line is failed may be retried (which supersedes it).
func (t *tracker) check(e *Entry) error {
	if e.Status == Retrying {
		st, _, ok := t.final.get(e.Key())
		if !ok {
			return fmt.Errorf("retrying %s: it has no final line to supersede (an unsettled record is resumed, not retried)", e.Key())
		}
		if st != Failed {
			return fmt.Errorf("retrying %s (already %s): only a failed record can be retried: %w", e.Key(), st, ErrAlreadyFinal)
		}
		return nil
	}
	if e.IsChunkLine() {
		return e.eachMember(t.check)
	}
	if e.Status.IsFinal() || e.Status == Queued || e.Status == Sending {
		if st, _, ok := t.final.get(e.Key()); ok {
			return fmt.Errorf("%s %s (already %s): %w", e.Status, e.Key(), st, ErrAlreadyFinal)
		}
	}
	return nil
}

// apply counts a validated line numbered lineNo. It returns the first final
// line of the record when e is a second final (a duplicate).
func (t *tracker) apply(e *Entry, lineNo int) (dupOf finalRef, dup bool) {
	t.lines = lineNo
	if e.Status != Submitted {
		t.intern(e)
	}
	k := e.Key()
	switch {
	case e.Status.IsFinal():
		if st, code, ok := t.final.get(k); ok {
			return finalRef{status: st, code: code}, true
		}
		t.final.set(k, e.Status, e.Code)
		t.reasons.add(e)
		t.tally.Final[e.Status]++
		t.tally.Records++
		delete(t.sending, k)
		delete(t.reopened, k)
		if c, ok := t.chunkOf.get(k); ok {
			t.chunkOf.del(k)
			t.settleOne(c)
		}
	case e.Status == Queued:
		if t.isFinal(k) {
			return finalRef{}, false
		}
		if old, ok := t.chunkOf.get(k); ok {
			// Re-queued by a resume: the record now belongs to the new chunk.
			if old == e.Chunk {
				return finalRef{}, false
			}
			t.pending[old]--
			if t.pending[old] <= 0 {
				delete(t.pending, old)
			}
		}
		t.chunkOf.set(k, e.Chunk)
		t.pending[e.Chunk]++
		delete(t.reopened, k)
	case e.Status == Submitted:
		if _, ok := t.submitted[e.Chunk]; !ok {
			t.submitted[e.Chunk] = struct{}{}
			t.tally.ChunksSubmitted++
		}
	case e.Status == Sending:
		if !t.isFinal(k) {
			t.sending[k] = struct{}{}
			delete(t.reopened, k)
		}
	case e.Status == Retrying:
		// The failed line is superseded: the record counts by its next
		// final line, and is in flight until then.
		if st, code, ok := t.final.get(k); ok {
			t.final.del(k)
			t.reasons.remove(st, code)
			t.tally.Final[st]--
			t.tally.Records--
		}
		t.reopened[k] = struct{}{}
	case e.Status == VerificationSending:
		t.verifying[k] = struct{}{}
	case e.Status == VerificationSent:
		t.tally.VerificationSent++
		delete(t.verifying, k)
	case e.Status == VerificationFailed:
		t.tally.VerificationFailed++
		t.reasons.add(e)
		delete(t.verifying, k)
	case e.Status == VerificationSkipped:
		t.tally.VerificationSkipped++
		delete(t.verifying, k)
	}
	t.tally.VerificationPending = len(t.verifying)
	return finalRef{}, false
}

func (t *tracker) isFinal(k Key) bool {
	_, _, ok := t.final.get(k)
	return ok
}

func (t *tracker) settleOne(chunk int) {
	t.pending[chunk]--
	if t.pending[chunk] > 0 {
		return
	}
	delete(t.pending, chunk)
	if _, ok := t.submitted[chunk]; ok {
		t.tally.JobsFinished++
	}
}

// inFlight is the number of records sent, queued or being retried without
// a final line.
func (t *tracker) inFlight() int { return t.chunkOf.len() + len(t.sending) + len(t.reopened) }
