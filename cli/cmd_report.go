package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/run"
	"github.com/a0bulk/a0bulk/words"
)

func reportCommand(s *IOStreams) *ucli.Command {
	return &ucli.Command{
		Name:  "report",
		Usage: "read a run's report: counts, or the records that did not succeed",
		Description: `Examples:
   a0bulk report summary run.ndjson
   a0bulk import --retry-failed run.ndjson     # send the failed records again, into run.ndjson
   a0bulk report failures run.ndjson > failed.ndjson`,
		Subcommands: []*ucli.Command{
			{
				Name: "summary", Usage: "counts per status, and whether the run can be resumed", ArgsUsage: "REPORT",
				Flags: outputFlags(),
				Action: func(c *ucli.Context) error {
					g, err := readGlobal(c)
					if err != nil {
						return err
					}
					if c.NArg() != 1 {
						return usagef("give exactly one report file")
					}
					sum, err := report.Summarize(c.Args().First())
					if err != nil {
						return usagef("%w", err)
					}
					return printReportSummary(s, g, c.Args().First(), sum)
				},
			},
			{
				Name:      "failures",
				Usage:     "print, as NDJSON usable as --input, the records that did not succeed",
				ArgsUsage: "REPORT",
				Description: `Re-reads the original input at each recorded file:line, so that passwords and
hashes stay in the source and never enter the report. Prints records that
failed or are still unsettled; invalid records are listed on stderr instead,
to be fixed in the source (what was parsed of them may lack the bad field). They may hold password hashes (and, for a
create run, passwords): --out writes them to a new file of mode 0600. To send
the failed records again into the same report, use import (or create)
--retry-failed REPORT instead. With a
domain configured (--domain or AUTH0_DOMAIN), a report of another tenant is
refused; nothing is sent to the tenant.

Examples:
   a0bulk report failures --out retry.ndjson run.ndjson`,
				Flags: append(outputFlags(),
					&ucli.StringFlag{Name: "out", Usage: "write to `FILE` (created 0600) instead of stdout"},
					&ucli.StringFlag{Name: "domain", Usage: "refuse a report of another tenant than `DOMAIN` (offline: nothing is sent)", EnvVars: []string{"AUTH0_DOMAIN"}},
				),
				Action: func(c *ucli.Context) error {
					if c.NArg() != 1 {
						return usagef("give exactly one report file (flags go before it)")
					}
					return printFailures(c, s, c.Args().First(), c.String("out"))
				},
			},
		},
	}
}

func printReportSummary(s *IOStreams, g globalOptions, path string, sum report.Summary) error {
	if g.JSON {
		return printJSON(s.Out, sum)
	}
	h := sum.Header
	fmt.Fprintf(s.Out, "report: %s\nrun: %s into %s (upsert %v), started %s, %s", path, h.Mode, h.Connection, h.Upsert, h.StartedAt.Format("2006-01-02 15:04:05Z07:00"), resumedTimes(sum.Resumes))
	if sum.Retries > 0 {
		fmt.Fprintf(s.Out, " (%s of failed records)", words.Count(sum.Retries, "retry"))
	}
	fmt.Fprintln(s.Out)
	fmt.Fprintf(s.Out, "records: %d:", sum.Records)
	for _, st := range report.FinalStatuses {
		fmt.Fprintf(s.Out, " %s %d", st, sum.Final[st])
	}
	fmt.Fprintln(s.Out)
	if sum.VerificationSent+sum.VerificationFailed+sum.VerificationSkipped > 0 {
		fmt.Fprintf(s.Out, "verification emails: sent %d, failed %d", sum.VerificationSent, sum.VerificationFailed)
		if sum.VerificationSkipped > 0 {
			fmt.Fprintf(s.Out, ", already verified %d (not emailed)", sum.VerificationSkipped)
		}
		fmt.Fprintln(s.Out)
	}
	var b strings.Builder
	printReasons(&b, sum.Reasons)
	fmt.Fprint(s.Out, b.String())
	fmt.Fprintln(s.Out, sum.Progress)
	if next := run.NextStep(h.Mode, path, sum.Progress.State); next != "" {
		fmt.Fprintf(s.Out, "finish with: %s\n", next)
	} else if retry := run.RetryStep(h.Mode, path, sum.Final[report.Failed]); retry != "" {
		fmt.Fprintf(s.Out, "next: %s\n", retry)
	}
	if sum.Torn {
		fmt.Fprintln(s.Out, "the last line is torn (the run was killed mid-write); resume tolerates it")
	}
	for _, d := range sum.Duplicates {
		k := report.Key{File: d.File, Line: d.Line, Record: d.Record}
		fmt.Fprintf(s.Out, "BUG: %s has more than one final line (report lines %v)\n", k, d.ReportLines)
	}
	return nil
}

func printFailures(c *ucli.Context, s *IOStreams, path, outPath string) error {
	env := runEnv(s, globalOptions{Quiet: true}, nil)
	env.Target = run.TenantOf(c.String("domain"), "", "")
	failures, err := run.ReadFailures(env, path)
	if err != nil {
		return err
	}
	dst := s.Out
	if outPath != "" {
		f, err := os.OpenFile(outPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return usagef("--out: %w", err)
		}
		defer f.Close()
		dst = f
	}
	out := bufio.NewWriter(dst)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	invalid, err := failures.Each(c.Context, env,
		func(u run.FailedUser) error { return enc.Encode(u) },
		func(file string, line int, reason string) {
			fmt.Fprintf(s.ErrOut, "%s:%d: invalid, not printed (fix it in the source): %s\n", file, line, reason)
		})
	if invalid > 0 {
		fmt.Fprintf(s.ErrOut, "%s not printed\n", words.Count(invalid, "invalid record"))
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	return err
}

// resumedTimes says how often a run was resumed: "never resumed",
// "resumed once", "resumed 3 times".
func resumedTimes(n int) string {
	if n == 0 {
		return "never resumed"
	}
	return "resumed " + words.Times(n)
}
