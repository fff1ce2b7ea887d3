package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

// A pipe given as the input (stdin, a named FIFO, process substitution's
// /dev/fd/N) is copied next to the report and read from there: the run
// reads every record (it used to hash the pipe first and read nothing,
// with exit 0), and a stopped run resumes from the copy (a stdin run could
// not be resumed at all).
func TestPipedInputIsSpooledAndResumes(t *testing.T) {
	var data bytes.Buffer
	if err := gen.Users(9, 200, &data, input.FormatNDJSON, gen.GenOptions{InvalidRate: 0.05}); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"stdin", "fifo", "devfd"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			env, path, from := pipeInput(t, dir, kind, data.Bytes())
			format := ""
			if kind == "devfd" {
				format = "ndjson" // a0bulk import --input <(zcat users.ndjson.gz) --format ndjson
			}
			var notes strings.Builder
			env.Notes = &notes

			tenantClock := &stepClock{at: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
			sb := sandbox.New(sandbox.Config{Clock: tenantClock, JobDelay: time.Hour, TokenLifetime: 100 * 365 * 24 * time.Hour})
			ts := httptest.NewServer(sb)
			t.Cleanup(ts.Close)
			spec := Spec{Mode: ModeImport, Connection: "Username-Password-Authentication", Inputs: []string{path}, ReportPath: filepath.Join(dir, "run.ndjson")}
			spec.ChunkBytes, spec.MaxJobs, spec.Format = 4000, 2, format
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stop := &stopAt{status: report.Submitted, cancel: cancel}
			env.Connect, env.PollMin, env.PollRate, env.Grace = testConnect(t, ts.URL), time.Millisecond, 1000, time.Millisecond
			env.Progress = func(Task) Progress { return stop }
			sum, err := Run(ctx, env, spec)
			var stopped *StoppedError
			if !errors.As(err, &stopped) || sum == nil || !strings.Contains(stopped.Resume, "--resume "+spec.ReportPath) {
				t.Fatalf("first run: %v, summary %+v; want stopped with the resume command", err, sum)
			}

			spool := spec.ReportPath + ".input-1.ndjson"
			got, err := os.ReadFile(spool)
			if err != nil || !bytes.Equal(got, data.Bytes()) {
				t.Fatalf("the spool %s does not hold the input (%d of %d bytes): %v", spool, len(got), data.Len(), err)
			}
			if st, _ := os.Stat(spool); st.Mode().Perm() != 0o600 {
				t.Errorf("spool mode %04o, want 0600", st.Mode().Perm())
			}
			if want := "copying " + from + " to " + spool; !strings.Contains(notes.String(), want) {
				t.Errorf("notes %q do not say %q", notes.String(), want)
			}
			h, err := report.ReadHeader(spec.ReportPath)
			if err != nil || len(h.Inputs) != 1 || h.Inputs[0].Path != spool || h.Inputs[0].Size != int64(data.Len()) || h.Inputs[0].From != from {
				t.Fatalf("header inputs %+v (%v), want the spool", h.Inputs, err)
			}

			tenantClock.start(3*time.Hour, 30*time.Minute)
			resumed, err := Recorded(spec.ReportPath, ModeImport)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Run(context.Background(), Env{Connect: testConnect(t, ts.URL), PollMin: time.Millisecond, PollRate: 1000}, resumed)
			var inc *IncompleteError
			if err != nil && !errors.As(err, &inc) {
				t.Fatalf("resume: %v", err)
			}
			rs, err := report.Summarize(spec.ReportPath)
			if err != nil {
				t.Fatal(err)
			}
			valid := rs.Records - rs.Final[report.Invalid]
			if rs.Records != 200 || rs.InFlight != 0 || len(rs.Duplicates) != 0 || rs.Resumes != 1 || valid < 150 {
				t.Fatalf("report: %d records, %d in flight, duplicates %v, %d resumes", rs.Records, rs.InFlight, rs.Duplicates, rs.Resumes)
			}
			if n := len(sb.Users()); n != valid || rs.Final[report.Created] != valid {
				t.Fatalf("tenant holds %d users, report says %d created of %d valid", n, rs.Final[report.Created], valid)
			}
		})
	}
}

// pipeInput gives data through a pipe of kind: the env's stdin ("-"), a
// named FIFO, or an anonymous pipe by its /dev/fd path (what bash's <(cmd)
// passes). It returns the env, the --input path and how notes name it.
func pipeInput(t *testing.T, dir, kind string, data []byte) (Env, string, string) {
	t.Helper()
	switch kind {
	case "stdin":
		pr, pw := io.Pipe()
		go func() { pw.Write(data); pw.Close() }()
		t.Cleanup(func() { pr.Close() })
		return Env{Stdin: pr}, "-", "stdin"
	case "fifo":
		path := filepath.Join(dir, "users.ndjson")
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Fatal(err)
		}
		go func() {
			f, err := os.OpenFile(path, os.O_WRONLY, 0) // waits for the reader
			if err != nil {
				return
			}
			f.Write(data)
			f.Close()
		}()
		return Env{}, path, path
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	go func() { w.Write(data); w.Close() }()
	path := fmt.Sprintf("/dev/fd/%d", r.Fd())
	return Env{}, path, path
}

// A run stopped (SIGTERM) while copying a pipe that neither writes nor
// ends stops at once: the read blocked on the pipe does not hold it. The
// partial copy is removed (no report names it) and nothing is sent.
func TestSpoolingStopsWhileThePipeIsSilent(t *testing.T) {
	for _, format := range []string{"", "ndjson"} {
		t.Run("format "+format, func(t *testing.T) {
			dir := t.TempDir()
			pr, pw := io.Pipe()
			defer pw.Close() // frees the copy's reader once the test is done
			entered := make(chan struct{})
			var once sync.Once
			stdin := readFunc(func(b []byte) (int, error) {
				once.Do(func() { close(entered) })
				return pr.Read(b)
			})
			env := Env{Stdin: stdin, Connect: sandboxTenant(t)}
			spec := Spec{Mode: ModeImport, Connection: "Username-Password-Authentication", Inputs: []string{"-"}, ReportPath: filepath.Join(dir, "run.ndjson")}
			spec.Format = format
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := Run(ctx, env, spec)
				done <- err
			}()
			<-entered
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v, want the run stopped", err)
			}
			left, _ := filepath.Glob(filepath.Join(dir, "*"))
			if len(left) != 0 {
				t.Errorf("left %v", left)
			}
		})
	}
}

// An endless input (yes, /dev/zero: here, NUL bytes without a newline, one
// endless record) stops on the first signal, in a run (its copy) and in a
// validate (reading it directly).
func TestEndlessInputStopsOnCancel(t *testing.T) {
	for _, what := range []string{"run", "validate"} {
		t.Run(what, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			src := &endless{t: t, cancelAfter: 10, cancel: cancel}
			env := Env{Stdin: src, Connect: sandboxTenant(t)}
			var err error
			if what == "run" {
				spec := Spec{Mode: ModeImport, Connection: "Username-Password-Authentication", Inputs: []string{"-"}, ReportPath: filepath.Join(dir, "run.ndjson")}
				spec.Format = "ndjson"
				_, err = Run(ctx, env, spec)
			} else {
				_, err = Validate(ctx, env, []string{"-"}, "ndjson", "", input.ModeImport, 500000)
			}
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v, want the run stopped", err)
			}
		})
	}
}

// endless reads NUL bytes forever and cancels the run after cancelAfter
// reads. A reader still read long after that failed to stop: it then ends,
// so that the test fails instead of hanging.
type endless struct {
	t           *testing.T
	mu          sync.Mutex
	reads       int
	cancelAfter int
	cancel      context.CancelFunc
}

func (e *endless) Read(b []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reads++
	if e.reads == e.cancelAfter {
		e.cancel()
	}
	if e.reads > e.cancelAfter+1000 {
		e.t.Errorf("still read %d times after the cancel", e.reads-e.cancelAfter)
		return 0, io.EOF
	}
	clear(b)
	return len(b), nil
}

// sandboxTenant connects to a fresh sandbox tenant.
func sandboxTenant(t *testing.T) func() (Tenant, error) {
	ts := httptest.NewServer(sandbox.New(sandbox.Config{JobDelay: -1}))
	t.Cleanup(ts.Close)
	return testConnect(t, ts.URL)
}

type readFunc func([]byte) (int, error)

func (f readFunc) Read(b []byte) (int, error) { return f(b) }

// The same file given twice (by the same path or another) is a usage error
// before the tenant is reached: its records would be duplicates of
// themselves and their report lines would collide (it stopped mid-run,
// exit 1).
func TestSameInputTwiceIsRefusedBeforeAnyRequest(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.csv")
	if err := os.WriteFile(a, []byte("email\na@x.io\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(a, filepath.Join(dir, "b.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(a, filepath.Join(dir, "c.csv")); err != nil {
		t.Fatal(err)
	}
	for _, second := range []string{a, filepath.Join(dir, ".", "a.csv"), filepath.Join(dir, "b.csv"), filepath.Join(dir, "c.csv")} {
		connected := 0
		env := Env{Connect: func() (Tenant, error) { connected++; return nil, errors.New("reached the tenant") }}
		spec := Spec{Mode: ModeImport, Connection: "db", Inputs: []string{a, second}, ReportPath: filepath.Join(dir, "run.ndjson")}
		_, err := Run(context.Background(), env, spec)
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "same file") || connected != 0 {
			t.Errorf("%s twice: %v (connected %d times), want a usage error before any request", second, err, connected)
		}
	}
}

// validate reads a pipe directly, without a copy: a FIFO without an
// extension is sniffed like stdin, and no file is written.
func TestValidateReadsAPipeDirectly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.WriteString("email\na@x.io\nb@x.io\n")
		f.Close()
	}()
	p, err := Validate(context.Background(), Env{}, []string{path}, "", "", input.ModeImport, 500000)
	if err != nil || p.Records != 2 || p.Valid != 2 {
		t.Fatalf("plan %+v, %v", p, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 1 {
		t.Errorf("files %v, want only the FIFO", left)
	}
}

// A resume reads the files its report names: a pipe given instead is
// refused before it is read.
func TestResumeRefusesAPipe(t *testing.T) {
	dir := t.TempDir()
	spec := Spec{Mode: ModeImport, Connection: "db", Inputs: []string{"-"}, Resume: filepath.Join(dir, "run.ndjson")}
	_, err := Run(context.Background(), Env{Stdin: readFunc(func([]byte) (int, error) {
		t.Error("stdin was read")
		return 0, io.EOF
	}), Connect: func() (Tenant, error) { return nil, nil }}, spec)
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "stdin is a pipe") {
		t.Fatalf("got %v", err)
	}
}
