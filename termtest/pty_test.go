package termtest

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/creack/pty"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

const connection = "Username-Password-Authentication"

// patience bounds every wait for the binary: a failure, never a pace.
const patience = 60 * time.Second

// session is the binary running on a pseudo-terminal.
type session struct {
	t    *testing.T
	cmd  *exec.Cmd
	ptmx *os.File

	mu      sync.Mutex
	out     []byte
	changed chan struct{} // closed and replaced at each read
	ended   chan struct{} // the terminal is closed: nothing more to read
}

// startTenant serves a sandbox tenant and returns the binary's environment.
func startTenant(t *testing.T, cfg sandbox.Config) []string {
	hs := httptest.NewServer(sandbox.New(cfg))
	t.Cleanup(hs.Close)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AUTH0_") && !strings.HasPrefix(kv, "A0BULK_") {
			env = append(env, kv)
		}
	}
	return append(env, "AUTH0_DOMAIN="+strings.TrimPrefix(hs.URL, "http://"), "AUTH0_CLIENT_ID=termtest", "AUTH0_CLIENT_SECRET=termtest-secret", "TERM=xterm")
}

// writeUsers writes n generated users to dir/users.ndjson.
func writeUsers(t *testing.T, dir string, n int) string {
	path := filepath.Join(dir, "users.ndjson")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := gen.Users(7, n, f, input.FormatNDJSON, gen.GenOptions{}); err != nil {
		t.Fatal(err)
	}
	return path
}

// start runs a0bulk args with stdout and stderr on a terminal cols wide,
// which is its controlling terminal (a Ctrl-C typed there interrupts it).
// Stdin is /dev/null: users come from --input.
func start(t *testing.T, env []string, cols uint16, args ...string) *session {
	cmd := exec.Command(binPath, args...)
	cmd.Env, cmd.Dir = env, t.TempDir()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { devnull.Close() })
	cmd.Stdin = devnull
	ptmx, err := pty.StartWithAttrs(cmd, &pty.Winsize{Cols: cols, Rows: 30}, &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := &session{t: t, cmd: cmd, ptmx: ptmx, changed: make(chan struct{}), ended: make(chan struct{})}
	go s.read()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		ptmx.Close()
	})
	return s
}

func (s *session) read() {
	buf := make([]byte, 4096)
	for {
		n, err := s.ptmx.Read(buf)
		s.mu.Lock()
		s.out = append(s.out, buf[:n]...)
		close(s.changed)
		s.changed = make(chan struct{})
		s.mu.Unlock()
		if err != nil { // EIO once the binary is gone
			close(s.ended)
			return
		}
	}
}

func (s *session) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.out)
}

// waitFor returns once the output matches re (from offset from on).
func (s *session) waitFor(re *regexp.Regexp, from int) int {
	s.t.Helper()
	deadline := time.After(patience)
	for {
		s.mu.Lock()
		out, changed := string(s.out), s.changed
		s.mu.Unlock()
		if from <= len(out) {
			if loc := re.FindStringIndex(out[from:]); loc != nil {
				return from + loc[1]
			}
		}
		select {
		case <-changed:
		case <-s.ended:
			if !re.MatchString(s.output()[min(from, len(s.output())):]) {
				s.t.Fatalf("the binary ended without printing %v:\n%q", re, s.output())
			}
		case <-deadline:
			s.t.Fatalf("no %v after %s:\n%q", re, patience, s.output())
		}
	}
}

// wait returns the binary's exit code, once all its output is read.
func (s *session) wait() int {
	s.t.Helper()
	err := s.cmd.Wait()
	<-s.ended
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	s.t.Fatal(err)
	return -1
}

// draw is a redraw of the progress line: "\r", its text, erase to the end
// of the line.
var draw = regexp.MustCompile("\r([^\r\n]*)\x1b\\[K")

// draws are the texts of the redraws in out ("" for an erase).
func draws(out string) []string {
	var texts []string
	for _, m := range draw.FindAllStringSubmatch(out, -1) {
		texts = append(texts, m[1])
	}
	return texts
}

// At 40, 80 and 120 columns every redraw of an import's progress fits the
// terminal (a column to spare), all of them land on one line (no newline
// before the line is erased for the summary), and the wait for an import
// slot shows on it.
func TestProgressFitsTheTerminal(t *testing.T) {
	for _, cols := range []uint16{40, 80, 120} {
		t.Run(fmt.Sprintf("%d columns", cols), func(t *testing.T) {
			t.Parallel()
			// Another client holds both import slots for a second: the run
			// waits, and must say so.
			env := startTenant(t, sandbox.Config{JobDelay: 150 * time.Millisecond, Faults: sandbox.Faults{HeldSlots: 2, HeldFor: time.Second}})
			dir := t.TempDir()
			in := writeUsers(t, dir, 300)
			s := start(t, env, cols, "import", "--connection", connection, "--input", in, "--report", filepath.Join(dir, "run.ndjson"), "--chunk-bytes", "20000")
			if code := s.wait(); code != 0 {
				t.Fatalf("exit %d:\n%q", code, s.output())
			}
			out := s.output()
			// On screen, every redraw stayed on the first row, and the
			// summary then took that row's place: nothing of the line is left.
			sum := strings.Index(out, "import: 300 records")
			if sum < 0 {
				t.Fatalf("no summary in %q", out)
			}
			scr := newScreen(int(cols))
			scr.write(out[:sum])
			if scr.maxRow > 0 {
				t.Errorf("the progress took %d rows: %q", scr.maxRow+1, scr.text())
			}
			scr.write(out[sum:])
			if rows := scr.text(); !strings.HasPrefix(rows[0], "import: 300 records: created 300") || strings.ContainsAny(strings.Join(rows, ""), "█░") {
				t.Errorf("the screen at the end: %q", rows)
			}
			texts := draws(out)
			if len(texts) < 2 {
				t.Fatalf("%d redraws (\\r, text, erase to the end of the line)", len(texts))
			}
			t.Logf("first redraw %q, last redraws %q", texts[0], texts[max(0, len(texts)-3):])
			waited := false
			for _, text := range texts {
				if w := utf8.RuneCountInString(text); w > int(cols)-1 {
					t.Errorf("a redraw %d wide at %d columns: %q", w, cols, text)
				}
				waited = waited || strings.Contains(text, "waiting ")
			}
			if !waited {
				t.Errorf("no redraw shows the wait for an import slot: %q", texts)
			}
			if cols >= 80 && !strings.Contains(strings.Join(texts, "\n"), "for an import slot") {
				t.Errorf("at %d columns no redraw says what the run waits for: %q", cols, texts)
			}
		})
	}
}

// A terminal resized mid-run (SIGWINCH) is followed: the redraws after it
// fit the new width.
func TestResizeIsFollowed(t *testing.T) {
	t.Parallel()
	// Both import slots are held for 3s: the run lasts, redrawing.
	env := startTenant(t, sandbox.Config{JobDelay: 150 * time.Millisecond, Faults: sandbox.Faults{HeldSlots: 2, HeldFor: 3 * time.Second}})
	dir := t.TempDir()
	in := writeUsers(t, dir, 300)
	s := start(t, env, 120, "import", "--connection", connection, "--input", in, "--report", filepath.Join(dir, "run.ndjson"), "--chunk-bytes", "20000")
	at := s.waitFor(regexp.MustCompile("waiting [^\r]*\x1b\\[K"), 0) // a redraw during the wait
	if err := pty.Setsize(s.ptmx, &pty.Winsize{Cols: 40, Rows: 30}); err != nil {
		t.Fatal(err)
	}
	resized := len(s.output())
	if code := s.wait(); code != 0 {
		t.Fatalf("exit %d:\n%q", code, s.output())
	}
	if wide := draws(s.output()[:at]); utf8.RuneCountInString(wide[len(wide)-1]) <= 39 {
		t.Fatalf("the line before the resize already fits 40 columns: %q", wide)
	}
	after := draws(s.output()[resized:])
	// The first redraw after may have been laid out before the resize.
	if len(after) < 3 {
		t.Fatalf("%d redraws after the resize", len(after))
	}
	for _, text := range after[1:] {
		if w := utf8.RuneCountInString(text); w > 39 {
			t.Errorf("a redraw %d wide after the terminal shrank to 40 columns: %q", w, text)
		}
	}
}

// Ctrl-C typed on the terminal: the first says what is in flight and that
// a second stops at once; the second does, and the run still closes its
// report (exit 130, end line written, nothing torn), which a resume
// completes with every record final exactly once.
func TestCtrlCTwice(t *testing.T) {
	t.Parallel()
	env := startTenant(t, sandbox.Config{JobDelay: time.Second})
	dir := t.TempDir()
	in := writeUsers(t, dir, 300)
	reportPath := filepath.Join(dir, "run.ndjson")
	s := start(t, env, 120, "import", "--connection", connection, "--input", in, "--report", reportPath, "--chunk-bytes", "20000")
	at := s.waitFor(regexp.MustCompile("2 import jobs running"), 0)
	if _, err := s.ptmx.Write([]byte{3}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	at = s.waitFor(regexp.MustCompile(`stopping after 2 in-flight import jobs \(at most 10s\)… \(Ctrl-C again to stop now\)`), at)
	if _, err := s.ptmx.Write([]byte{3}); err != nil {
		t.Fatal(err)
	}
	s.waitFor(regexp.MustCompile("stopping now"), at)
	if code := s.wait(); code != 130 {
		t.Fatalf("exit %d after two Ctrl-C, want 130:\n%q", code, s.output())
	}
	if out := s.output(); !strings.Contains(out, "import --resume "+reportPath) {
		t.Errorf("no resume command in %q", out)
	}
	sum, err := report.Summarize(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Torn || sum.End == nil || sum.End.Outcome != report.EndStopped || sum.Records >= 300 {
		t.Fatalf("the stopped run's report: torn %v, end %+v, %d records final", sum.Torn, sum.End, sum.Records)
	}

	resume := exec.Command(binPath, "import", "--resume", reportPath)
	resume.Env, resume.Dir = env, dir
	if out, err := resume.CombinedOutput(); err != nil {
		t.Fatalf("the resume: %v\n%s", err, out)
	}
	if sum, err = report.Summarize(reportPath); err != nil {
		t.Fatal(err)
	}
	if sum.Records != 300 || len(sum.Duplicates) > 0 || sum.InFlight != 0 {
		t.Errorf("after the resume: %d records final, duplicates %v, %d in flight", sum.Records, sum.Duplicates, sum.InFlight)
	}
}
