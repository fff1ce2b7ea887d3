package main

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// The per-plan tables of issue 13, from bench's BenchmarkPlans: each
// workload run once per plan preset in simulated time.

// planNames are the presets BenchmarkPlans runs, in table order.
var planNames = []string{"free", "essentials", "enterprise"}

type planWorkload struct {
	key, label string
	// slotGoal is the share of the run both import slots must be busy
	// (0: not an import).
	slotGoal float64
}

var planWorkloads = []planWorkload{
	{"create_verify_email", "create --verify-email", 0},
	{"create_upsert", "create --upsert (half the users exist)", 0},
	{"import_job=2s", "import, 2 s jobs", 95},
	{"import_job=30s", "import, 30 s jobs", 99},
}

const planNote = `Simulated time: the real workflow (run.Run with the cli's defaults: management client, throttle, import scheduler, create runner) against the sandbox's plan preset (sandbox/plans.go: per-endpoint buckets, stepped refill), reached in memory with a round trip of %s, on a discrete-event clock (minutes of tenant time in seconds). Every figure is the tenant's. "Requests / allowed" is what the binding bucket (the one the run used most) admitted over Burst + rate × (its first to its last admitted request); a stopped run's figures cover the time until it stopped. For imports the job slots bind, not the rate: their requests / allowed is reported without a goal, and "polls" is the share of their bucket's allowance over the run spent reading jobs (GET /jobs/{id}).`

// stopNotes reads the "stopped: …" lines BenchmarkPlans logs under each
// benchmark's "--- BENCH: name" header.
func stopNotes(data []byte) map[string]string {
	notes := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	current := ""
	for sc.Scan() {
		line := sc.Text()
		if name, ok := strings.CutPrefix(line, "--- BENCH: "); ok {
			current = procSuffix.ReplaceAllString(strings.TrimSpace(name), "")
			continue
		}
		if !strings.HasPrefix(line, " ") {
			current = ""
			continue
		}
		if _, reason, ok := strings.Cut(line, ": stopped: "); ok && current != "" {
			notes[current] = reason
		}
	}
	return notes
}

// roundTrip is the simulated round trip the plan benchmarks report.
func roundTrip(r results) string {
	for name, m := range r {
		if v, ok := m["rtt_ms"]; ok && strings.HasPrefix(name, "BenchmarkPlans/") {
			return fmt.Sprintf("%g ms (each ms of it idles an import slot about that long per job)", v)
		}
	}
	return "(unknown)"
}

// unitWith returns the name after prefix of the unit m reports with that
// prefix ("bucket:other" → "other").
func unitWith(m map[string]float64, prefix string) string {
	for unit := range m {
		if name, ok := strings.CutPrefix(unit, prefix); ok {
			return name
		}
	}
	return "?"
}

// planTables renders one markdown table per plan.
func planTables(r results, notes map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Pacing per Auth0 plan\n\n%s\n", fmt.Sprintf(planNote, roundTrip(r)))
	for _, plan := range planNames {
		fmt.Fprintf(&b, "\n#### Plan %s\n\n| figure | measured | goal | met? |\n|---|---|---|---|\n", plan)
		for _, w := range planWorkloads {
			key := "BenchmarkPlans/plan=" + plan + "/" + w.key
			m, ok := r[key]
			if !ok {
				fmt.Fprintf(&b, "| %s | not measured | | **no** |\n", w.label)
				continue
			}
			for _, x := range planRows(w, m, notes[key]) {
				fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", x.figure, cell(x.measured), x.goal, x.met)
			}
		}
	}
	return b.String()
}

// planRows are one workload's rows on one plan.
func planRows(w planWorkload, m map[string]float64, stopNote string) []row {
	stopped := m["stopped"] > 0
	bucket := unitWith(m, "bucket:")
	use := fmt.Sprintf("%.1f%% of %s (%.0f admitted of %.0f = %.0f + %.3g/s × its span; %.0f users, %.0f s)",
		m["admitted/allowed_%"], bucket, m["admitted"], m["allowed"], m["bucket_burst"], m["bucket_per_s"], m["users"], m["sim_s"])
	rate := row{w.label + ": requests / allowed by the binding bucket", use, "≥ 97%", yes(m["admitted/allowed_%"] >= 97 && !stopped)}
	if stopped {
		rate.met = "**no** (run stopped)"
	}
	if w.slotGoal > 0 {
		rate.goal, rate.met = "(reported: the job slots bind)", "—"
	}
	rows := []row{rate,
		{w.label + ": 429s", fmt.Sprintf("%.0f of %.0f requests (%.2f%%)", m["429s"], m["requests"], m["429_%"]), "≤ 1%", yes(m["429_%"] <= 1)}}
	if w.slotGoal > 0 {
		rows = append(rows,
			row{w.label + ": both job slots busy", fmt.Sprintf("%.2f%% of first to last job start (%.0f jobs)", m["slots_busy_%"], m["jobs"]),
				fmt.Sprintf("≥ %.0f%%", w.slotGoal), yes(m["slots_busy_%"] >= w.slotGoal)},
			row{w.label + ": polls' share of their bucket", fmt.Sprintf("%.1f%% of %s's allowance (%.0f polls; it admitted %.0f of %.0f)",
				m["polls/bucket_allowed_%"], unitWith(m, "pollbucket:"), m["polls"], m["pollbucket_admitted"], m["pollbucket_allowed"]), "(reported)", "—"})
	}
	run := row{w.label + ": run", "completed", "not stopped", "yes"}
	if stopped {
		run.measured = fmt.Sprintf("**stopped** after %.1f s: %s", m["sim_s"], stopNote)
		run.met = "**no**"
	}
	return append(rows, run)
}

// cell escapes what would end a markdown table cell (a user id's "|").
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
