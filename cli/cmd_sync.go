package cli

import (
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/input"
)

// syncOptions are the flags of `a0bulk sync`.
type syncOptions struct {
	tenant  tenantOptions
	input   inputOptions
	meaning runMeaning
	// Mode is how new and changed users reach the tenant: "import" (bulk
	// import jobs with upsert) or "create" (per-user create, update when
	// the user exists).
	Mode       string
	StatePath  string
	ReportPath string
	DryRun     bool
	// Full ignores the hashes in the state: every valid record is sent
	// (and the state rewritten from what the tenant confirms).
	Full bool

	// import mode
	SendCompletionEmail bool
	ChunkBytes          int
	MaxJobs             int
	SlotWait            time.Duration

	// create mode
	RandomPassword bool
	VerifyEmail    bool
	AppClientID    string
	Concurrency    int
}

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
		Flags: concat(tenantFlags(), inputFlags(), outputFlags(), []ucli.Flag{
			&ucli.StringFlag{Name: "state", Usage: "sync state `FILE` (created on the first sync; keep it between runs)", EnvVars: []string{"A0BULK_STATE"}},
			&ucli.StringFlag{Name: "connection", Usage: "database connection `NAME`", EnvVars: []string{"A0BULK_CONNECTION"}},
			&ucli.StringFlag{Name: "mode", Value: "import", Usage: "import (bulk-import jobs with upsert) or create (per-user create/update)"},
			&ucli.StringFlag{Name: "report", Usage: "report `FILE` (default a0bulk-sync-TIME.ndjson)"},
			&ucli.BoolFlag{Name: "dry-run", Usage: "print what would be created, updated and skipped; no call to the tenant"},
			&ucli.BoolFlag{Name: "full", Usage: "ignore the state's hashes and send every valid record (the state is rewritten)"},
			// import mode
			&ucli.BoolFlag{Name: "send-completion-email", Usage: "import mode: let Auth0 email each job's completion"},
			&ucli.StringFlag{Name: "external-id", Usage: "import mode: external_id passed to every import job"},
			&ucli.IntFlag{Name: "chunk-bytes", Value: 500000, Usage: "import mode: largest import file, in bytes (at most 512000)"},
			&ucli.IntFlag{Name: "max-jobs", Value: 2, Usage: "import mode: import jobs in flight at once"},
			&ucli.DurationFlag{Name: "slot-wait", Value: 30 * time.Minute, Usage: "import mode: give up when no import slot frees up for this long"},
			// create mode
			&ucli.BoolFlag{Name: "random-password", Usage: "create mode: give new users without a password a strong random one"},
			&ucli.IntFlag{Name: "concurrency", Value: 8, Usage: "create mode: requests in flight at once"},
			&ucli.BoolFlag{Name: "verify-email", Usage: "create mode: send a verification email to each created user whose email is not verified"},
			&ucli.StringFlag{Name: "custom-domain", Usage: "create mode: send Auth0-Custom-Domain: `HOST`", EnvVars: []string{"AUTH0_CUSTOM_DOMAIN"}},
			&ucli.StringFlag{Name: "app-client-id", Usage: "create mode: application whose settings the verification email uses"},
		}),
		Action: func(c *ucli.Context) error {
			g, err := readGlobal(c)
			if err != nil {
				return err
			}
			o, err := readSyncOptions(c, s)
			if err != nil {
				return err
			}
			if o.DryRun {
				return runDrySync(c.Context, s, g, o)
			}
			return runSync(c.Context, s, g, o)
		},
	}
}

// importOnly and createOnly are the flags that mean something in one mode
// only: giving one in the other mode is a mistake worth refusing.
var (
	importOnly = []string{"send-completion-email", "external-id", "chunk-bytes", "max-jobs", "slot-wait"}
	createOnly = []string{"random-password", "concurrency", "verify-email", "custom-domain", "app-client-id"}
)

func readSyncOptions(c *ucli.Context, s *IOStreams) (syncOptions, error) {
	o := syncOptions{
		Mode:                c.String("mode"),
		StatePath:           c.String("state"),
		ReportPath:          c.String("report"),
		DryRun:              c.Bool("dry-run"),
		Full:                c.Bool("full"),
		SendCompletionEmail: c.Bool("send-completion-email"),
		ChunkBytes:          c.Int("chunk-bytes"),
		MaxJobs:             c.Int("max-jobs"),
		SlotWait:            c.Duration("slot-wait"),
		RandomPassword:      c.Bool("random-password"),
		VerifyEmail:         c.Bool("verify-email"),
		AppClientID:         c.String("app-client-id"),
		Concurrency:         c.Int("concurrency"),
	}
	// Changed users must be updated, so every sync upserts.
	o.meaning = runMeaning{Mode: "sync", Connection: c.String("connection"), Upsert: true, ExternalID: c.String("external-id")}
	if c.NArg() > 0 {
		return o, usagef("unexpected argument %q (inputs go in --input)", c.Args().First())
	}
	if err := oneOf("mode", o.Mode, "import", "create"); err != nil {
		return o, err
	}
	wrong := createOnly
	if o.Mode == "create" {
		wrong = importOnly
	}
	for _, name := range wrong {
		if onCommandLine(c, name) {
			return o, usagef("--%s does not apply to --mode %s", name, o.Mode)
		}
	}
	if o.StatePath == "" {
		return o, usagef("--state FILE is required (it is created on the first sync)")
	}
	if o.meaning.Connection == "" {
		return o, usagef("--connection is required")
	}
	if o.ChunkBytes <= 2 || o.ChunkBytes > maxImportFile {
		return o, usagef("--chunk-bytes must be between 3 and %d, got %d", maxImportFile, o.ChunkBytes)
	}
	if err := positiveInt("max-jobs", o.MaxJobs); err != nil {
		return o, err
	}
	if err := positiveInt("concurrency", o.Concurrency); err != nil {
		return o, err
	}
	mode := input.ModeImport
	if o.Mode == "create" {
		mode = input.ModeCreate
	}
	in, err := readInputOptions(c.StringSlice("input"), c.String("format"), c.String("map"), mode)
	if err != nil {
		return o, err
	}
	o.input = in
	if o.DryRun {
		// A dry run never reaches the tenant, so it needs no credentials.
		return o, nil
	}
	if o.tenant, err = readTenant(c, s); err != nil {
		return o, err
	}
	return o, nil
}
