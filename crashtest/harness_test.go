package crashtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/sandbox"
)

// tenant is an in-process sandbox and the environment that points the
// binary at it.
type tenant struct {
	srv *sandbox.Server
	env []string
}

func startTenant(t *testing.T, cfg sandbox.Config) *tenant {
	t.Helper()
	srv := sandbox.New(cfg)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	var env []string
	for _, kv := range os.Environ() {
		// The operator's own tenant or config must never leak into the test.
		if strings.HasPrefix(kv, "AUTH0_") || strings.HasPrefix(kv, "A0BULK_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"AUTH0_DOMAIN="+strings.TrimPrefix(hs.URL, "http://"),
		"AUTH0_CLIENT_ID=crashtest-client",
		"AUTH0_CLIENT_SECRET="+clientSecret,
	)
	return &tenant{srv: srv, env: env}
}

// clientSecret must appear in no output and no report.
const clientSecret = "crashtest-secret-never-printed"

// outcome is how one run of the binary ended.
type outcome struct {
	args     []string
	signaled bool // ended by the signal the test sent
	exit     int  // exit code when not signalled
	stdout   string
	stderr   string
	grew     int // report lines written during the run
}

func (o outcome) String() string {
	end := fmt.Sprintf("exit %d", o.exit)
	if o.signaled {
		end = "killed"
	}
	return fmt.Sprintf("a0bulk %s: %s after %d report lines\nstdout:\n%s\nstderr:\n%s",
		strings.Join(o.args, " "), end, o.grew, tail(o.stdout, 2000), tail(o.stderr, 4000))
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// attemptTimeout bounds one run of the binary, so a hang fails the test
// with the run's output instead of hitting go test's global timeout.
const attemptTimeout = 90 * time.Second

// pollEvery is how often the report is looked at while a run goes on. It
// is polling, not waiting: the kill fires on the report's progress.
const pollEvery = 2 * time.Millisecond

// runBinary runs a0bulk with args in dir. When sig is not nil, it is sent
// as soon as the report at reportPath has grown by signalAfter lines since
// the run started (0: at once), so kills land at points of progress, not
// of time.
func (tn *tenant) runBinary(t *testing.T, dir, reportPath string, args []string, sig os.Signal, signalAfter int) outcome {
	t.Helper()
	lc := &lineCounter{path: reportPath}
	base := lc.count()
	cmd := exec.Command(binPath, args...)
	cmd.Dir = dir
	cmd.Env = tn.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting a0bulk: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	ticker := time.NewTicker(pollEvery)
	defer ticker.Stop()
	timeout := time.NewTimer(attemptTimeout)
	defer timeout.Stop()
	sent := false
	var waitErr error
wait:
	for {
		select {
		case waitErr = <-done:
			break wait
		case <-ticker.C:
			if sig != nil && !sent && lc.count()-base >= signalAfter {
				// An error means the process already exited: Wait says how.
				_ = cmd.Process.Signal(sig)
				sent = true
			}
		case <-timeout.C:
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("a0bulk %s did not end within %s\nstdout:\n%s\nstderr:\n%s",
				strings.Join(args, " "), attemptTimeout, tail(stdout.String(), 2000), tail(stderr.String(), 4000))
		}
	}
	o := outcome{args: args, stdout: stdout.String(), stderr: stderr.String(), grew: lc.count() - base}
	if strings.Contains(o.stdout+o.stderr, clientSecret) {
		t.Errorf("a0bulk %s printed the client secret", strings.Join(args, " "))
	}
	var exitErr *exec.ExitError
	switch {
	case waitErr == nil:
	case errors.As(waitErr, &exitErr):
		ws, _ := exitErr.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			if !sent || ws.Signal() != sig {
				t.Fatalf("a0bulk died of %v, which the test did not send\n%s", ws.Signal(), o)
			}
			o.signaled = true
		}
		o.exit = exitErr.ExitCode()
	default:
		t.Fatalf("waiting for a0bulk: %v", waitErr)
	}
	return o
}

// lineCounter counts the newlines of a growing file incrementally. A file
// that shrank (resume drops a torn last line) is counted again.
type lineCounter struct {
	path  string
	off   int64
	lines int
	buf   []byte
}

func (c *lineCounter) count() int {
	f, err := os.Open(c.path)
	if err != nil {
		return c.lines // not created yet: nothing new
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() < c.off {
		c.off, c.lines = 0, 0
	}
	if _, err := f.Seek(c.off, io.SeekStart); err != nil {
		return c.lines
	}
	if c.buf == nil {
		c.buf = make([]byte, 64<<10)
	}
	for {
		n, err := f.Read(c.buf)
		c.lines += bytes.Count(c.buf[:n], []byte{'\n'})
		c.off += int64(n)
		if err != nil || n == 0 {
			return c.lines
		}
	}
}

// hasHeader reports whether the report has its complete first line: only
// then can it be resumed. A run killed between creating the file and
// writing the header leaves an empty file, which is removed so that the
// next run starts afresh (a0bulk refuses to overwrite a report).
func hasHeader(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && bytes.IndexByte(b, '\n') > 0
}
