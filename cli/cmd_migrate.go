package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/migrate"
	"github.com/a0bulk/a0bulk/preflight"
	"github.com/a0bulk/a0bulk/progress"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/run"
	"github.com/a0bulk/a0bulk/words"
)

func migrateCommand(s *IOStreams) *ucli.Command {
	return &ucli.Command{
		Name:      "migrate",
		Usage:     "move a database connection's users from one tenant to another: export, import, proof",
		ArgsUsage: " ",
		Description: `Exports the source connection's users (an Auth0 users-export job), imports
the file into the target connection (bulk-import jobs, as a0bulk import does,
with its report), then proves the result: the source's count, the target
connection's count afterwards (one more export job, of user_id and email
only), and every difference explained (invalid, skipped as already present,
failed, with reasons). Users keep their user_id, profile, metadata, and
verified and blocked flags.

One journalled run: the report REPORT, the export file REPORT.source.ndjson
and the journal REPORT.migrate.ndjson (all 0600). Killed at any moment,
a0bulk migrate --resume REPORT carries it on: the export is not started again
while its job or file is there (the file's sha256 is checked), and no user is
imported twice (the import report's resume).

Each tenant has its own credentials: --from-client-id / AUTH0_CLIENT_ID_FROM,
--from-client-secret / AUTH0_CLIENT_SECRET_FROM, --from-client-secret-file /
AUTH0_CLIENT_SECRET_FILE_FROM, --from-token / AUTH0_TOKEN_FROM, and the same
with to / _TO. Scopes: read:users and read:connections in the source;
create:users, read:users and read:connections in the target; both are
checked before anything is sent.

Examples:
   a0bulk migrate --from dev.eu.auth0.com --from-connection Username-Password-Authentication \
       --to prod.eu.auth0.com --to-connection Username-Password-Authentication --report move.ndjson
   a0bulk migrate --resume move.ndjson          # after a stop, a crash or exit 1`,
		Flags: concat(sideFlags(sourceTenant, "source"), sideFlags(targetTenant, "target"), outputFlags(), confirmFlags(), []ucli.Flag{
			&ucli.BoolFlag{Name: "upsert", Usage: "update target users that exist already (Auth0 overwrites their metadata); without it they are skipped"},
			&ucli.StringFlag{Name: "hashes", Usage: "the password-hash export `FILE` from Auth0 support, joined by user id"},
			&ucli.StringFlag{Name: "report", Usage: "report `FILE` (default a0bulk-migrate-TIME.ndjson); the export and the journal are kept beside it"},
			&ucli.StringFlag{Name: "resume", Usage: "continue the migrate recorded in `REPORT`"},
			&ucli.IntFlag{Name: "chunk-bytes", Value: run.DefaultChunkBytes, Usage: "largest import file, in bytes (at most 512000)"},
			&ucli.IntFlag{Name: "max-jobs", Value: run.Defaults().MaxJobs, Usage: "import jobs in flight at once (Auth0 allows 2 per tenant)"},
			&ucli.DurationFlag{Name: "slot-wait", Value: time.Duration(run.Defaults().SlotWait), Usage: "give up when no import slot frees up for this long"},
			&ucli.Float64Flag{Name: "rate", Usage: "cap requests per second to each tenant (default: learn each tenant's limit from its x-ratelimit headers)", EnvVars: []string{"A0BULK_RATE"}},
			&ucli.IntFlag{Name: "max-retries", Value: run.DefaultMaxRetries, Usage: "retries per request after a 5xx answer", EnvVars: []string{"A0BULK_MAX_RETRIES"}},
			&ucli.DurationFlag{Name: "max-wait", Value: time.Duration(run.Defaults().MaxWait), Usage: "how long continuous refusal by a tenant is waited out before the migrate stops resumably", EnvVars: []string{"A0BULK_MAX_WAIT"}},
		}),
		Action: func(c *ucli.Context) error { return runMigrate(c, s) },
	}
}

// sideFlags are the flags that reach one tenant of a migrate (what names
// it in their help: "source", "target").
func sideFlags(n tenantSide, what string) []ucli.Flag {
	return []ucli.Flag{
		&ucli.StringFlag{Name: n.flag("domain"), Usage: "the " + what + " tenant's `DOMAIN` (host:port on loopback means plain HTTP)", EnvVars: []string{n.env("AUTH0_DOMAIN")}},
		&ucli.StringFlag{Name: n.flag("connection"), Usage: "the " + what + " database connection `NAME`", EnvVars: []string{n.env("A0BULK_CONNECTION")}},
		&ucli.StringFlag{Name: n.flag("client-id"), Usage: "the " + what + " tenant's machine-to-machine application", EnvVars: []string{n.env("AUTH0_CLIENT_ID")}},
		&ucli.StringFlag{Name: n.flag("client-secret"), Usage: "its secret (prefer the -file flag or the env variable)", EnvVars: []string{n.env("AUTH0_CLIENT_SECRET")}},
		&ucli.StringFlag{Name: n.flag("client-secret-file"), Usage: "read the " + what + " client secret from `FILE`", EnvVars: []string{n.env("AUTH0_CLIENT_SECRET_FILE")}},
		&ucli.StringFlag{Name: n.flag("token"), Usage: "a ready Management API token of the " + what + " tenant", EnvVars: []string{n.env("AUTH0_TOKEN")}},
		&ucli.StringFlag{Name: n.flag("audience"), Usage: "token audience (default https://DOMAIN/api/v2/)", EnvVars: []string{n.env("AUTH0_AUDIENCE")}},
	}
}

// migrateCategories file a migrate's tenant flags under Connection.
func migrateCategories() map[string]string {
	out := map[string]string{"hashes": catInput}
	for _, n := range []tenantSide{sourceTenant, targetTenant} {
		for _, kind := range []string{"domain", "connection", "client-id", "client-secret", "client-secret-file", "token", "audience"} {
			out[n.flag(kind)] = catConnection
		}
	}
	return out
}

// runMigrate reads the flags (usage errors before anything), connects to
// both tenants and checks their tokens' scopes (exit 2, nothing sent),
// asks on a terminal, then runs the core and prints what it did.
func runMigrate(c *ucli.Context, s *IOStreams) error {
	g, err := readGlobal(c)
	if err != nil {
		return err
	}
	o, err := readMigrateOptions(c, s)
	if err != nil {
		return err
	}
	src, err := readTenantSide(c, s, sourceTenant)
	if err != nil {
		return err
	}
	dst, err := readTenantSide(c, s, targetTenant)
	if err != nil {
		return err
	}
	log := g.logger(s)
	srcClient, err := src.client(log, g.Verbose)
	if err != nil {
		return err
	}
	dstClient, err := dst.client(log, g.Verbose)
	if err != nil {
		return err
	}
	srcNeeds, dstNeeds := preflight.MigrateNeeds()
	if err := src.requireNeeds(c.Context, srcClient, srcNeeds, "a0bulk migrate needs in the source tenant "+src.Domain, s.ErrOut); err != nil {
		return err
	}
	if err := dst.requireNeeds(c.Context, dstClient, dstNeeds, "a0bulk migrate needs in the target tenant "+dst.Domain, s.ErrOut); err != nil {
		return err
	}
	if !src.Yes && s.CanPrompt() {
		if err := confirmMigrate(c.Context, s, src, dst, o); err != nil {
			return err
		}
	}
	res, err := migrate.Run(c.Context, migrateEnv(s, g, src, dst, srcClient, dstClient), o)
	return printMigrate(s, g, res, err)
}

// readMigrateOptions reads what the migrate means. With --resume the
// journal's record is the base and only what the operator gives again
// changes it (the core then refuses a change); the tenants' domains come
// from the journal too unless given.
func readMigrateOptions(c *ucli.Context, s *IOStreams) (migrate.Options, error) {
	o := migrate.Options{Version: Version}
	if c.NArg() > 0 {
		return o, usagef("unexpected argument %q", c.Args().First())
	}
	resume := c.String("resume")
	if resume != "" {
		if c.IsSet("report") {
			return o, usagef("--resume continues its report; do not give --report too")
		}
		recorded, h, err := migrate.Recorded(resume)
		if err != nil {
			return o, err
		}
		o = recorded
		o.Version = Version
		for flag, domain := range map[string]string{sourceTenant.flag("domain"): h.Source.Domain, targetTenant.flag("domain"): h.Target.Domain} {
			if !c.IsSet(flag) {
				if err := c.Set(flag, domain); err != nil {
					return o, err
				}
			}
		}
	}
	given := func(name string) bool { return resume == "" || c.IsSet(name) }
	if given(sourceTenant.flag("connection")) {
		o.FromConnection = c.String(sourceTenant.flag("connection"))
	}
	if given(targetTenant.flag("connection")) {
		o.ToConnection = c.String(targetTenant.flag("connection"))
	}
	if given("upsert") {
		o.Upsert = c.Bool("upsert")
	}
	if given("hashes") {
		o.Hashes = c.String("hashes")
	}
	o.Report = c.String("report")
	o.Settings = run.Defaults()
	readSettings(c, run.ModeImport, &o.Settings, func(string) bool { return true })
	if err := tuneSettings(run.ModeImport, &o.Settings, s.ErrOut); err != nil {
		return o, err
	}
	return o, o.Validate()
}

// migrateEnv is what the core reaches: the two clients, and the import
// run's environment over the target's (its gate checks the scopes again
// from the same token, and never asks: the question came first).
func migrateEnv(s *IOStreams, g globalOptions, src, dst tenantOptions, srcClient, dstClient *management.Client) migrate.Env {
	imp := runEnv(s, g, nil)
	imp.Target = run.TenantOf(dst.Domain, dst.ClientID, dst.Token)
	imp.Connect = func() (run.Tenant, error) { return dstClient, nil }
	dst.Yes = true
	imp.Gate = dst.gate(s, func() (tokenInfo, error) { return dstClient, nil })
	env := migrate.Env{
		Source: srcClient, Target: dstClient, SourceTenant: run.TenantOf(src.Domain, src.ClientID, src.Token), Import: imp,
		WatchJob: func() (func(*management.Job), func()) {
			w := progress.WatchJob(s.ErrOut, progress.JobOptions{Quiet: g.Quiet, Bar: s.ProgressTTY() && !g.NoProgress, Width: s.TerminalWidth})
			return func(j *management.Job) {
				w.Show(progress.JobState{ID: j.ID, Status: j.Status, Percent: j.PercentageDone, Left: j.TimeLeftSeconds})
			}, w.Stop
		},
	}
	if !g.Quiet {
		env.Notes = s.ErrOut
		env.Logf = func(format string, args ...any) { fmt.Fprintf(s.ErrOut, "a0bulk: "+format+"\n", args...) }
	}
	return env
}

// confirmMigrate shows what the migrate will do and reads the answer (a
// resume is asked too: it writes to the target).
func confirmMigrate(ctx context.Context, s *IOStreams, src, dst tenantOptions, o migrate.Options) error {
	var b strings.Builder
	fmt.Fprintf(&b, "a0bulk is about to move users between Auth0 tenants:\n")
	row := func(k, format string, args ...any) { fmt.Fprintf(&b, "  %-9s %s\n", k, fmt.Sprintf(format, args...)) }
	row("from", "%s, connection %q (an export job: read only)", tenantName(src), o.FromConnection)
	row("to", "%s, connection %q (bulk-import jobs)", tenantName(dst), o.ToConnection)
	row("existing", "%s", existingUsers(run.Intent{Upsert: o.Upsert, SendMode: run.ModeImport}))
	row("emails", "none")
	if o.Resume != "" {
		row("resume", "%s", o.Resume)
	} else if o.Report != "" {
		row("report", "%s (the export and the journal beside it)", o.Report)
	}
	return ask(ctx, s, b.String(), src.Domain+" or "+dst.Domain)
}

func tenantName(t tenantOptions) string {
	if t.ClientID != "" {
		return fmt.Sprintf("%s (client %s)", t.Domain, t.ClientID)
	}
	return t.Domain
}

// migrateOutput is the JSON of a migrate: what it did, and its exit code.
type migrateOutput struct {
	*migrate.Result
	ExitCode int `json:"exit_code"`
}

// printMigrate prints the import's summary and the proof (text, or one
// JSON object), and returns the error that decides the exit code.
func printMigrate(s *IOStreams, g globalOptions, res *migrate.Result, err error) error {
	if res == nil || (res.Import == nil && res.Proof == nil) {
		return err
	}
	code := ExitCode(err)
	if res.Import != nil {
		res.Import.ExitCode = code
	}
	if g.JSON {
		if perr := printJSON(s.Out, migrateOutput{Result: res, ExitCode: code}); perr != nil {
			return perr
		}
	} else {
		if res.Import != nil {
			if perr := printSummary(s, g, *res.Import); perr != nil {
				return perr
			}
		}
		if res.Proof != nil {
			fmt.Fprint(s.Out, proofText(res.Proof))
		}
	}
	var inc *run.IncompleteError
	if errors.As(err, &inc) {
		return errors.Join(errSilent, err) // the summary and the proof say it
	}
	return err
}

// proofText is the proof as an operator reads it.
func proofText(p *migrate.Proof) string {
	var b strings.Builder
	b.WriteString("proof:\n")
	fmt.Fprintf(&b, "  source  %s, connection %q: %s (export job %s)\n", p.Source.Domain, p.Source.Connection, words.Count(p.Source.Users, "user"), p.Source.JobID)
	fmt.Fprintf(&b, "  target  %s, connection %q: %s afterwards (count job %s: user_id and email)\n", p.Target.Domain, p.Target.Connection, words.Count(p.Target.Users, "user"), p.Target.JobID)
	here := p.Moved + p.AlreadyThere
	fmt.Fprintf(&b, "  %d of %s %s in the target under their own user_id: %d moved by this migrate, %d there already\n",
		here, words.Count(p.Source.Users, "source user"), words.Agree(here, "is", "are"), p.Moved, p.AlreadyThere)
	if d := p.Difference(); d == 0 {
		b.WriteString("  difference: none\n")
	} else {
		var why []string
		for _, part := range []struct {
			n    int
			what string
		}{
			{p.Invalid, "invalid (never sent)"},
			{p.Failed, "failed (refused by the target)"},
			{p.OtherID, "already there under another user_id (the same email)"},
			{p.Unlisted, "skipped as already present, though the target lists no such user (Auth0 still holds the email)"},
			{p.Missing, "reported imported, yet not in the target"},
			{p.Unsettled, "not settled (the import did not end)"},
		} {
			if part.n > 0 {
				why = append(why, fmt.Sprintf("%d %s", part.n, part.what))
			}
		}
		fmt.Fprintf(&b, "  difference: %s not in the target under their own user_id: %s\n", words.Count(d, "source user"), strings.Join(why, ", "))
		printReasonsIndented(&b, p.Reasons)
		for _, e := range p.Examples {
			fmt.Fprintf(&b, "    e.g. %s\n", e)
		}
	}
	if p.NotFromSource > 0 {
		fmt.Fprintf(&b, "  %s of the target %s not from the source (there before, or added meanwhile)\n",
			words.Count(p.NotFromSource, "user"), words.Agree(p.NotFromSource, "is", "are"))
	}
	return b.String()
}

// printReasonsIndented is printReasons under the proof's difference.
func printReasonsIndented(b *strings.Builder, reasons []report.Reason) {
	for _, r := range reasons {
		fmt.Fprintf(b, "    %d %s %s, e.g. %s\n", r.Count, r.Status, r.Code, r.Example)
	}
}
