package bench

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
)

// BenchmarkScale runs the real binary (bin/a0bulk) over generated inputs of
// N users against lean sandboxes with fast jobs (scale_tenant_test.go) and
// reports, per command, the peak RSS and the wall and CPU seconds of the
// a0bulk process (getrusage, through the helper of scale_child_test.go),
// plus the report's and the sync state's bytes per user and the sandbox's.
// Issue 18's figures: `make bench` runs 100k and 1M, `make bench-large`
// 10M; bench/table prints them as one table with the growth 1M → 10M.
//
// Every run is checked, not only timed: each report must end complete with
// every record final once, the summary's counts must add up to N, and the
// tenant must hold exactly the users the report says it created.
//
// Environment (sizes as 100k, 1m, 10m or plain numbers):
//
//	A0BULK_SCALE            sizes to run (default 100k)
//	A0BULK_SCALE_STEPS      steps on NDJSON (default all: scaleSteps)
//	A0BULK_SCALE_CSV_STEPS  steps on CSV (default import,resume_done,summary,failures; none: no CSV)
//	A0BULK_SCALE_CREATE_MAX largest size create runs at (default 1m: 10M
//	                        creates at ~4,000/s would take most of an hour)
//	A0BULK_SCALE_MAX_RSS_MB a command whose RSS passes this is killed and
//	                        reported stopped at the cap (default 6144: a
//	                        machine shared by others must survive a command
//	                        whose memory grows with the input; 0: no cap)
func BenchmarkScale(b *testing.B) {
	bin := binary(b)
	sizes, err := parseSizes(envOr("A0BULK_SCALE", "100k"))
	if err != nil {
		b.Fatal(err)
	}
	createMax, err := parseSize(envOr("A0BULK_SCALE_CREATE_MAX", "1m"))
	if err != nil {
		b.Fatal(err)
	}
	ndjson, err := parseSteps(envOr("A0BULK_SCALE_STEPS", "all"))
	if err != nil {
		b.Fatal(err)
	}
	csv, err := parseSteps(envOr("A0BULK_SCALE_CSV_STEPS", "import,resume_done,summary,failures"))
	if err != nil {
		b.Fatal(err)
	}
	capMB, err := strconv.Atoi(envOr("A0BULK_SCALE_MAX_RSS_MB", "6144"))
	if err != nil || capMB < 0 {
		b.Fatalf("A0BULK_SCALE_MAX_RSS_MB: want a number of MB, got %q", os.Getenv("A0BULK_SCALE_MAX_RSS_MB"))
	}
	for _, n := range sizes {
		for _, f := range []struct {
			format input.Format
			steps  map[string]bool
		}{{input.FormatNDJSON, ndjson}, {input.FormatCSV, csv}} {
			if len(f.steps) == 0 {
				continue
			}
			steps := f.steps
			if n > createMax && steps["create"] {
				steps = maps(steps)
				delete(steps, "create")
				b.Logf("users=%d: create skipped (above A0BULK_SCALE_CREATE_MAX=%d)", n, createMax)
			}
			b.Run(fmt.Sprintf("format=%s/users=%d", f.format, n), func(b *testing.B) {
				r := &scaleRun{b: b, bin: bin, dir: b.TempDir(), n: n, format: f.format, steps: steps, capMB: capMB}
				r.run()
			})
		}
	}
}

// scaleSteps, in the order they run: import and what reads its report
// (resume of the finished report, summary, failures); an import killed with
// SIGKILL at half its users, then resumed; create; sync twice.
var scaleSteps = []string{"import", "resume_done", "summary", "failures", "resume_killed", "create", "sync"}

type scaleRun struct {
	b        *testing.B
	bin, dir string
	n        int
	format   input.Format
	steps    map[string]bool
	capMB    int // A0BULK_SCALE_MAX_RSS_MB
}

// invalidRate: a few invalid users (a real export has some).
const invalidRate = 0.001

// takenEvery: the import's tenant already holds a user with the user_id of
// every takenEvery'th input record (under another e-mail), so the tenant
// refuses those (CONFLICT) and report failures has records to re-read
// from the input and print.
const takenEvery = 1000

func (r *scaleRun) run() {
	start := time.Now()
	in, taken := r.generate("users", gen.GenOptions{InvalidRate: invalidRate})
	r.b.Logf("generated %d users (%s, %d MB) in %.0f s", r.n, r.format, fileSize(r.b, in)>>20, time.Since(start).Seconds())
	if r.steps["import"] || r.steps["resume_done"] || r.steps["summary"] || r.steps["failures"] {
		r.importAndRead(in, taken)
	}
	if r.steps["resume_killed"] {
		r.killAndResume(in)
	}
	if r.steps["sync"] {
		r.sync(in)
	}
	if err := os.Remove(in); err != nil {
		r.b.Fatal(err)
	}
	if r.steps["create"] {
		cin, _ := r.generate("create-input", gen.GenOptions{InvalidRate: invalidRate, Mode: input.ModeCreate})
		r.create(cin)
	}
}

// generate writes the run's input (seeded: the same bytes every time) and
// returns the path and the user_id of every takenEvery'th record.
func (r *scaleRun) generate(name string, o gen.GenOptions) (string, []string) {
	path := filepath.Join(r.dir, name+"."+string(r.format))
	fh, err := os.Create(path)
	if err != nil {
		r.b.Fatal(err)
	}
	tap := &idTap{w: fh, csv: r.format == input.FormatCSV}
	w := bufio.NewWriterSize(tap, 1<<20)
	if err := gen.Users(7, r.n, w, r.format, o); err != nil {
		r.b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		r.b.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		r.b.Fatal(err)
	}
	if tap.err != nil {
		r.b.Fatal(tap.err)
	}
	return path, tap.ids
}

// report adds a measured command's figures under step; one stopped at the
// RSS cap also reports step:capped.
func (r *scaleRun) report(step string, u usage) {
	r.b.ReportMetric(u.RSSMB, step+":MB")
	r.b.ReportMetric(u.Wall, step+":s")
	r.b.ReportMetric(u.CPU, step+":cpu_s")
	if u.Capped {
		r.b.ReportMetric(1, step+":capped")
		r.b.Logf("%s: stopped at the RSS cap (A0BULK_SCALE_MAX_RSS_MB=%d) after %v", step, r.capMB, u)
		return
	}
	r.b.Logf("%s: %v", step, u)
}

func (r *scaleRun) a0bulk(args ...string) *measured {
	m := newMeasured(append([]string{r.bin}, args...)...)
	m.capRSS(r.capMB)
	return m
}

// step runs a measured a0bulk command, reports it as step and says whether
// it ran to its end (false: stopped at the RSS cap, and what depends on it
// is skipped).
func (r *scaleRun) step(step string, args ...string) bool {
	u := r.a0bulk(args...).run(r.b, 0, 3)
	r.report(step, u)
	return !u.Capped
}

// summary runs `report summary -o json` on rep, measured as step unless
// step is ""; ok is false when it was stopped at the RSS cap.
func (r *scaleRun) summary(rep, step string) (c finalCounts, ok bool) {
	var out bytes.Buffer
	m := r.a0bulk("report", "summary", "-o", "json", rep)
	m.cmd.Stdout = &out
	u := m.run(r.b, 0)
	if step != "" {
		r.report(step, u)
	}
	if u.Capped {
		if step == "" {
			r.b.Logf("report summary of %s stopped at the RSS cap: its counts are not checked", filepath.Base(rep))
		}
		return c, false
	}
	return parseCounts(r.b, out.Bytes()), true
}

// importAndRead: import into a fresh tenant, then resume the finished
// report, summarize it and print its failures.
func (r *scaleRun) importAndRead(in string, taken []string) {
	seeds := r.seedFile(taken)
	t := startTenant(r.b, r.bin, r.dir, "--users", seeds)
	rep := filepath.Join(r.dir, "import.ndjson")
	if !r.step("import", append([]string{"import", "--input", in, "--report", rep}, t.tenantFlags()...)...) {
		r.b.Logf("import stopped at the RSS cap: no resume, summary or failures of its report")
		t.stop(r.b)
		return
	}
	checkEnd(r.b, rep, r.n)
	r.b.ReportMetric(float64(fileSize(r.b, rep))/float64(r.n), "report_B/user")
	if r.steps["resume_done"] {
		if r.step("resume_done", append([]string{"import", "--resume", rep}, t.tenantFlags()...)...) {
			checkEnd(r.b, rep, r.n)
		}
	}
	step := ""
	if r.steps["summary"] {
		step = "summary"
	}
	counts, counted := r.summary(rep, step)
	if counted {
		checkCounts(r.b, "import", counts, r.n, t.users(r.b)-len(taken))
		// The taken records fail, but for the few of them that are invalid.
		if failed := counts.Final["failed"]; failed > len(taken) || failed < len(taken)-counts.Final["invalid"] || failed == 0 {
			r.b.Fatalf("import: %d records failed, want the %d whose user_id the tenant had, less invalid ones", failed, len(taken))
		}
	}
	if r.steps["failures"] {
		var lines lineCounter
		m := r.a0bulk("report", "failures", rep)
		m.cmd.Stdout = &lines
		u := m.run(r.b, 0)
		r.report("failures", u)
		if counted && !u.Capped && lines.n != counts.Final["failed"] {
			r.b.Fatalf("report failures printed %d users, want the %d that failed", lines.n, counts.Final["failed"])
		}
	}
	su := t.stop(r.b)
	r.b.ReportMetric(su.RSSMB, "sandbox:MB")
	r.b.ReportMetric(su.RSSMB*(1<<20)/float64(r.n), "sandbox_B/user")
	r.b.Logf("sandbox (lean) holding %d users: %v", r.n, su)
	removeFile(r.b, rep)
	removeFile(r.b, seeds)
}

// seedFile writes the users the import's tenant holds before it runs: the
// taken user_ids, under e-mails of their own (sandbox --users).
func (r *scaleRun) seedFile(taken []string) string {
	path := filepath.Join(r.dir, "taken.ndjson")
	var buf bytes.Buffer
	for i, id := range taken {
		fmt.Fprintf(&buf, "{\"user_id\":\"auth0|%s\",\"email\":\"taken%d@example.org\"}\n", id, i)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		r.b.Fatal(err)
	}
	return path
}

// killAndResume: an import into a fresh tenant is killed with SIGKILL once
// the tenant holds half the users, then resumed to the end; the resume is
// what is measured.
func (r *scaleRun) killAndResume(in string) {
	t := startTenant(r.b, r.bin, r.dir)
	rep := filepath.Join(r.dir, "killed.ndjson")
	m := r.a0bulk(append([]string{"import", "--input", in, "--report", rep}, t.tenantFlags()...)...)
	if err := m.start(); err != nil {
		r.b.Fatal(err)
	}
	defer func() { _ = m.kill() }() // if the benchmark fails before the kill
	ended := make(chan usage, 1)
	go func() {
		u, _ := m.wait()
		ended <- u
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for held := 0; held < r.n/2; held = t.users(r.b) {
		select {
		case u := <-ended:
			if u.Capped {
				r.b.Logf("the import to kill was stopped at the RSS cap first (%v): no resume_killed", u)
				t.stop(r.b)
				return
			}
			r.b.Fatalf("the import ended (%+v) before the tenant held half the users (%d of %d): %s", u, held, r.n, tail(m.errOut.String()))
		case <-tick.C:
		}
	}
	if err := m.kill(); err != nil {
		r.b.Fatal(err)
	}
	<-ended
	r.b.Logf("killed the import with %d of %d users in the tenant, report %d MB", t.users(r.b), r.n, fileSize(r.b, rep)>>20)
	if r.step("resume_killed", append([]string{"import", "--resume", rep}, t.tenantFlags()...)...) {
		checkEnd(r.b, rep, r.n)
		if c, ok := r.summary(rep, ""); ok {
			checkCounts(r.b, "import killed and resumed", c, r.n, t.users(r.b))
		}
	}
	t.stop(r.b)
	removeFile(r.b, rep)
}

// create: create mode (POST /users) into a fresh tenant.
func (r *scaleRun) create(in string) {
	t := startTenant(r.b, r.bin, r.dir)
	rep := filepath.Join(r.dir, "create.ndjson")
	if r.step("create", append([]string{"create", "--input", in, "--report", rep}, t.tenantFlags()...)...) {
		checkEnd(r.b, rep, r.n)
		if c, ok := r.summary(rep, ""); ok {
			checkCounts(r.b, "create", c, r.n, t.users(r.b))
		}
	}
	t.stop(r.b)
	removeFile(r.b, rep)
	removeFile(r.b, in)
}

// sync: a first sync into a fresh tenant (every user new), then a second
// with nothing changed (no request at all).
func (r *scaleRun) sync(in string) {
	t := startTenant(r.b, r.bin, r.dir)
	defer t.stop(r.b)
	state := filepath.Join(r.dir, "sync.state")
	defer os.Remove(state)
	for i, step := range []string{"sync_first", "sync_unchanged"} {
		rep := filepath.Join(r.dir, step+".ndjson")
		if !r.step(step, append([]string{"sync", "--state", state, "--input", in, "--report", rep}, t.tenantFlags()...)...) {
			removeFile(r.b, rep)
			return
		}
		checkEnd(r.b, rep, r.n)
		c, ok := r.summary(rep, "")
		switch {
		case i == 0:
			if ok {
				checkCounts(r.b, step, c, r.n, t.users(r.b))
			}
			r.b.ReportMetric(float64(fileSize(r.b, state))/float64(r.n), "state_B/user")
		case ok && c.Final["skipped"]+c.Final["invalid"] != r.n:
			r.b.Fatalf("%s: %+v; want every valid user skipped as unchanged", step, c)
		}
		removeFile(r.b, rep)
	}
}

// idTap passes generated input through to w and notes the user_id of
// every takenEvery'th record (line, after CSV's header).
type idTap struct {
	w       io.Writer
	csv     bool
	partial []byte
	line    int // lines seen whole
	ids     []string
	err     error
}

func (t *idTap) Write(p []byte) (int, error) {
	rest := p
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			t.partial = append(t.partial, rest...)
			break
		}
		line := rest[:i]
		if len(t.partial) > 0 {
			line = append(t.partial, line...)
			t.partial = t.partial[:0]
		}
		t.note(line)
		rest = rest[i+1:]
	}
	return t.w.Write(p)
}

func (t *idTap) note(line []byte) {
	record := t.line
	t.line++
	if t.csv {
		record-- // the header
	}
	if record < 0 || record%takenEvery != takenEvery/2 || t.err != nil {
		return
	}
	var id string
	if t.csv {
		fields, err := csv.NewReader(bytes.NewReader(line)).Read()
		if err != nil || len(fields) < 8 {
			t.err = fmt.Errorf("generated CSV line %d: %q: %v", t.line, line, err)
			return
		}
		id = fields[7] // gen's csvHeader: user_id
	} else {
		const key = `"user_id":"`
		i := bytes.Index(line, []byte(key))
		j := bytes.IndexByte(line[i+len(key):], '"')
		if i < 0 || j < 0 {
			t.err = fmt.Errorf("generated line %d has no user_id: %q", t.line, line)
			return
		}
		id = string(line[i+len(key) : i+len(key)+j])
	}
	t.ids = append(t.ids, id)
}

// lineCounter counts the lines written to it.
type lineCounter struct{ n int }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

func removeFile(b *testing.B, path string) {
	b.Helper()
	if err := os.Remove(path); err != nil {
		b.Fatal(err)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// parseSize reads 100k, 1m, 10M or a plain number.
func parseSize(s string) (int, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	mult := 1
	switch {
	case strings.HasSuffix(s, "k"):
		s, mult = strings.TrimSuffix(s, "k"), 1_000
	case strings.HasSuffix(s, "m"):
		s, mult = strings.TrimSuffix(s, "m"), 1_000_000
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q: want a positive number, optionally with k or m", s)
	}
	return n * mult, nil
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := parseSize(f)
		if err != nil {
			return nil, fmt.Errorf("A0BULK_SCALE: %w", err)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseSteps reads "all", "none" or a comma-separated list of scaleSteps.
func parseSteps(s string) (map[string]bool, error) {
	out := map[string]bool{}
	switch s = strings.TrimSpace(s); s {
	case "none":
		return out, nil
	case "all":
		s = strings.Join(scaleSteps, ",")
	}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if !slices.Contains(scaleSteps, f) {
			return nil, fmt.Errorf("step %q: want all, none or some of %s", f, strings.Join(scaleSteps, ","))
		}
		out[f] = true
	}
	return out, nil
}

func maps(m map[string]bool) map[string]bool {
	out := map[string]bool{}
	for k, v := range m {
		out[k] = v
	}
	return out
}
