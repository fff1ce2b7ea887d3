package migrate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

// The migrate journal (REPORT.migrate.ndjson, mode 0600) is what a migrate
// knows beyond the import report: which tenants and connections it moves
// between, the export job it started, and the file that job gave (path,
// size, sha256). It is NDJSON, one event per line, appended with one
// write(2) and an fsync each (a handful of lines per run), so a process
// killed at any moment leaves every event it recorded, at worst a torn last
// line, which the next run drops. The report's own line format is left as
// it is: an import report stays an import report (resume, verify, report
// failures read it as ever), and the journal beside it says where its input
// came from.
//
// The journal is never renamed or replaced, so the flock on it excludes a
// second migrate of the same report for as long as the first runs, however
// it dies (the kernel drops a flock with its holder).

// Event names of journal lines.
const (
	eventMigrate  = "migrate"         // line 1: what the run means
	eventResumed  = "resumed"         // a --resume began
	eventStarted  = "export_started"  // the export job the tenant started
	eventExported = "exported"        // its file, whole and checked, in place
	eventLost     = "export_lost"     // the job and its file are gone: a new export follows
	eventProved   = "proved"          // the proof, as printed
	journalSuffix = ".migrate.ndjson" // beside the report
)

// Header is the first line of a journal: what the migrate means. A resume
// must mean the same (connections, upsert, tenants as far as known).
type Header struct {
	Version string `json:"version"`
	Source  Side   `json:"source"`
	Target  Side   `json:"target"`
	Upsert  bool   `json:"upsert"`
	// Hashes is the password-hash export joined into the import (--hashes).
	Hashes string `json:"hashes,omitempty"`
	// Report is the import report, ExportFile the source's users.
	Report     string `json:"report"`
	ExportFile string `json:"export_file"`
}

// Side is one tenant of a migrate: as configured (domain, client id;
// empty when unknown, e.g. a token naming no client) and the connection,
// by name and by the id the tenant gave it.
type Side struct {
	Domain       string `json:"domain"`
	ClientID     string `json:"client_id,omitempty"`
	Connection   string `json:"connection"`
	ConnectionID string `json:"connection_id,omitempty"`
}

// ExportFile is the downloaded export as the journal records it: the run
// and every resume read exactly these bytes.
type ExportFile struct {
	JobID  string `json:"job_id"`
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Users  int    `json:"users"`
}

// line is one journal line.
type line struct {
	Event   string      `json:"event"`
	At      time.Time   `json:"at"`
	Migrate *Header     `json:"migrate,omitempty"`
	JobID   string      `json:"job_id,omitempty"`
	File    *ExportFile `json:"file,omitempty"`
	Reason  string      `json:"reason,omitempty"`
	Proof   *Proof      `json:"proof,omitempty"`
}

// State is a journal read back: its header and the latest of each event.
type State struct {
	Header Header
	// JobID is the export job last started (or whose file was kept).
	JobID string
	// File is the export file recorded (nil: none yet, or lost since).
	File    *ExportFile
	Resumes int
	// Proof is the last proof recorded (nil: none yet).
	Proof *Proof
}

func (s *State) apply(l line) {
	switch l.Event {
	case eventStarted:
		s.JobID, s.File = l.JobID, nil
	case eventExported:
		s.JobID, s.File = l.File.JobID, l.File
	case eventLost:
		s.JobID, s.File = "", nil
	case eventResumed:
		s.Resumes++
	case eventProved:
		s.Proof = l.Proof
	}
}

// journal is an open journal, locked for this run.
type journal struct {
	path  string
	f     *os.File
	clk   clock.Clock
	state State
}

// JournalPath is the journal of the migrate whose import report is report.
func JournalPath(report string) string { return report + journalSuffix }

// ErrLocked: another a0bulk migrate holds the journal.
var ErrLocked = errors.New("another a0bulk migrate of this report is running")

// createJournal starts the journal of a fresh migrate. An empty file (a run
// killed between creating it and writing its first line) is taken over.
func createJournal(path string, h Header, clk clock.Clock) (*journal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	takeover := errors.Is(err, fs.ErrExist)
	if takeover {
		f, err = openJournalFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("creating the migrate journal: %w", err)
	}
	j := &journal{path: path, f: f, clk: clk, state: State{Header: h}}
	if err := j.lock(); err != nil {
		f.Close()
		return nil, err
	}
	// Under the lock: still empty, so no other migrate has begun it.
	if fi, serr := f.Stat(); takeover && (serr != nil || fi.Size() != 0) {
		j.close()
		return nil, fmt.Errorf("%s: %w", path, fs.ErrExist)
	}
	if err := j.append(line{Event: eventMigrate, Migrate: &h}); err != nil {
		j.close()
		return nil, err
	}
	return j, nil
}

// openJournal reopens the journal of a migrate to resume it: locked, its
// torn last line (if any) dropped.
func openJournal(path string, clk clock.Clock) (*journal, error) {
	f, err := openJournalFile(path)
	if err != nil {
		return nil, err
	}
	j := &journal{path: path, f: f, clk: clk}
	if err := j.lock(); err != nil {
		f.Close()
		return nil, err
	}
	st, good, err := readJournal(f, path)
	if err != nil {
		j.close()
		return nil, err
	}
	j.state = st
	if err := f.Truncate(good); err != nil {
		j.close()
		return nil, fmt.Errorf("dropping the torn last line of %s: %w", path, err)
	}
	return j, nil
}

// ReadJournal reads the journal at path without locking it or writing to
// it (what a resume's flags are read over).
func ReadJournal(path string) (State, error) {
	f, err := openJournalFile(path)
	if err != nil {
		return State{}, err
	}
	defer f.Close()
	st, _, err := readJournal(f, path)
	return st, err
}

// openJournalFile opens an existing journal for reading and appending,
// never through a symbolic link, and only a regular file with one link
// (a0bulk writes to it).
func openJournalFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symbolic link; a0bulk does not follow it", path)
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !fi.Mode().IsRegular() || (ok && st.Nlink != 1) {
			err = fmt.Errorf("%s is not a regular file with a single link; a0bulk does not write through it", path)
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// readJournal folds the journal's lines into its state and returns the
// length of its whole lines: only an unterminated last line may be
// unreadable (a torn write), and it is not counted.
func readJournal(r io.Reader, path string) (State, int64, error) {
	var st State
	br := bufio.NewReader(r)
	var good int64
	for n := 1; ; n++ {
		b, err := br.ReadBytes('\n')
		if err == io.EOF {
			break // an unterminated last line is torn: dropped
		}
		if err != nil {
			return st, 0, fmt.Errorf("reading %s: %w", path, err)
		}
		var l line
		if jerr := json.Unmarshal(bytes.TrimSpace(b), &l); jerr != nil {
			return st, 0, fmt.Errorf("%s line %d: not a migrate journal line", path, n)
		}
		switch {
		case n == 1 && (l.Event != eventMigrate || l.Migrate == nil):
			return st, 0, fmt.Errorf("%s: not a migrate journal (no migrate line first)", path)
		case n == 1:
			st.Header = *l.Migrate
		case l.Event == eventExported && l.File == nil:
			return st, 0, fmt.Errorf("%s line %d: an exported line without its file", path, n)
		default:
			st.apply(l)
		}
		good += int64(len(b))
	}
	if good == 0 {
		return st, 0, fmt.Errorf("%s is empty: the migrate was stopped before it began; run it again without --resume", path)
	}
	return st, good, nil
}

// lock takes the journal's flock, without waiting.
func (j *journal) lock() error {
	if err := syscall.Flock(int(j.f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%s: %w", j.path, ErrLocked)
		}
		return fmt.Errorf("locking %s: %w", j.path, err)
	}
	return nil
}

// append writes one line (one write, then fsync) and folds it in.
func (j *journal) append(l line) error {
	l.At = j.clk.Now().UTC()
	b, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("encoding a migrate journal line: %w", err)
	}
	if _, err := j.f.Seek(0, io.SeekEnd); err != nil {
		return fmt.Errorf("writing %s: %w", j.path, err)
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", j.path, err)
	}
	j.state.apply(l)
	return nil
}

func (j *journal) close() {
	if j.f != nil {
		j.f.Close() // drops the flock
		j.f = nil
	}
}
