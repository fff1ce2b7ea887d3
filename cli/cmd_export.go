package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/export"
	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/preflight"
	"github.com/a0bulk/a0bulk/progress"
	"github.com/a0bulk/a0bulk/words"
)

// exportTimeout: Auth0 documented that export jobs time out after 8 hours.
const exportTimeout = 8 * time.Hour

func exportCommand(s *IOStreams) *ucli.Command {
	return &ucli.Command{
		Name:      "export",
		Usage:     "export a connection's users (an Auth0 users-export job) to a file or stdout",
		ArgsUsage: " ",
		Description: `Starts an Auth0 users-export job for the connection, waits for it, downloads
its file at once from the short-lived link the job gives (a failed or expired
download reads the job again for a fresh link, a few times), and writes it to
--out (mode 0600; it must not exist: it appears only once the file is whole
and checked) or to stdout, gunzipped unless --gzip. json is NDJSON, one user
per line, ready for a0bulk import --format ndjson (which strips the auth0|
prefix Auth0 adds back). Exports never carry password hashes.

Default fields: json takes everything the import schema can take back
(email, email_verified, phone_number, phone_verified, user_id, username,
given_name, family_name, name, nickname, picture, blocked, app_metadata,
user_metadata) plus created_at and identities; csv the same without the
metadata objects and identities (CSV carries metadata only field by field:
--fields user_metadata.KEY). At most 30 fields. Needs the scopes read:users
and read:connections. The summary goes to stderr.

Examples:
   a0bulk export --connection Username-Password-Authentication --out users.ndjson
   a0bulk export --connection DB --format csv --fields email,user_metadata.plan:plan --limit 100
   a0bulk export --connection DB --gzip --out users.ndjson.gz`,
		Flags: concat(tenantFlags(), outputFlags(), []ucli.Flag{
			&ucli.StringFlag{Name: "connection", Usage: "the connection `NAME` whose users to export", EnvVars: []string{"A0BULK_CONNECTION"}},
			&ucli.StringFlag{Name: "format", Value: "json", Usage: "json (NDJSON, one user per line) or csv"},
			&ucli.StringFlag{Name: "fields", Usage: "comma-separated `LIST` of fields, each NAME or NAME:EXPORT_AS (e.g. email,identities[0].connection:provider)"},
			&ucli.IntFlag{Name: "limit", DefaultText: "all", Usage: "export at most `N` users"},
			&ucli.StringFlag{Name: "out", Usage: "write to `FILE` (0600; must not exist); - or none: stdout"},
			&ucli.BoolFlag{Name: "gzip", Usage: "keep the file gzip-compressed, as Auth0 serves it"},
			&ucli.DurationFlag{Name: "timeout", Value: exportTimeout, Usage: "give up (exit 1; the job goes on) after this long"},
		}),
		Action: func(c *ucli.Context) error {
			g, err := readGlobal(c)
			if err != nil {
				return err
			}
			o, err := readExportOptions(c, s)
			if err != nil {
				return err
			}
			if o.API, err = connectFor(c, s, g, preflight.Use{Command: "export"}); err != nil {
				return err
			}
			res, err := runExport(c.Context, s, g, o, c.Duration("timeout"))
			if err != nil {
				return err
			}
			return printExport(s, g, o, res)
		},
	}
}

// readExportOptions reads and checks the flags: every error is a usage
// error, found before any call to the tenant.
func readExportOptions(c *ucli.Context, s *IOStreams) (export.Options, error) {
	o := export.Options{Connection: c.String("connection"), Format: c.String("format"), Limit: c.Int("limit"),
		Out: c.String("out"), Gzip: c.Bool("gzip"), Stdout: s.Out}
	if c.NArg() > 0 {
		return o, usagef("unexpected argument %q", c.Args().First())
	}
	if c.IsSet("fields") {
		fields, err := export.ParseFields(c.String("fields"))
		if err != nil {
			return o, usagef("%w", err)
		}
		o.Fields = fields
	}
	if c.Duration("timeout") <= 0 {
		return o, usagef("--timeout must be positive")
	}
	if err := o.Validate(); err != nil {
		return o, usagef("%w", err)
	}
	if o.Out == "" && o.Gzip && s.StdoutTTY() {
		return o, usagef("--gzip writes binary: give --out FILE, or pipe stdout")
	}
	return o, nil
}

// runExport runs the core, showing the job's progress on stderr like
// `jobs wait`, and says what --timeout stopped.
func runExport(ctx context.Context, s *IOStreams, g globalOptions, o export.Options, timeout time.Duration) (export.Result, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errWaitTimedOut)
	defer cancel()
	watch := progress.WatchJob(s.ErrOut, progress.JobOptions{Quiet: g.Quiet, Bar: s.ProgressTTY() && !g.NoProgress, Width: s.TerminalWidth})
	o.OnJob = func(j *management.Job) {
		watch.Show(progress.JobState{ID: j.ID, Status: j.Status, Percent: j.PercentageDone, Left: j.TimeLeftSeconds})
	}
	if !g.Quiet {
		o.Logf = func(format string, args ...any) { fmt.Fprintf(s.ErrOut, "a0bulk: "+format+"\n", args...) }
	}
	res, err := export.Run(ctx, o)
	watch.Stop()
	if err != nil && errors.Is(context.Cause(ctx), errWaitTimedOut) {
		return res, fmt.Errorf("gave up after %s (--timeout; nothing was written): %w", timeout, err)
	}
	return res, err
}

// exportOutput is the JSON summary of an export.
type exportOutput struct {
	JobID      string `json:"job_id"`
	Connection string `json:"connection"`
	Format     string `json:"format"`
	Gzip       bool   `json:"gzip"`
	Users      int    `json:"users"`
	Bytes      int64  `json:"bytes"`
	Out        string `json:"out,omitempty"`
	Downloads  int    `json:"downloads"`
}

// printExport says what was exported: on stderr (stdout may be the file
// itself), or with --output json on stdout when the file went to --out.
func printExport(s *IOStreams, g globalOptions, o export.Options, res export.Result) error {
	if g.JSON {
		w := s.ErrOut
		if res.Out != "" {
			w = s.Out
		}
		return printJSON(w, exportOutput{JobID: res.JobID, Connection: res.Connection, Format: res.Format, Gzip: o.Gzip,
			Users: res.Users, Bytes: res.Bytes, Out: res.Out, Downloads: res.Downloads})
	}
	dst := "stdout"
	if res.Out != "" {
		dst = res.Out
	}
	form := res.Format
	if o.Gzip {
		form += ", gzip"
	}
	fmt.Fprintf(s.ErrOut, "a0bulk export: %s of %s (job %s) written to %s (%s, %s)\n",
		words.Count(res.Users, "user"), res.Connection, res.JobID, dst, form, words.Count(int(res.Bytes), "byte"))
	return nil
}
