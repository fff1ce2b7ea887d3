package cli

import (
	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/run"
)

func createCommand(s *IOStreams) *ucli.Command {
	return &ucli.Command{
		Name:  "create",
		Usage: "create users one by one (POST /api/v2/users), throttled to the tenant's rate limit",
		Description: `Creates each user with POST /api/v2/users through a worker pool that never
outruns the tenant's rate limit. A user that exists is skipped, or updated with
--upsert. No user is emailed unless --verify-email is given.

Examples:
   a0bulk create --connection Username-Password-Authentication --input users.csv --random-password
   a0bulk create --connection DB --input users.ndjson --upsert --concurrency 8 --rate 10
   a0bulk create --connection DB --input users.csv --verify-email --custom-domain login.acme.com
   a0bulk create --resume a0bulk-create-20261125T100000Z.ndjson
   a0bulk create --retry-failed a0bulk-create-20261125T100000Z.ndjson`,
		Flags: concat(tenantFlags(), inputFlags(), hashFlags(), outputFlags(), confirmFlags(), []ucli.Flag{
			&ucli.StringFlag{Name: "connection", Usage: "database connection `NAME`", EnvVars: []string{"A0BULK_CONNECTION"}},
			&ucli.BoolFlag{Name: "upsert", Usage: "update users that already exist (PATCH what the input sets)"},
			&ucli.BoolFlag{Name: "random-password", Usage: "give users without a password a strong random one (never written anywhere)"},
			&ucli.IntFlag{Name: "concurrency", Value: run.Defaults().Concurrency, Usage: "requests in flight at once"},
			&ucli.BoolFlag{Name: "verify-email", Usage: "send a verification email to each created user whose email is not verified"},
			&ucli.StringFlag{Name: "custom-domain", Usage: "send Auth0-Custom-Domain: `HOST` on create and verification requests", EnvVars: []string{"AUTH0_CUSTOM_DOMAIN"}},
			&ucli.StringFlag{Name: "app-client-id", Usage: "application whose settings the verification email uses"},
			&ucli.StringFlag{Name: "report", Usage: "report `FILE` (default a0bulk-create-TIME.ndjson)"},
			&ucli.StringFlag{Name: "resume", Usage: "continue the run recorded in `REPORT`"},
			&ucli.StringFlag{Name: "retry-failed", Usage: "resume the run recorded in `REPORT` and send its failed records again, appending to it"},
			&ucli.BoolFlag{Name: "dry-run", Usage: "validate and estimate the duration; send nothing but the connection lookup"},
		}),
		Action: func(c *ucli.Context) error {
			return migrateAction(c, s, run.ModeCreate, func(g globalOptions, _ run.Spec, p *run.Plan) error { return printCreatePlan(s, g, p) })
		},
	}
}
