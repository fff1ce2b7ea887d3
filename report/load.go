package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"
)

// wireLine is any report line: a record or chunk line (the Entry fields) or
// the header (status "run" with the run object).
type wireLine struct {
	Entry
	Run *RunHeader `json:"run,omitempty"`
	End *End       `json:"end,omitempty"`
	For Purpose    `json:"for,omitempty"`
}

// headerLine is how the header and resumed lines are written: without the
// record fields, which mean nothing there.
type headerLine struct {
	Status Status     `json:"status"`
	At     time.Time  `json:"at"`
	Run    *RunHeader `json:"run,omitempty"`
	End    *End       `json:"end,omitempty"`
	For    Purpose    `json:"for,omitempty"` // of a resumed line
}

// scanResult is what scanning a report found besides its lines.
type scanResult struct {
	header RunHeader
	// goodLen is the length of the file's complete, parseable lines: where a
	// resumed writer appends.
	goodLen int64
	// needNewline: the last line parsed but its newline was never written.
	needNewline bool
	torn        bool
	resumes     int // runs that continued the report (retries included)
	retries     int // of which retries of its failed records
	lines       int
	// end is the end-of-run line of the report's last run; nil when that
	// run wrote none (killed, or still running).
	end *End
}

// scan reads the report at path line by line, calling fn for every record or
// chunk line. Only the last line may be unparseable (a torn write); a bad
// line anywhere else is an error naming its line number.
func scan(path string, fn func(e *Entry, lineNo int) error) (scanResult, error) {
	return scanRuns(path, fn, nil)
}

// scanRuns is scan that also calls edge, when set, at every line that ends
// a run (its end-of-run line) or starts a resume (resumed), in order with
// the entries.
func scanRuns(path string, fn func(e *Entry, lineNo int) error, edge func(st Status, at time.Time)) (scanResult, error) {
	return scanLean(path, nil, fn, edge)
}

// scanLean is scanRuns whose entries of the statuses lean names come without
// their email, user_id, reason and at (lineDecoder.lean).
//
// Decoding is most of a resume's read: one goroutine reads and decodes
// lines in batches while this one applies them in order, so that the two
// overlap on a machine with a core to spare.
func scanLean(path string, lean func(Status) bool, fn func(e *Entry, lineNo int) error, edge func(st Status, at time.Time)) (scanResult, error) {
	var res scanResult
	f, err := os.Open(path)
	if err != nil {
		return res, fmt.Errorf("read report: %w", err)
	}
	defer f.Close()
	lines, stop := decodeLines(f, path, lean)
	defer stop()
	var pending error // parse error of the previous line: fatal unless it was the last
	for batch := range lines {
		for i := range batch.lines {
			l := &batch.lines[i]
			if l.readErr != nil {
				return res, l.readErr
			}
			if pending != nil {
				return res, pending
			}
			if l.decodeErr != nil {
				pending = l.decodeErr
				continue // the reader stops after an unterminated line
			}
			if err := applyLine(&res, &l.wl, l.lineNo, fn, edge); err != nil {
				return res, fmt.Errorf("report %s line %d: %w", path, l.lineNo, err)
			}
			res.goodLen += int64(l.size)
			res.lines = l.lineNo
			if !l.terminated {
				res.needNewline = true
			}
		}
		batch.done()
	}
	if pending != nil {
		res.torn = true
	}
	if res.lines == 0 {
		return res, fmt.Errorf("report %s has no header line", path)
	}
	return res, nil
}

// decodedLine is one line of a report as the reader goroutine left it.
type decodedLine struct {
	wl         wireLine
	lineNo     int
	size       int  // bytes, newline included
	terminated bool // false: the last line, without its newline
	decodeErr  error
	readErr    error
}

type lineBatch struct {
	lines []decodedLine
	free  chan<- *lineBatch
}

// done hands the batch back for reuse: its entries are not kept past fn.
func (b *lineBatch) done() {
	b.lines = b.lines[:0]
	b.free <- b
}

const (
	batchLines = 512
	batchesOut = 4 // batches decoded ahead, or being applied
)

// decodeLines reads and decodes r's lines on a goroutine, in batches. stop
// ends it and waits for it: call it before r is closed.
func decodeLines(r io.Reader, path string, lean func(Status) bool) (<-chan *lineBatch, func()) {
	out := make(chan *lineBatch, batchesOut)
	free := make(chan *lineBatch, batchesOut)
	for range batchesOut {
		free <- &lineBatch{lines: make([]decodedLine, 0, batchLines), free: free}
	}
	quit := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		defer close(out)
		br := bufio.NewReaderSize(r, 64<<10)
		dec := lineDecoder{lean: lean}
		var buf []byte
		lineNo := 0
		var batch *lineBatch
		send := func() bool {
			select {
			case out <- batch:
				batch = nil
				return true
			case <-quit:
				return false
			}
		}
		for {
			if batch == nil {
				select {
				case batch = <-free:
				case <-quit:
					return
				}
			}
			var err error
			buf, err = readLine(br, buf[:0])
			if len(buf) == 0 && err == io.EOF {
				break
			}
			batch.lines = append(batch.lines, decodedLine{})
			l := &batch.lines[len(batch.lines)-1]
			if err != nil && err != io.EOF {
				l.readErr = fmt.Errorf("read report %s: %w", path, err)
				break
			}
			lineNo++
			l.lineNo, l.size, l.terminated = lineNo, len(buf), err == nil
			if jerr := dec.decode(buf, &l.wl); jerr != nil {
				l.decodeErr = fmt.Errorf("report %s line %d: %w", path, lineNo, jerr)
			}
			if !l.terminated {
				break
			}
			if len(batch.lines) == batchLines && !send() {
				return
			}
		}
		if batch != nil && len(batch.lines) > 0 {
			send()
		}
	}()
	stop := func() {
		close(quit)
		<-exited
	}
	return out, stop
}

func applyLine(res *scanResult, wl *wireLine, lineNo int, fn func(*Entry, int) error, edge func(Status, time.Time)) error {
	if edge == nil {
		edge = func(Status, time.Time) {}
	}
	switch wl.Status {
	case statusRun:
		if lineNo != 1 || wl.Run == nil {
			return errors.New("unexpected run header")
		}
		res.header = *wl.Run
		return nil
	case statusResumed:
		if lineNo == 1 {
			return errors.New("first line is not the run header")
		}
		if wl.For == ForVerify {
			// verify --report adds verification lines only: the run's
			// records and its end-of-run line stand.
			return nil
		}
		if wl.For == ForRetry {
			res.retries++
		}
		res.resumes++
		res.end = nil // the earlier run's end: this one has not ended yet
		edge(wl.Status, wl.At)
		return nil
	case statusEnd:
		if lineNo == 1 || wl.End == nil {
			return errors.New("unexpected end-of-run line")
		}
		res.end = wl.End
		edge(wl.Status, wl.At)
		return nil
	}
	if lineNo == 1 {
		return errors.New("first line is not the run header")
	}
	if err := validateIn(&wl.Entry, res.header); err != nil {
		return err
	}
	return wl.Entry.eachMember(func(m *Entry) error { return fn(m, lineNo) })
}

// readLine appends the next line, newline included, to buf. Lines longer
// than the reader's buffer are fine. err is io.EOF for an unterminated last
// line.
func readLine(r *bufio.Reader, buf []byte) ([]byte, error) {
	for {
		chunk, err := r.ReadSlice('\n')
		buf = append(buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		return buf, err
	}
}

// State is what a resume needs from a report.
type State struct {
	Header RunHeader
	// Queued maps chunk seq → its records still without a final line, for
	// chunks not yet settled. A record queued again by a resume belongs to
	// its latest chunk only.
	Queued map[int][]Key
	// Submitted maps chunk seq → import job id, for every submitted chunk.
	Submitted map[int]string
	// Sending holds creates sent with no final line yet.
	Sending map[Key]Entry
	// LastChunk is the highest chunk seq seen; a resume numbers from it + 1.
	LastChunk int
	// Torn: the last line was incomplete and is ignored.
	Torn bool
	// Resumes counts earlier resumes of this report (retries included).
	Resumes int
	// Retries counts earlier retries (--retry-failed) of this report.
	Retries int
	// Retried holds the records a retry reopened (a retrying line) that
	// have no final line since: the retry may have sent them, so they are
	// looked up before they are sent again.
	Retried map[Key]Entry
	// Duplicates lists records with more than one final line (a bug).
	Duplicates []Key

	// maybeSent: records without a final line that may be in the tenant
	// although no job answered for them, and until when such a POST may
	// have been made (see LostPOST).
	maybeSent map[Key]lostPOST
	// partial: chunks some of whose queued records have their final line,
	// or were queued again in another chunk.
	partial map[int]struct{}
	// chunks: what LostPOST needs of every chunk queued; runEnds: when each
	// run (the first, then each resume) ended, zero while unknown.
	chunks  map[int]chunkTrace
	runEnds []time.Time
	// resumedAt is when the resume that appends to the report began (set
	// by Append): the last run, had it no end line, ended before.
	resumedAt time.Time

	// entries holds the final lines kept whole (FinalOf): the failed ones
	// (a retry quotes their code and reason), or every one when loaded by
	// LoadFinals. The status of every record is in tr.final, a byte each.
	entries    map[Key]Entry
	keepFinals bool
	// userIDs holds the user id of each created, imported or updated
	// record whose final line names one, when loaded by LoadUserIDs.
	userIDs     map[Key]string
	keepUserIDs bool
	// verified is each record's last verification status, a byte each
	// (allocated only for reports with verification lines); verifying
	// holds the whole line of those whose last is verification_sending,
	// which a verify reads back or settles.
	verified  *recIndex
	verifying map[Key]Entry

	// final and tally are the report's as loaded: a resume's writer
	// continues the tracker on its own copy (writerTracker), while the
	// run reads these from other goroutines.
	final *finalIndex
	tally Tally

	tr  *tracker
	res scanResult
}

// writerTracker hands the loaded tracker to a writer that continues the
// report, with its own copy of the final statuses: the State keeps reading
// the ones it loaded, unchanged, while the writer adds to its copy.
func (s *State) writerTracker() *tracker {
	s.tr.final = s.final.clone()
	return s.tr
}

// Load reads a report for --resume. It keeps one byte per record, and whole
// lines only for records that need them (failed, in flight).
func Load(path string) (*State, error) { return load(path, loadLean) }

// LoadFinals is Load keeping every final line whole (FinalOf): about 200
// bytes per record.
func LoadFinals(path string) (*State, error) { return load(path, loadFinals) }

// LoadUserIDs is Load keeping the user id of every record its run created,
// imported or updated (FinalOf's UserID), for a verify that emails them:
// nothing for an import's records (an import job names no ids), ~80 bytes
// per record of a create run.
func LoadUserIDs(path string) (*State, error) { return load(path, loadUserIDs) }

type loadMode int

const (
	loadLean loadMode = iota
	loadUserIDs
	loadFinals
)

func load(path string, mode loadMode) (*State, error) {
	keepFinals := mode == loadFinals
	s := &State{
		entries:     make(map[Key]Entry),
		keepFinals:  keepFinals,
		userIDs:     make(map[Key]string),
		keepUserIDs: mode == loadUserIDs,
		verified:    newRecIndex(),
		verifying:   make(map[Key]Entry),
		Queued:      make(map[int][]Key),
		Submitted:   make(map[int]string),
		Sending:     make(map[Key]Entry),
		Retried:     make(map[Key]Entry),
		maybeSent:   make(map[Key]lostPOST),
		partial:     make(map[int]struct{}),
		chunks:      make(map[int]chunkTrace),
		runEnds:     []time.Time{{}},
		tr:          newTracker(),
	}
	s.final = s.tr.final // the same while loading; see writerTracker
	// A create --verify-email resume emails the users created without a
	// verification line yet (killed in between): it needs their user ids,
	// so their created lines are kept whole until their verification line.
	h, _ := ReadHeader(path) // an unreadable header: scan says why
	owesVerification := h.Settings.VerifyEmail
	// Lines of records that are queued, or final and not kept whole, are
	// read without the fields nothing here looks at.
	lean := func(st Status) bool {
		switch st {
		case Queued:
			return true
		case Skipped:
			return !keepFinals
		case Imported, Updated:
			return mode == loadLean
		case Created:
			return mode == loadLean && !owesVerification
		}
		return false
	}
	res, err := scanLean(path, lean, func(e *Entry, lineNo int) error {
		// had: the record was queued before and has no final line yet.
		prev, had := s.tr.chunkOf.get(e.Key())
		requeued := e.Status == Queued && had && prev == e.Chunk
		if _, dup := s.tr.apply(e, lineNo); dup {
			s.Duplicates = append(s.Duplicates, e.Key())
			return nil
		}
		k := e.Key()
		switch {
		case e.Status.IsFinal():
			if s.keepFinals || e.Status == Failed || (owesVerification && e.Status == Created) {
				s.entries[k] = *e
			}
			if s.keepUserIDs && e.UserID != "" && (e.Status == Created || e.Status == Imported || e.Status == Updated) {
				s.userIDs[k] = e.UserID
			}
			delete(s.Sending, k)
			delete(s.Retried, k)
			delete(s.maybeSent, k)
			if had {
				s.partial[prev] = struct{}{}
				s.dropSettled(prev)
			}
		case e.Status == Queued:
			if s.Done(k) {
				break
			}
			c, seen := s.chunks[e.Chunk]
			if !seen {
				c.run = len(s.runEnds) - 1
			}
			if had {
				// Queued again: by a resume (its earlier chunk never got a
				// submitted line) or before a resend (the first POST's
				// answer was lost). Either earlier POST may have created it.
				s.markMaybeSent(k, lostPOST{})
				if requeued {
					c.resent = true
				} else {
					s.partial[prev] = struct{}{}
					s.markMaybeSent(k, s.lostPOSTOf(s.chunks[prev]))
					s.dropSettled(prev)
				}
			}
			s.chunks[e.Chunk] = c
			if !requeued {
				s.Queued[e.Chunk] = append(s.Queued[e.Chunk], k)
			}
		case e.Status == Submitted:
			s.Submitted[e.Chunk] = e.JobID
			c := s.chunks[e.Chunk]
			c.submitted, c.submittedAt = true, e.At
			s.chunks[e.Chunk] = c
		case e.Status == Sending:
			if !s.Done(k) {
				s.Sending[k] = *e
			}
		case e.Status == Retrying:
			delete(s.entries, k) // superseded (the tracker forgot its status)
			s.Retried[k] = *e
		case e.Status.IsVerification():
			s.verified.set(k, verificationStatuses.code(e.Status))
			if f, ok := s.entries[k]; ok && owesVerification && !s.keepFinals && f.Status == Created {
				delete(s.entries, k) // its user id is no longer needed
			}
			if e.Status == VerificationSending {
				s.verifying[k] = *e
			} else {
				delete(s.verifying, k)
			}
		}
		if e.Chunk > s.LastChunk {
			s.LastChunk = e.Chunk
		}
		return nil
	}, s.runEdge)
	if err != nil {
		return nil, err
	}
	s.Header, s.Torn, s.Resumes, s.Retries, s.res = res.header, res.torn, res.resumes, res.retries, res
	s.tally = s.tr.tally.clone()
	// Keep, per chunk, the records that are still its own and unsettled.
	for seq, keys := range s.Queued {
		kept := keys[:0]
		for _, k := range keys {
			if c, ok := s.tr.chunkOf.get(k); ok && c == seq {
				kept = append(kept, k)
			}
		}
		if len(kept) == 0 {
			delete(s.Queued, seq)
			continue
		}
		s.Queued[seq] = kept
		if c := s.chunks[seq]; !c.submitted || c.resent {
			// Never acknowledged (the POST may or may not have arrived),
			// or acknowledged after a POST whose answer was lost.
			for _, k := range kept {
				s.markMaybeSent(k, s.lostPOSTOf(c))
			}
		}
	}
	for seq := range s.partial {
		if _, ok := s.Queued[seq]; !ok {
			delete(s.partial, seq) // settled: no summary left to compare
		}
	}
	return s, nil
}

// dropSettled forgets the keys of chunk seq once none of its records is
// left unsettled in it, as the end of Load would: without this, Queued
// would hold every record of the report until then (32 bytes each).
func (s *State) dropSettled(seq int) {
	if _, live := s.tr.pending[seq]; !live {
		delete(s.Queued, seq)
		delete(s.partial, seq)
	}
}

// MaybeSent reports whether the record, still without a final line, may be
// in the tenant from a POST whose answer nobody read: it was queued in a
// chunk that never got a submitted line, or queued more than once (a
// resume sent it again, or a run resent its chunk after a lost answer).
// The mark outlives later chunks: a record sent again by one resume and
// submitted is still "maybe sent" when a second resume settles it, so a
// DUPLICATED_USER for it is looked up. It is held for unsettled records
// only.
func (s *State) MaybeSent(k Key) bool {
	_, ok := s.maybeSent[k]
	return ok
}

// End is the end-of-run line of the report's last run (nil: that run wrote
// none: it was killed, or is still running).
func (s *State) End() *End { return s.res.end }

// Done reports whether the record has its final line.
func (s *State) Done(k Key) bool {
	_, _, ok := s.final.get(k)
	return ok
}

// FinalOf returns the record's final line: whole when kept (failed records,
// or every one after LoadFinals), else its key, status, code and (after
// LoadUserIDs) user id.
func (s *State) FinalOf(k Key) (Entry, bool) {
	st, code, ok := s.final.get(k)
	if !ok {
		return Entry{}, false
	}
	if e, ok := s.entries[k]; ok {
		return e, true
	}
	e := At(k)
	e.Status, e.Code, e.UserID = st, code, s.userIDs[k]
	return e, true
}

// Finals is the number of records with a final line.
func (s *State) Finals() int { return s.final.len() }

// Verification returns the record's last verification line: whole when it
// is verification_sending (its job id, email and user id are needed), else
// its key and status.
func (s *State) Verification(k Key) (Entry, bool) {
	st, ok := verificationStatuses.status(s.verified.get(k))
	if !ok {
		return Entry{}, false
	}
	if e, ok := s.verifying[k]; ok {
		return e, true
	}
	e := At(k)
	e.Status = st
	return e, true
}

// Verifications is the number of records with a verification line.
func (s *State) Verifications() int { return s.verified.len() }

// Verifying returns the records whose last verification line is
// verification_sending: emails asked for, their outcome unknown.
func (s *State) Verifying() map[Key]Entry { return s.verifying }

// Tally returns the report's counts.
func (s *State) Tally() Tally { return s.tally.clone() }

// InFlightChunk is an import chunk that was queued and not fully settled.
// With a JobID it is settled by reading that job; without one it never
// reached (or was never acknowledged by) the tenant and is sent again.
type InFlightChunk struct {
	Seq   int
	JobID string
	// Keys are the chunk's records still without a final line.
	Keys []Key
	// Partial: the chunk had other records, settled before (or queued
	// again elsewhere): its job's summary counts more than Keys.
	Partial bool
}

// InFlightChunks lists the unsettled chunks in seq order.
func (s *State) InFlightChunks() []InFlightChunk {
	out := make([]InFlightChunk, 0, len(s.Queued))
	for seq, keys := range s.Queued {
		_, partial := s.partial[seq]
		out = append(out, InFlightChunk{Seq: seq, JobID: s.Submitted[seq], Keys: keys, Partial: partial})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}
