package cli

import (
	"fmt"
	"strings"
	"sync"

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
	Problems []string       `json:"problems,omitempty"`
	Resume   string         `json:"resume_command,omitempty"`
	ExitCode int            `json:"exit_code"`
	// outcomeOf, when set, replaces outcome for a command whose success is
	// not its records' final statuses (verify).
	outcomeOf func(runSummary) error
}

type verifyCounts struct {
	Sent   int `json:"sent"`
	Failed int `json:"failed"`
}

func newRunSummary(command, reportPath string, t report.Tally, prog progress) runSummary {
	s := runSummary{Command: command, Report: reportPath, Records: t.Total(), Counts: map[string]int{}, Chunks: t.ChunksSubmitted, Problems: prog.Problems()}
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
	if len(r.Problems) > 0 {
		b.WriteString("records that did not succeed (first ones; all are in the report):\n")
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  %s\n", p)
		}
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

// maxProblems bounds the records a summary names: enough to see what went
// wrong without scrolling past thousands; the report has them all.
const maxProblems = 10

// problemCollector remembers the first invalid or failed records as
// "file:line: reason", fed by the journal like every other count.
type problemCollector struct {
	mu    sync.Mutex
	lines []string
}

func (p *problemCollector) Observe(e report.Entry) {
	if e.Status != report.Invalid && e.Status != report.Failed {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lines) >= maxProblems {
		return
	}
	line := fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Status)
	if e.Code != "" && e.Code != "INVALID" {
		line += " " + e.Code
	}
	if e.Reason != "" {
		line += ": " + e.Reason
	}
	p.lines = append(p.lines, line)
}

func (p *problemCollector) list() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...)
}
