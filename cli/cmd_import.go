package cli

import (
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/run"
)

func importCommand(s *IOStreams) *ucli.Command {
	return &ucli.Command{
		Name:      "import",
		Usage:     "import users with bulk-import jobs (files of at most 500 KB, 2 jobs at a time)",
		ArgsUsage: " ",
		Description: `Examples:
   a0bulk import --connection Username-Password-Authentication --input users.csv
   a0bulk import --connection DB --input export.ndjson --upsert --report run.ndjson
   a0bulk import --connection DB --input export.ndjson --hashes hashes.ndjson   # with support's password-hash export
   a0bulk import --resume run.ndjson            # continue a stopped or failed run
   a0bulk import --retry-failed run.ndjson      # send the run's failed records again, into the same report
   a0bulk import --connection DB --input users.json --dry-run`,
		Flags: concat(tenantFlags(), inputFlags(), hashFlags(), outputFlags(), confirmFlags(), []ucli.Flag{
			&ucli.StringFlag{Name: "connection", Usage: "database connection `NAME`", EnvVars: []string{"A0BULK_CONNECTION"}},
			&ucli.BoolFlag{Name: "upsert", Usage: "update users that already exist (Auth0 overwrites their metadata)"},
			&ucli.BoolFlag{Name: "send-completion-email", Usage: "let Auth0 email the job's completion (off by default)"},
			&ucli.StringFlag{Name: "external-id", Usage: "external_id passed to every import job"},
			&ucli.IntFlag{Name: "chunk-bytes", Value: run.DefaultChunkBytes, Usage: "largest import file, in bytes (at most 512000)"},
			&ucli.IntFlag{Name: "max-jobs", Value: run.Defaults().MaxJobs, Usage: "import jobs in flight at once (Auth0 allows 2 per tenant)"},
			&ucli.StringFlag{Name: "report", Usage: "report `FILE` (default a0bulk-import-TIME.ndjson)"},
			&ucli.StringFlag{Name: "resume", Usage: "continue the run recorded in `REPORT`"},
			&ucli.StringFlag{Name: "retry-failed", Usage: "resume the run recorded in `REPORT` and send its failed records again, appending to it"},
			&ucli.BoolFlag{Name: "dry-run", Usage: "validate, plan the chunks and look up the connection; send nothing"},
			&ucli.DurationFlag{Name: "slot-wait", Value: time.Duration(run.Defaults().SlotWait), Usage: "give up when no import slot frees up for this long"},
		}),
		Action: func(c *ucli.Context) error {
			return migrateAction(c, s, run.ModeImport, func(g globalOptions, spec run.Spec, p *run.Plan) error {
				return printImportPlan(s, g, p, spec.ChunkBytes)
			})
		},
	}
}
