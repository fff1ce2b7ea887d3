package main

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The scale table of issue 18, from bench's BenchmarkScale: per command
// and format, the a0bulk process's peak RSS and seconds at each size run,
// and the growth between the two largest sizes.

// scaleRSSGoal is issue 18's bound on every command's peak RSS, in MB.
const scaleRSSGoal = 256

// scaleCommands are the table's rows, in order: the metric prefix
// BenchmarkScale reports and the row's label.
var scaleCommands = []struct{ step, label string }{
	{"import", "import"},
	{"resume_done", "import --resume of the finished report"},
	{"resume_killed", "import --resume after SIGKILL at half"},
	{"summary", "report summary"},
	{"failures", "report failures"},
	{"create", "create"},
	{"sync_first", "sync, first (every user new)"},
	{"sync_unchanged", "sync, second (every user unchanged)"},
}

// scaleKey names one BenchmarkScale result.
var scaleKey = regexp.MustCompile(`^BenchmarkScale/format=(\w+)/users=(\d+)$`)

type scaleResults map[string]map[int]map[string]float64 // format → users → unit → value

// scaleOf picks BenchmarkScale's results and the sizes they cover, ascending.
func scaleOf(r results) (scaleResults, []int) {
	out := scaleResults{}
	var sizes []int
	for name, m := range r {
		g := scaleKey.FindStringSubmatch(name)
		if g == nil {
			continue
		}
		n, _ := strconv.Atoi(g[2])
		if out[g[1]] == nil {
			out[g[1]] = map[int]map[string]float64{}
		}
		out[g[1]][n] = m
		if !slices.Contains(sizes, n) {
			sizes = append(sizes, n)
		}
	}
	slices.Sort(sizes)
	return out, sizes
}

// usersLabel writes 100000 as 100k and 10000000 as 10M.
func usersLabel(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1_000 && n%1_000 == 0:
		return fmt.Sprintf("%dk", n/1_000)
	}
	return strconv.Itoa(n)
}

const scaleNote = `Issue 18: bin/a0bulk as a child process over generated users (0.1% invalid; the tenant already holds every 1000th user_id, so those fail) against ` + "`a0bulk sandbox --lean`" + ` with 50 ms jobs and no binding rate limit: so the seconds are a0bulk's own cost (its job polling included), not Auth0's. Each cell: peak RSS of the a0bulk process (getrusage), wall seconds (CPU seconds). Every run is checked: complete, every record final once, the tenant holding exactly the users reported.`

// scaleTable renders the table, or "" without results.
func scaleTable(r results) string {
	sr, sizes := scaleOf(r)
	if len(sizes) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### Scale\n\n%s\n\n", scaleNote)
	growth := ""
	if len(sizes) >= 2 {
		growth = fmt.Sprintf("growth %s → %s", usersLabel(sizes[len(sizes)-2]), usersLabel(sizes[len(sizes)-1]))
	}
	b.WriteString("| command |")
	for _, n := range sizes {
		fmt.Fprintf(&b, " %s users |", usersLabel(n))
	}
	if growth != "" {
		fmt.Fprintf(&b, " %s |", growth)
	}
	fmt.Fprintf(&b, " peak RSS < %d MB? |\n|---|", scaleRSSGoal)
	for range sizes {
		b.WriteString("---|")
	}
	if growth != "" {
		b.WriteString("---|")
	}
	b.WriteString("---|\n")
	for _, format := range []string{"ndjson", "csv"} {
		for _, c := range scaleCommands {
			if !hasStep(sr[format], c.step) {
				continue
			}
			fmt.Fprintf(&b, "| %s (%s) |", c.label, strings.ToUpper(format))
			for _, n := range sizes {
				fmt.Fprintf(&b, " %s |", scaleCell(sr[format][n], c.step))
			}
			if growth != "" {
				fmt.Fprintf(&b, " %s |", scaleGrowth(sr[format][sizes[len(sizes)-2]], sr[format][sizes[len(sizes)-1]], c.step))
			}
			fmt.Fprintf(&b, " %s |\n", scaleMet(sr[format], sizes, c.step))
		}
	}
	for _, f := range []struct{ unit, label string }{
		{"report_B/user", "report bytes per user (import)"},
		{"state_B/user", "sync state bytes per user"},
		{"sandbox_B/user", "lean sandbox peak RSS per user (import tenant)"},
	} {
		for _, format := range []string{"ndjson", "csv"} {
			if !hasUnit(sr[format], f.unit) {
				continue
			}
			fmt.Fprintf(&b, "| %s (%s) |", f.label, strings.ToUpper(format))
			for _, n := range sizes {
				if v, ok := sr[format][n][f.unit]; ok {
					fmt.Fprintf(&b, " %.0f B |", v)
				} else {
					b.WriteString(" — |")
				}
			}
			if growth != "" {
				b.WriteString(" |")
			}
			b.WriteString(" |\n")
		}
	}
	return b.String()
}

func hasStep(m map[int]map[string]float64, step string) bool { return hasUnit(m, step+":MB") }

func hasUnit(m map[int]map[string]float64, unit string) bool {
	for _, x := range m {
		if _, ok := x[unit]; ok {
			return true
		}
	}
	return false
}

func scaleCell(m map[string]float64, step string) string {
	mb, ok := m[step+":MB"]
	if !ok {
		return "—"
	}
	if m[step+":capped"] > 0 {
		return fmt.Sprintf("**> %.0f MB: killed at the cap** after %s s", mb, secs(m[step+":s"]))
	}
	return fmt.Sprintf("%.0f MB, %s s (cpu %s)", mb, secs(m[step+":s"]), secs(m[step+":cpu_s"]))
}

// secs keeps two significant digits below 10 s.
func secs(s float64) string {
	if s < 10 {
		return strconv.FormatFloat(s, 'f', 1, 64)
	}
	return strconv.FormatFloat(s, 'f', 0, 64)
}

func scaleGrowth(from, to map[string]float64, step string) string {
	a, okA := from[step+":MB"]
	b, okB := to[step+":MB"]
	if !okA || !okB || a == 0 || from[step+":s"] == 0 || from[step+":capped"] > 0 {
		return "—"
	}
	if to[step+":capped"] > 0 {
		return fmt.Sprintf("RSS > ×%.1f", b/a)
	}
	return fmt.Sprintf("RSS ×%.2f, time ×%.1f", b/a, to[step+":s"]/from[step+":s"])
}

// scaleMet judges the largest size the command ran at.
func scaleMet(m map[int]map[string]float64, sizes []int, step string) string {
	for i := len(sizes) - 1; i >= 0; i-- {
		if mb, ok := m[sizes[i]][step+":MB"]; ok {
			return fmt.Sprintf("%s (at %s)", yes(mb < scaleRSSGoal && m[sizes[i]][step+":capped"] == 0), usersLabel(sizes[i]))
		}
	}
	return "—"
}
