package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/run"
	"github.com/a0bulk/a0bulk/words"
)

// printSummary prints what a finished (or stopped) run tells the operator:
// on stdout as text, or as one JSON object with --output json.
func printSummary(s *IOStreams, g globalOptions, r run.Summary) error {
	if g.JSON {
		return printJSON(s.Out, r)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s:", r.Command, words.Count(r.Records, "record"))
	for _, st := range report.FinalStatuses {
		if n := r.Counts[string(st)]; n > 0 {
			fmt.Fprintf(&b, " %s %d", st, n)
		}
	}
	b.WriteString("\n")
	printHashes(&b, r.Hashes)
	if r.Verified != nil {
		fmt.Fprintf(&b, "verification emails: %s\n", r.Verified)
	}
	if r.Retry != nil {
		fmt.Fprintf(&b, "retried: %s\n", words.Count(r.Retry.Retried, "failed record"))
	}
	for _, bc := range r.Buckets {
		shape := ""
		if bc.Limit > 0 {
			shape = fmt.Sprintf(" (burst %d, %.4g/s)", bc.Limit, bc.PerSecond)
		}
		fmt.Fprintf(&b, "rate-limit bucket %s%s: %s (%d answered 429), waited %s\n",
			bc.Name, shape, words.Count(int(bc.Requests), "request"), bc.RateLimited, time.Duration(bc.WaitedSeconds*float64(time.Second)).Round(time.Millisecond))
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	if len(r.Problems) > 0 {
		b.WriteString("records that did not succeed (first ones; all are in the report):\n")
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  %s\n", p)
		}
	}
	printReasons(&b, r.Reasons)
	fmt.Fprintf(&b, "%s\n", r.Progress)
	if r.Report != "" {
		fmt.Fprintf(&b, "report: %s\n", r.Report)
	}
	if r.Resume != "" {
		fmt.Fprintf(&b, "resume with: %s\n", r.Resume)
	}
	if r.RetryCommand != "" {
		fmt.Fprintf(&b, "next: %s\n", r.RetryCommand)
	}
	_, err := fmt.Fprint(s.Out, b.String())
	return err
}

// printReasons lists the most frequent reasons of what did not succeed:
// "  24 failed JOB_FAILED, e.g. users.csv:38: Internal error…".
func printReasons(b *strings.Builder, reasons []report.Reason) {
	if len(reasons) == 0 {
		return
	}
	b.WriteString("top reasons:\n")
	for _, r := range reasons {
		fmt.Fprintf(b, "  %d %s %s, e.g. %s\n", r.Count, r.Status, r.Code, r.Example)
	}
}
