package cli

import (
	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/run"
)

func verifyCommand(s *IOStreams) *ucli.Command {
	return &ucli.Command{
		Name:  "verify",
		Usage: "send verification emails (POST /api/v2/jobs/verification-email), one per user",
		Description: `Sends a verification email to each user a run created or imported whose email
is not verified (--report RUN_REPORT: the lines are appended to that report, and
a second run skips users already sent), or to each user of --input (a new
report is written to --out, default a0bulk-verify-TIME.ndjson). Imported users
are looked up by email. A user whose email is verified (the input says so, or
the tenant for a user looked up) is not emailed: Auth0 would email it all the
same. The summary counts this verify's records only, with the top reasons of
failed emails.

Examples:
   a0bulk verify --report a0bulk-import-20261125T100000Z.ndjson --app-client-id abc123
   a0bulk verify --input users.csv --custom-domain login.acme.com`,
		Flags: concat(tenantFlags(), inputFlags(), outputFlags(), confirmFlags(), []ucli.Flag{
			&ucli.StringFlag{Name: "report", Usage: "the `REPORT` of an import or create run to verify (lines are appended to it)"},
			&ucli.StringFlag{Name: "out", Usage: "report `FILE` for --input runs"},
			&ucli.StringFlag{Name: "resume", Usage: "continue a verify run (same as --report on that report)"},
			&ucli.StringFlag{Name: "custom-domain", Usage: "send Auth0-Custom-Domain: `HOST` with each verification email", EnvVars: []string{"AUTH0_CUSTOM_DOMAIN"}},
			&ucli.StringFlag{Name: "app-client-id", Usage: "application whose email template and links the email uses"},
			&ucli.IntFlag{Name: "concurrency", Value: 4, Usage: "requests in flight at once"},
		}),
		Action: func(c *ucli.Context) error {
			g, err := readGlobal(c)
			if err != nil {
				return err
			}
			vs := run.VerifySpec{FromReport: c.String("report"), ReportPath: c.String("out"), AppClientID: c.String("app-client-id"), Concurrency: c.Int("concurrency")}
			if r := c.String("resume"); r != "" {
				if vs.FromReport != "" {
					return usagef("give --report or --resume, not both")
				}
				vs.FromReport = r
			}
			if vs.Concurrency, err = clampConcurrency(vs.Concurrency, s.ErrOut); err != nil {
				return err
			}
			vs.Inputs = c.StringSlice("input")
			switch {
			case vs.FromReport != "" && len(vs.Inputs) > 0:
				return usagef("give --report (a run to verify) or --input, not both")
			case vs.FromReport == "" && len(vs.Inputs) == 0:
				return usagef("give --report RUN_REPORT or --input FILE")
			}
			vs.Format, vs.Map, vs.Delimiter = c.String("format"), c.String("map"), c.String("delimiter")
			t, err := readTenant(c, s)
			if err != nil {
				return err
			}
			s.typingUsers(vs.Inputs)
			sum, err := run.Verify(c.Context, runEnv(s, g, &t), vs)
			return printed(s, g, sum, err)
		},
	}
}
