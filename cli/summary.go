package cli

import (
	"fmt"
	"strings"

	"github.com/a0bulk/a0bulk/report"
)

// runSummary is what a finished (or stopped) run prints: on stdout as text,
// or as one JSON object with --output json.
type runSummary struct {
	Command  string         `json:"command"`
	Report   string         `json:"report,omitempty"`
	Records  int            `json:"records"`
	Counts   map[string]int `json:"counts"`
	Verified *verifyCounts  `json:"verification,omitempty"`
	Chunks   int            `json:"chunks_submitted,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
	Resume   string         `json:"resume_command,omitempty"`
	ExitCode int            `json:"exit_code"`
}

type verifyCounts struct {
	Sent   int `json:"sent"`
	Failed int `json:"failed"`
}

func newRunSummary(command, reportPath string, t report.Tally) runSummary {
	s := runSummary{Command: command, Report: reportPath, Records: t.Total(), Counts: map[string]int{}, Chunks: t.ChunksSubmitted}
	for _, st := range report.FinalStatuses {
		s.Counts[string(st)] = t.Final[st]
	}
	if t.VerificationSent+t.VerificationFailed > 0 {
		s.Verified = &verifyCounts{Sent: t.VerificationSent, Failed: t.VerificationFailed}
	}
	return s
}

// outcome turns a complete run's counts into its error (exit 3 when some
// records are invalid or failed).
func (r runSummary) outcome() error {
	if r.Counts[string(report.Invalid)]+r.Counts[string(report.Failed)] > 0 {
		return &IncompleteError{Invalid: r.Counts[string(report.Invalid)], Failed: r.Counts[string(report.Failed)]}
	}
	return nil
}

func (r runSummary) print(s *IOStreams, g globalOptions) error {
	if g.JSON {
		return printJSON(s.Out, r)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d records:", r.Command, r.Records)
	for _, st := range report.FinalStatuses {
		if n := r.Counts[string(st)]; n > 0 {
			fmt.Fprintf(&b, " %s %d", st, n)
		}
	}
	b.WriteString("\n")
	if r.Verified != nil {
		fmt.Fprintf(&b, "verification emails: sent %d, failed %d\n", r.Verified.Sent, r.Verified.Failed)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	if r.Report != "" {
		fmt.Fprintf(&b, "report: %s\n", r.Report)
	}
	if r.Resume != "" {
		fmt.Fprintf(&b, "resume with: %s\n", r.Resume)
	}
	_, err := fmt.Fprint(s.Out, b.String())
	return err
}
