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
	if r.Verified != nil {
		fmt.Fprintf(&b, "verification emails: sent %d, failed %d\n", r.Verified.Sent, r.Verified.Failed)
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
	fmt.Fprintf(&b, "%s\n", r.Progress)
	if r.Report != "" {
		fmt.Fprintf(&b, "report: %s\n", r.Report)
	}
	if r.Resume != "" {
		fmt.Fprintf(&b, "resume with: %s\n", r.Resume)
	}
	_, err := fmt.Fprint(s.Out, b.String())
	return err
}
