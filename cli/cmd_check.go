package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/preflight"
)

// checkOptions are the flags of `a0bulk check`.
type checkOptions struct {
	tenant     tenantOptions
	Connection string
	For        string // the command the credentials are checked for
}

func checkCommand(s *IOStreams) *ucli.Command {
	return &ucli.Command{
		Name:      "check",
		Usage:     "preflight: will these credentials work? (domain, token, scopes, connection, rate limit, custom domain)",
		ArgsUsage: " ",
		Description: `Gets a token and reports one line per check, PASS, WARN or FAIL, with the fix:
the domain answers; a token was issued; its scopes cover what the command given
by --for needs; the connection exists and is a database connection; the
rate-limit headroom right now; the custom domain, when given, is accepted.
Nothing is created or changed. It tells what the tenant does now: refusals
(429s, connection errors) are waited out for 10s, not --max-wait's 15m,
unless --max-wait is given. Exit 0 when nothing failed (warnings allowed),
1 when a check failed, 2 on a usage error.

Scopes needed (Auth0 Management API); every run checks its own before its
first call and refuses (exit 2) naming what is missing:
   import, sync   create:users read:connections read:users   (update:users to verify emails,
                  and for sync --mode create)
   create         create:users read:connections read:users   (update:users for --upsert, --verify-email)
   verify         update:users read:users
   jobs           read:users or create:users
   export         read:users read:connections

Examples:
   a0bulk check --connection Username-Password-Authentication
   a0bulk check --for create --connection DB --custom-domain login.acme.com
   a0bulk check --for verify --output json`,
		Flags: concat(tenantFlags(), outputFlags(), []ucli.Flag{
			&ucli.StringFlag{Name: "connection", Usage: "database connection `NAME` to look up", EnvVars: []string{"A0BULK_CONNECTION"}},
			&ucli.StringFlag{Name: "custom-domain", Usage: "check that the tenant accepts Auth0-Custom-Domain: `HOST`", EnvVars: []string{"AUTH0_CUSTOM_DOMAIN"}},
			&ucli.StringFlag{Name: "for", Value: "import", Usage: "the command to check the scopes for: import, create, verify, sync, jobs or export"},
		}),
		Action: func(c *ucli.Context) error {
			g, err := readGlobal(c)
			if err != nil {
				return err
			}
			o, err := readCheckOptions(c, s)
			if err != nil {
				return err
			}
			return runCheck(c.Context, s, g, o)
		},
	}
}

func readCheckOptions(c *ucli.Context, s *IOStreams) (checkOptions, error) {
	o := checkOptions{Connection: strings.TrimSpace(c.String("connection")), For: c.String("for")}
	if c.NArg() > 0 {
		return o, usagef("unexpected argument %q", c.Args().First())
	}
	if err := oneOf("for", o.For, preflight.Commands...); err != nil {
		return o, err
	}
	var err error
	if o.tenant, err = readTenant(c, s); err != nil {
		return o, err
	}
	if !c.IsSet("max-wait") {
		o.tenant.MaxWait = checkMaxWait
	}
	return o, nil
}

// checkMaxWait is check's --max-wait: a blip is ridden out, an unreachable
// or refusing tenant is reported within seconds.
const checkMaxWait = 10 * time.Second

// errCheckFailed makes `check` exit 1 after its report was printed.
var errCheckFailed = fmt.Errorf("%wsome checks failed", errSilent)

// runCheck runs the preflight checks (package preflight) with the client
// the options build, prints the report and says how to exit.
func runCheck(ctx context.Context, s *IOStreams, g globalOptions, o checkOptions) error {
	client, err := o.tenant.client(g.logger(s), g.Verbose)
	if err != nil {
		return err
	}
	rep := preflight.Run(ctx, client, o.preflightOptions())
	if err := ctx.Err(); err != nil {
		return err // interrupted: the partial report would mislead
	}
	if err := printCheckReport(s, g, rep); err != nil {
		return err
	}
	if !rep.OK {
		return errCheckFailed
	}
	return nil
}

// preflightOptions says what the checks need to know of the flags.
func (o checkOptions) preflightOptions() preflight.Options {
	return preflight.Options{
		For:          o.For,
		Connection:   o.Connection,
		Domain:       o.tenant.Domain,
		ClientID:     o.tenant.ClientID,
		CustomDomain: o.tenant.CustomDomain,
		StaticToken:  o.tenant.Token != "",
		Rate:         o.tenant.Rate,
	}
}

// printCheckReport prints one line per check, with its fix under it, and
// the verdict; with --output json the report as one object.
func printCheckReport(s *IOStreams, g globalOptions, r preflight.Report) error {
	if g.JSON {
		return printJSON(s.Out, r)
	}
	var b strings.Builder
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%-4s  %-*s  %s\n", c.Status, width, c.Name, c.Detail)
		if c.Fix != "" {
			fmt.Fprintf(&b, "      %-*s  fix: %s\n", width, "", c.Fix)
		}
	}
	if r.OK {
		fmt.Fprintf(&b, "ready for a0bulk %s\n", r.For)
	} else {
		fmt.Fprintf(&b, "not ready for a0bulk %s: fix the FAIL lines above and run a0bulk check again\n", r.For)
	}
	_, err := fmt.Fprint(s.Out, b.String())
	return err
}
