// Command table turns `go test -bench` output (on stdin) from the input package
// and bench packages into the markdown tables `make bench` prints: each
// figure, its measured value, its goal and whether it is met; then one table
// per Auth0 plan preset (plans.go); then the machine it ran on.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
)

// results maps a benchmark name (without the -GOMAXPROCS suffix) to its
// metrics by unit.
type results map[string]map[string]float64

var procSuffix = regexp.MustCompile(`-\d+$`)

func parse(sc *bufio.Scanner) results {
	r := results{}
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := procSuffix.ReplaceAllString(f[0], "")
		m := map[string]float64{}
		// f[1] is the iteration count; then value/unit pairs.
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				m[f[i+1]] = v
			}
		}
		r[name] = m
	}
	return r
}

type row struct {
	figure, measured, goal string
	met                    string // "yes", "no" or "—" (no goal)
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func main() {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "table: reading the benchmark output:", err)
		os.Exit(1)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	r := parse(sc)
	var rows []row
	missing := func(fig string) { rows = append(rows, row{fig, "not measured", "", "**no**"}) }

	for _, f := range []string{"CSV", "JSON", "NDJSON"} {
		fig := "read + validate + chunk, " + f
		m, ok := r["BenchmarkReadValidateChunk"+f]
		if !ok {
			missing(fig)
			continue
		}
		meas := fmt.Sprintf("%s users/s, %.0f MB/s", thousands(m["users/s"]), m["MB/s"])
		if f == "NDJSON" {
			rows = append(rows, row{fig, meas, "≥ 200,000 users/s", yes(m["users/s"] >= 200_000)})
		} else {
			rows = append(rows, row{fig, meas, "(no goal)", "—"})
		}
	}

	m100, ok1 := r["BenchmarkValidateMemory/users=100000"]
	m1m, ok2 := r["BenchmarkValidateMemory/users=1000000"]
	if ok1 && ok2 {
		a, b := m100["peak_rss_MB"], m1m["peak_rss_MB"]
		rows = append(rows,
			row{"peak RSS, validate 100k users (streamed)", fmt.Sprintf("%.1f MB", a), "< 64 MB", yes(a < 64)},
			row{"peak RSS, validate 1M users (streamed)", fmt.Sprintf("%.1f MB", b), "< 64 MB", yes(b < 64)},
			row{"RSS growth 100k → 1M users (10× input)", fmt.Sprintf("%.2f× (+%.0f B per extra user: the duplicate check's email-hash set)", b/a, (b-a)*(1<<20)/900_000), "flat (≤ 1.5×)", yes(b/a <= 1.5)})
	} else {
		missing("peak RSS, validate 100k and 1M users")
	}

	if m, ok := r["BenchmarkChunkFill"]; ok {
		rows = append(rows, row{"chunk fill (avg bytes / 500,000, last file excluded)", fmt.Sprintf("%.2f%% over %.0f files", m["fill_%"], m["files"]), "≥ 97%", yes(m["fill_%"] >= 97)})
	} else {
		missing("chunk fill")
	}

	for _, key := range []string{"BenchmarkImportSandbox/job=500ms", "BenchmarkImportSandbox/job=4s"} {
		m, ok := r[key]
		if !ok {
			missing("import against the sandbox (" + key + ")")
			continue
		}
		label := fmt.Sprintf("import, sandbox jobs of %gs", m["job_ms"]/1000)
		rows = append(rows,
			row{label + ": throughput", fmt.Sprintf("%s users/s (%.0f jobs)", thousands(m["users/s"]), m["jobs"]), "(no goal)", "—"},
			row{label + ": both job slots busy", fmt.Sprintf("%.1f%% of the time", m["slots_busy_%"]), "≥ 95%", yes(m["slots_busy_%"] >= 95)})
	}

	for _, c := range []struct{ key, label string }{
		{"BenchmarkCreateRateLimited/rate50_burst50", "Rate 50/s, Burst 50"},
		{"BenchmarkCreateRateLimited/auth0_rate16_burst50", "Rate 16/s, Burst 50 (Auth0-like)"},
	} {
		m, ok := r[c.key]
		if !ok {
			missing("create, " + c.label)
			continue
		}
		rows = append(rows,
			row{"create, " + c.label + ": achieved/allowed", fmt.Sprintf("%.1f%% (%.1f req/s after the burst; %.0f users, none lost)", m["achieved/allowed_%"], m["req/s_after_burst"], m["users"]), "≥ 97%", yes(m["achieved/allowed_%"] >= 97)},
			row{"create, " + c.label + ": 429s", fmt.Sprintf("%.0f", m["429s"]), "(reported)", "—"})
	}

	rows = append(rows, pacingRows(r)...)

	// `make bench-large` (-scale): the scale table alone.
	if len(os.Args) > 1 && os.Args[1] == "-scale" {
		fmt.Print(scaleTable(r))
		fmt.Println()
		fmt.Println(machine())
		return
	}

	fmt.Println("| figure | measured | goal | met? |")
	fmt.Println("|---|---|---|---|")
	for _, x := range rows {
		fmt.Printf("| %s | %s | %s | %s |\n", x.figure, x.measured, x.goal, x.met)
	}
	fmt.Println()
	fmt.Print(planTables(r, stopNotes(data)))
	if st := scaleTable(r); st != "" {
		fmt.Println()
		fmt.Print(st)
	}
	fmt.Println()
	fmt.Println(machine())
}

func machine() string {
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(data), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/(1<<20))
		}
	}
	return fmt.Sprintf("Machine: %d CPUs (%s)%s, %s/%s, %s.", runtime.NumCPU(), cpuModel(), mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// thousands formats n rounded, with comma separators.
func thousands(n float64) string {
	s := strconv.FormatInt(int64(n+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// pacingRows are the throttle's per-plan figures (BenchmarkPlanPacing):
// the binding bucket's grants against what it allows, and the 429 share.
func pacingRows(r results) []row {
	var rows []row
	for _, plan := range []string{"free", "essentials", "enterprise"} {
		for _, w := range []struct{ id, label string }{
			{"verify", "create --verify-email"},
			{"upsert", "create --upsert (half the users exist)"},
			{"import", "import (POST + polls)"},
			{"members", "create + organization member"},
		} {
			fig := fmt.Sprintf("pacing, %s plan (simulated), %s", plan, w.label)
			m, ok := r["BenchmarkPlanPacing/"+plan+"/"+w.id]
			if !ok {
				rows = append(rows, row{fig, "not measured", "", "**no**"})
				continue
			}
			rows = append(rows, row{fig,
				fmt.Sprintf("%.1f%% of the binding bucket, %.2f%% 429s (%.0f requests, %.0f failed)", m["sent/allowed_%"], m["429_%"], m["requests"], m["failed"]),
				"≥ 97%, 429s ≤ 1%, none failed",
				yes(m["sent/allowed_%"] >= 97 && m["429_%"] <= 1 && m["failed"] == 0)})
		}
	}
	return rows
}
