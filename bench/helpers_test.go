package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/cli"
	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/sandbox"
)

const connection = "Username-Password-Authentication"

// recorder wraps the sandbox and notes, from the tenant's side, when each
// import job was accepted and how many /api/v2 requests were granted or
// refused with 429 (and when the first and last granted ones came).
type recorder struct {
	next http.Handler

	mu          sync.Mutex
	jobStarts   []time.Time
	granted     int
	limited     int
	first, last time.Time
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	at := time.Now()
	rc.next.ServeHTTP(sw, r)
	if !strings.HasPrefix(r.URL.Path, "/api/v2/") {
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if sw.status == http.StatusTooManyRequests {
		rc.limited++
		return
	}
	rc.granted++
	if rc.first.IsZero() {
		rc.first = at
	}
	rc.last = at
	if r.Method == http.MethodPost && r.URL.Path == "/api/v2/jobs/users-imports" && sw.status == http.StatusAccepted {
		rc.jobStarts = append(rc.jobStarts, at)
	}
}

// tenant serves a sandbox behind a recorder.
func tenant(b *testing.B, cfg sandbox.Config) (host string, srv *sandbox.Server, rc *recorder) {
	b.Helper()
	srv = sandbox.New(cfg)
	rc = &recorder{next: srv}
	hs := httptest.NewServer(rc)
	b.Cleanup(hs.Close)
	return strings.TrimPrefix(hs.URL, "http://"), srv, rc
}

// a0bulk runs a0bulk in process and fails the benchmark on a non-zero exit.
func a0bulk(b *testing.B, args ...string) {
	b.Helper()
	var out, errOut bytes.Buffer
	code := cli.Main(append([]string{"a0bulk"}, args...), cli.Test(strings.NewReader(""), &out, &errOut))
	if code != 0 {
		b.Fatalf("a0bulk %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out.String(), errOut.String())
	}
}

func tenantArgs(host string) []string {
	return []string{"--domain", host, "--client-id", "bench", "--client-secret", "bench-secret", "--connection", connection, "--quiet", "--no-progress"}
}

// genFile writes n generated users to a file in dir.
func genFile(b *testing.B, dir string, n int, f input.Format, o gen.GenOptions) string {
	b.Helper()
	path := filepath.Join(dir, "users."+string(f))
	fh, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(fh, 1<<16)
	if err := gen.Users(7, n, w, f, o); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// finals counts the final line of each record in a report, by status, and
// fails on a record with two final lines.
func finals(b *testing.B, path string) map[report.Status]int {
	b.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	counts := map[report.Status]int{}
	seen := map[string]bool{}
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		var e report.Entry
		if err := json.Unmarshal(line, &e); err != nil {
			b.Fatalf("report line %q: %v", line, err)
		}
		if !e.Status.IsFinal() {
			continue
		}
		key := e.File + ":" + strconv.Itoa(e.Line)
		if seen[key] {
			b.Fatalf("record %s:%d has two final lines", e.File, e.Line)
		}
		seen[key] = true
		counts[e.Status]++
	}
	return counts
}
