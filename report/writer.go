package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/a0bulk/a0bulk/clock"
)

// How much of the journal a power loss may cost: lines reach the kernel at
// once (so SIGKILL loses nothing), and are fsynced every syncEvery lines or
// syncInterval, whichever comes first.
const (
	syncEvery    = 64
	syncInterval = 200 * time.Millisecond
)

// ErrClosed is returned by Record after Close.
var ErrClosed = errors.New("report: writer closed")

// ErrInUse is wrapped when another process (or writer) has the report open
// for writing: two writers would break the one-final-line invariant.
var ErrInUse = errors.New("report is being written by another a0bulk run")

// Writer appends entries to a report. It is safe for concurrent use.
//
// Each Record is written to the file with one write(2) before Record returns,
// so a killed process (even SIGKILL) loses no line and the write-ahead
// "queued"/"sending" line is in the file before the request it announces;
// only the fsync is batched, so a power loss costs at most the last
// syncEvery lines or syncInterval.
type Writer struct {
	clk    clock.Clock
	path   string
	header RunHeader // how the report keys its records (validateIn)

	mu        sync.Mutex
	f         *os.File
	buf       bytes.Buffer
	enc       *json.Encoder
	tr        *tracker
	unsynced  int
	lastSync  time.Time
	err       error // sticky: after a failed write the file may end mid-line
	closed    bool
	observers []func(Entry)

	// syncMu serialises fsync and close, so that a slow fsync does not hold
	// up Record callers.
	syncMu     sync.Mutex
	fileClosed bool
	syncs      int // fsyncs done, for tests
}

// Create starts a new report at path and writes its header. It refuses to
// overwrite an existing file, except an empty one: a run killed between
// creating its report and writing the header leaves one, which holds
// nothing and which no resume can read.
func Create(path string, h RunHeader, clk clock.Clock) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	reused := false
	if errors.Is(err, os.ErrExist) {
		if ef := openEmpty(path); ef != nil {
			f, err, reused = ef, nil, true
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create report: %w", err)
	}
	w, err := start(f, path, newTracker(), clk)
	if err == nil && reused {
		// Under the lock: still empty, so no other run has started it.
		if fi, serr := f.Stat(); serr != nil || fi.Size() != 0 {
			err = fmt.Errorf("create report: %w", os.ErrExist)
		}
	}
	if err != nil {
		f.Close()
		if reused {
			return nil, fmt.Errorf("create report: %w", os.ErrExist)
		}
		return nil, err
	}
	now := clk.Now().UTC()
	if h.StartedAt.IsZero() {
		h.StartedAt = now
	}
	if err := w.writeHeader(headerLine{Status: statusRun, At: now, Run: &h}); err != nil {
		f.Close()
		return nil, err
	}
	w.tr.lines, w.header = 1, h
	syncDir(path)
	return w, nil
}

// Purpose says why a run appends to a report; its "resumed" line records it.
type Purpose string

const (
	// ForResume: --resume continues the run.
	ForResume Purpose = ""
	// ForRetry: --retry-failed continues the run (as a resume does) and
	// sends its failed records again.
	ForRetry Purpose = "retry"
	// ForVerify: verify --report adds verification lines; the run's own
	// end-of-run line stands.
	ForVerify Purpose = "verify"
)

// Append reopens a report for --resume: it loads it, drops a torn last line
// (so that what follows stays parseable), writes a "resumed" line and
// returns a writer whose counts continue the report's.
func Append(path string, clk clock.Clock) (*Writer, *State, error) {
	return AppendFor(path, clk, ForResume)
}

// AppendFor is Append for purpose, which the "resumed" line records.
func AppendFor(path string, clk clock.Clock, purpose Purpose) (*Writer, *State, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open report for resume: %w", err)
	}
	// Lock before reading, so that the state we load is the one we extend.
	w, err := start(f, path, nil, clk)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	st, err := Load(path)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	w.tr, w.header = st.writerTracker(), st.Header
	if err := f.Truncate(st.res.goodLen); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("drop torn last line of report: %w", err)
	}
	if st.res.needNewline {
		if _, err := f.Write([]byte{'\n'}); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("complete last line of report: %w", err)
		}
	}
	at := clk.Now().UTC()
	if err := w.writeHeader(headerLine{Status: statusResumed, At: at, For: purpose}); err != nil {
		f.Close()
		return nil, nil, err
	}
	st.resumedAt = at
	w.tr.lines++
	return w, st, nil
}

// openEmpty opens path for writing if it is an empty regular file, else
// returns nil.
func openEmpty(path string) *os.File {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != 0 {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil
	}
	return f
}

// start locks and tightens f and wraps it in a Writer.
func start(f *os.File, path string, tr *tracker, clk clock.Clock) (*Writer, error) {
	// The lock dies with the process, so a crashed run never blocks its resume.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("report %s: %w", path, ErrInUse)
		}
		return nil, fmt.Errorf("lock report %s: %w", path, err)
	}
	// O_CREATE's mode is filtered by the umask; fchmod is not, and also
	// tightens a resumed report someone loosened.
	if err := f.Chmod(0o600); err != nil {
		return nil, fmt.Errorf("set report %s mode 0600: %w", path, err)
	}
	w := &Writer{clk: clk, path: path, f: f, tr: tr, lastSync: clk.Now()}
	w.enc = json.NewEncoder(&w.buf)
	w.enc.SetEscapeHTML(false)
	return w, nil
}

func (w *Writer) writeHeader(h headerLine) error {
	w.buf.Reset()
	if err := w.enc.Encode(h); err != nil {
		return fmt.Errorf("encode report header: %w", err)
	}
	if _, err := w.f.Write(w.buf.Bytes()); err != nil {
		return fmt.Errorf("write report %s: %w", w.path, err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync report %s: %w", w.path, err)
	}
	return nil
}

// syncDir makes a new report's directory entry durable; best effort, as some
// filesystems refuse to fsync a directory.
func syncDir(path string) {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return
	}
	_ = d.Sync()
	d.Close()
}

// Record journals e. At is set from the clock when zero. It refuses a second
// final line for a record (ErrAlreadyFinal), a malformed entry, and anything
// after a failed write or Close. Observers are called after the line is
// written, outside the writer's lock, possibly from several goroutines at
// once; they must not block for long. A chunk's queued line (QueuedChunk)
// is one line, checked and counted as its records' queued lines.
func (w *Writer) Record(e Entry) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return err
	}
	if e.At.IsZero() {
		e.At = w.clk.Now().UTC()
	}
	if err := validateIn(&e, w.header); err != nil {
		w.mu.Unlock()
		return fmt.Errorf("report: %w", err)
	}
	if err := w.tr.check(&e); err != nil {
		w.mu.Unlock()
		return fmt.Errorf("report: %w", err)
	}
	w.buf.Reset()
	if err := w.enc.Encode(wireShape(&e)); err != nil {
		w.mu.Unlock()
		return fmt.Errorf("report: encode entry: %w", err)
	}
	if _, err := w.f.Write(w.buf.Bytes()); err != nil {
		w.err = fmt.Errorf("write report %s: %w", w.path, err)
		w.mu.Unlock()
		return w.err
	}
	lineNo := w.tr.lines + 1
	e.eachMember(func(m *Entry) error {
		w.tr.apply(m, lineNo)
		return nil
	})
	w.unsynced++
	now := w.clk.Now()
	due := w.unsynced >= syncEvery || now.Sub(w.lastSync) >= syncInterval
	if due {
		w.unsynced, w.lastSync = 0, now
	}
	observers := w.observers
	w.mu.Unlock()

	var err error
	if due {
		err = w.fsync()
	}
	if len(observers) > 0 {
		// Observers see records: a chunk line as its records' queued lines.
		e.eachMember(func(m *Entry) error {
			for _, fn := range observers {
				fn(*m)
			}
			return nil
		})
	}
	return err
}

func (w *Writer) fsync() error {
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	if w.fileClosed {
		return nil // Close synced it
	}
	w.syncs++
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync report %s: %w", w.path, err)
	}
	return nil
}

// Sync makes every recorded line durable.
func (w *Writer) Sync() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.unsynced, w.lastSync = 0, w.clk.Now()
	w.mu.Unlock()
	return w.fsync()
}

// Close syncs and closes the report. Later Records return ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	w.mu.Unlock()

	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.fileClosed = true
	serr := w.f.Sync()
	cerr := w.f.Close()
	if serr != nil {
		return fmt.Errorf("sync report %s: %w", w.path, serr)
	}
	if cerr != nil {
		return fmt.Errorf("close report %s: %w", w.path, cerr)
	}
	return nil
}

// End writes the end-of-run line: how this run (or resume) ended. Without
// it, a later reader knows the run was killed or is still going. Records
// may not follow it.
func (w *Writer) End(e End) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if err := w.writeHeader(headerLine{Status: statusEnd, At: w.clk.Now().UTC(), End: &e}); err != nil {
		w.err = err
		return err
	}
	w.tr.lines++
	return nil
}

// Observe registers fn to be told of every entry recorded from now on (the
// progress printers). See Record for how it is called.
func (w *Writer) Observe(fn func(Entry)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	// Copy on write: Record iterates a snapshot outside the lock.
	obs := make([]func(Entry), len(w.observers), len(w.observers)+1)
	copy(obs, w.observers)
	w.observers = append(obs, fn)
}

// Tally returns the counts so far, those of the resumed report included.
func (w *Writer) Tally() Tally {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tr.tally.clone()
}

// InFlight is the number of records queued or sending without a final line.
func (w *Writer) InFlight() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tr.inFlight()
}

// Reasons returns the report's most frequent reasons for records that
// failed or are invalid (by their latest final line) and for verification
// emails that failed.
func (w *Writer) Reasons() []Reason {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tr.reasons.top(MaxReasons)
}

// Path is the report's file name.
func (w *Writer) Path() string { return w.path }
