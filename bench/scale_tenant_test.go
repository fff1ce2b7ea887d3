package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// scaleTenant is `a0bulk sandbox --lean` in a child process (under the RSS
// helper, so its own peak memory is a figure too): fast jobs and a bucket
// no run reaches, so that what is measured is a0bulk's own cost.
type scaleTenant struct {
	m    *measured
	addr string
}

// sandboxArgs: jobs of 50 ms (a0bulk's first read of a job comes after
// 250 ms, so it finds them done); a bucket of a million a second whose
// headers tell a0bulk so (an unlimited sandbox's headers look like a small
// plan, and a0bulk would pace its job reads to it).
var sandboxArgs = []string{"--lean", "--rate", "1000000", "--burst", "100000", "--job-delay", "25ms"}

// startTenant starts a lean sandbox and waits until it listens.
// extra are more sandbox flags.
func startTenant(b *testing.B, bin, dir string, extra ...string) *scaleTenant {
	b.Helper()
	addrFile := filepath.Join(dir, "sandbox.addr")
	_ = os.Remove(addrFile) // the previous tenant's
	args := append(append([]string{bin, "sandbox", "--addr", "127.0.0.1:0", "--addr-file", addrFile}, sandboxArgs...), extra...)
	t := &scaleTenant{m: newMeasured(args...)}
	if err := t.m.start(); err != nil {
		b.Fatal(err)
	}
	// A failed benchmark goes on with the next size: leave no tenant
	// running (stop has reaped it already when all went well).
	b.Cleanup(func() {
		if t.m.cmd.ProcessState == nil {
			_ = t.m.kill()
			_, _ = t.m.wait()
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; {
		if data, err := os.ReadFile(addrFile); err == nil && strings.HasSuffix(string(data), "\n") {
			t.addr = strings.TrimSpace(string(data))
			return t
		}
		if time.Now().After(deadline) {
			_ = t.m.kill()
			b.Fatalf("the sandbox did not start: %s", t.m.errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// users is how many users the tenant holds.
func (t *scaleTenant) users(b *testing.B) int {
	b.Helper()
	res, err := http.Get("http://" + t.addr + "/sandbox/stats")
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var st struct {
		Users int `json:"users"`
	}
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		b.Fatal(err)
	}
	return st.Users
}

// stop shuts the sandbox down and returns its figures.
func (t *scaleTenant) stop(b *testing.B) usage {
	b.Helper()
	if err := t.m.interrupt(); err != nil {
		b.Fatal(err)
	}
	u, err := t.m.wait()
	if err != nil {
		b.Fatal(err)
	}
	return u
}

// tenantFlags are a run's flags against t.
func (t *scaleTenant) tenantFlags() []string {
	return []string{"--domain", t.addr, "--client-id", "bench", "--client-secret", "bench-secret",
		"--connection", connection, "--rate", "100000", "--quiet", "--no-progress"}
}

// endLine is a report's last line, the run's end.
type endLine struct {
	Status string `json:"status"`
	End    struct {
		Outcome     string `json:"outcome"`
		RecordsRead int    `json:"records_read"`
		Final       int    `json:"final"`
		InFlight    int    `json:"in_flight"`
	} `json:"end"`
}

// checkEnd fails b unless the report at path ends with a complete run in
// which all n records are final (read from its end, so a report of
// millions costs nothing to check).
func checkEnd(b *testing.B, path string, n int) {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, min(fi.Size(), 4096))
	if _, err := f.ReadAt(buf, fi.Size()-int64(len(buf))); err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimRight(buf, "\n"), []byte{'\n'})
	var e endLine
	if err := json.Unmarshal(lines[len(lines)-1], &e); err != nil || e.Status != "end" {
		b.Fatalf("%s: last line %q is no end line (%v)", path, lines[len(lines)-1], err)
	}
	if e.End.Outcome != "complete" || e.End.Final != n || e.End.InFlight != 0 {
		b.Fatalf("%s: the run ended %+v; want complete with %d records final", path, e.End, n)
	}
}

// finalCounts is `a0bulk report summary -o json`'s count of final lines.
type finalCounts struct {
	Final   map[string]int `json:"final"`
	Records int            `json:"records"`
	Resumes int            `json:"resumes"`
}

func (c finalCounts) total() int {
	n := 0
	for _, v := range c.Final {
		n += v
	}
	return n
}

// checkCounts fails b unless the summary counts every one of n records
// once, each created (imported), invalid or failed, and the tenant holds
// exactly the users the report says it created (tenantUsers: those it
// did not hold before).
func checkCounts(b *testing.B, what string, c finalCounts, n, tenantUsers int) {
	b.Helper()
	got := c.Final["created"] + c.Final["imported"]
	if c.total() != n || c.Records != n || got+c.Final["invalid"]+c.Final["failed"] != n || got != tenantUsers {
		b.Fatalf("%s: report %+v of %d records, tenant holds %d users: records lost, doubled or misreported", what, c, n, tenantUsers)
	}
}

func parseCounts(b *testing.B, out []byte) finalCounts {
	b.Helper()
	var c finalCounts
	if err := json.Unmarshal(out, &c); err != nil {
		b.Fatalf("report summary said %q: %v", tail(string(out)), err)
	}
	return c
}

// fileSize is the size of path in bytes.
func fileSize(b *testing.B, path string) int64 {
	b.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return fi.Size()
}

func (u usage) String() string {
	return fmt.Sprintf("%.0f MB, %.1f s (cpu %.1f s)", u.RSSMB, u.Wall, u.CPU)
}
