package cli

import (
	"fmt"
	"io"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/run"
)

func syncCommand(s *IOStreams) *ucli.Command {
	return &ucli.Command{
		Name:      "sync",
		Usage:     "send only the users that are new or changed since the last sync (nightly, from cron)",
		ArgsUsage: " ",
		Description: `Compares each valid record with --state FILE, which remembers a hash of every
user the tenant confirmed. Unchanged users are reported skipped (code UNCHANGED)
without any request; new and changed users are imported with upsert (--mode
import, the default) or created, and updated when they exist (--mode create).
The state is updated only from outcomes the tenant confirmed, so a failed or
killed sync is repaired by running it again. A lock on the state stops two syncs
at once: the second exits 1 naming the holder's pid and start time.

Examples:
   a0bulk sync --state /var/lib/a0bulk/users.state --connection DB --input users.csv
   a0bulk sync --state users.state --connection DB --input users.csv --mode create --random-password
   a0bulk sync --state users.state --connection DB --input users.csv --dry-run --output json`,
		Flags: concat(tenantFlags(), inputFlags(), hashFlags(), outputFlags(), confirmFlags(), []ucli.Flag{
			&ucli.StringFlag{Name: "state", Usage: "sync state `FILE` (created on the first sync; keep it between runs)", EnvVars: []string{"A0BULK_STATE"}},
			&ucli.StringFlag{Name: "connection", Usage: "database connection `NAME`", EnvVars: []string{"A0BULK_CONNECTION"}},
			&ucli.StringFlag{Name: "mode", Value: "import", Usage: "import (bulk-import jobs with upsert) or create (per-user create/update)"},
			&ucli.StringFlag{Name: "report", Usage: "report `FILE` (default a0bulk-sync-TIME.ndjson)"},
			&ucli.BoolFlag{Name: "dry-run", Usage: "print what would be created, updated and skipped; no call to the tenant"},
			&ucli.BoolFlag{Name: "full", Usage: "ignore the state's hashes and send every valid record (the state is rewritten)"},
			&ucli.IntFlag{Name: "min-records", Value: 1, Usage: "refuse an input with fewer valid records (an empty or broken export); 0: no minimum", EnvVars: []string{"A0BULK_MIN_RECORDS"}},
			&ucli.BoolFlag{Name: "allow-shrink", Usage: "run even when the input has under half the valid records of the previous sync's input"},
			// import mode
			&ucli.BoolFlag{Name: "send-completion-email", Usage: "import mode: let Auth0 email each job's completion"},
			&ucli.StringFlag{Name: "external-id", Usage: "import mode: external_id passed to every import job"},
			&ucli.IntFlag{Name: "chunk-bytes", Value: run.DefaultChunkBytes, Usage: "import mode: largest import file, in bytes (at most 512000)"},
			&ucli.IntFlag{Name: "max-jobs", Value: run.Defaults().MaxJobs, Usage: "import mode: import jobs in flight at once"},
			&ucli.DurationFlag{Name: "slot-wait", Value: time.Duration(run.Defaults().SlotWait), Usage: "import mode: give up when no import slot frees up for this long"},
			// create mode
			&ucli.BoolFlag{Name: "random-password", Usage: "create mode: give new users without a password a strong random one"},
			&ucli.IntFlag{Name: "concurrency", Value: run.Defaults().Concurrency, Usage: "create mode: requests in flight at once"},
			&ucli.BoolFlag{Name: "verify-email", Usage: "create mode: send a verification email to each created user whose email is not verified"},
			&ucli.StringFlag{Name: "custom-domain", Usage: "create mode: send Auth0-Custom-Domain: `HOST`", EnvVars: []string{"AUTH0_CUSTOM_DOMAIN"}},
			&ucli.StringFlag{Name: "app-client-id", Usage: "create mode: application whose settings the verification email uses"},
		}),
		Action: func(c *ucli.Context) error {
			g, err := readGlobal(c)
			if err != nil {
				return err
			}
			spec, t, err := readSyncSpec(c, s)
			if err != nil {
				return err
			}
			s.typingUsers(spec.Inputs)
			if spec.DryRun {
				return dryRunSync(c, s, g, spec.Spec)
			}
			sum, err := run.Run(c.Context, runEnv(s, g, t), spec.Spec)
			return printed(s, g, sum, err)
		},
	}
}

// importOnly and createOnly are the flags that mean something in one mode
// only: giving one in the other mode is a mistake worth refusing.
var (
	importOnly = []string{"send-completion-email", "external-id", "chunk-bytes", "max-jobs", "slot-wait"}
	createOnly = []string{"random-password", "concurrency", "verify-email", "custom-domain", "app-client-id"}
)

// syncSpec is a sync's spec, and whether it is a dry run.
type syncSpec struct {
	run.Spec
	DryRun bool
}

func readSyncSpec(c *ucli.Context, s *IOStreams) (syncSpec, *tenantOptions, error) {
	spec := syncSpec{Spec: run.Spec{Mode: run.ModeSync, Connection: c.String("connection"), Inputs: c.StringSlice("input"),
		ExternalID: c.String("external-id"), Full: c.Bool("full"), ReportPath: c.String("report")}, DryRun: c.Bool("dry-run")}
	spec.Format, spec.Map, spec.Delimiter = c.String("format"), c.String("map"), c.String("delimiter")
	spec.SyncMode, spec.State = c.String("mode"), c.String("state")
	if c.NArg() > 0 {
		return spec, nil, usagef("unexpected argument %q (inputs go in --input)", c.Args().First())
	}
	if err := oneOf("mode", spec.SyncMode, "import", "create"); err != nil {
		return spec, nil, err
	}
	wrong := createOnly
	if spec.SyncMode == "create" {
		wrong = importOnly
	}
	for _, name := range wrong {
		if onCommandLine(c, name) {
			return spec, nil, usagef("--%s does not apply to --mode %s", name, spec.SyncMode)
		}
	}
	if spec.State == "" {
		return spec, nil, usagef("--state FILE is required (it is created on the first sync)")
	}
	if spec.Connection == "" {
		return spec, nil, usagef("--connection is required")
	}
	// Both modes' settings, checked whichever applies, as before.
	readSettings(c, run.ModeImport, &spec.Settings, func(string) bool { return true })
	readSettings(c, run.ModeCreate, &spec.Settings, func(string) bool { return true })
	for _, m := range []string{"import", "create"} {
		// Both modes' settings, as before; warnings only for the one used.
		warn := io.Discard
		if m == spec.SyncMode {
			warn = s.ErrOut
		}
		st := spec.Settings
		st.SyncMode = m
		if err := tuneSettings(run.ModeSync, &st, warn); err != nil {
			return spec, nil, err
		}
		if m == spec.SyncMode {
			st.SyncMode = spec.SyncMode
			spec.Settings = st
		}
	}
	readHashes(c, &spec.Settings, func(string) bool { return true })
	spec.Guard = run.SyncGuard{MinRecords: c.Int("min-records"), AllowShrink: c.Bool("allow-shrink")}
	if spec.Guard.MinRecords < 0 {
		return spec, nil, usagef("--min-records must not be negative, got %d", spec.Guard.MinRecords)
	}
	if spec.SyncMode == "import" {
		// Only what the mode uses is recorded.
		spec.Concurrency, spec.RandomPassword, spec.VerifyEmail, spec.CustomDomain, spec.AppClientID = 0, false, false, "", ""
	} else {
		spec.ChunkBytes, spec.MaxJobs, spec.SlotWait, spec.SendCompletionEmail, spec.ExternalID = 0, 0, 0, false, ""
	}
	if spec.DryRun {
		// A dry run never reaches the tenant, so it needs no credentials.
		return spec, nil, nil
	}
	t, err := readTenant(c, s)
	if err != nil {
		return spec, nil, err
	}
	t = t.paced(spec.Settings)
	return spec, &t, nil
}

// dryRunSync says what a sync would do, from the input and the state
// alone: no call to the tenant. With --verbose it lists every user.
func dryRunSync(c *ucli.Context, s *IOStreams, g globalOptions, spec run.Spec) error {
	var list func(string, input.Record)
	if g.Verbose && !g.JSON {
		list = func(verdict string, rec input.Record) {
			fmt.Fprintf(s.Out, "would %s %s (%s:%d)\n", verdict, rec.User.Email, rec.File, rec.Line)
		}
	}
	plan, err := run.DryRun(c.Context, runEnv(s, g, nil), spec, list)
	if err != nil {
		return err
	}
	return printSyncPlan(s, g, spec, plan)
}
