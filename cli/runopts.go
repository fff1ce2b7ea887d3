package cli

import (
	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/input"
)

// runOptions are what import and create share: where to read, what the run
// means, where its report goes (or which report it resumes), and the tenant.
type runOptions struct {
	tenant     tenantOptions
	input      inputOptions
	meaning    runMeaning
	extra      map[string]string // flags recorded in the report header
	ReportPath string
	Resume     *resumable
	DryRun     bool
}

// readRunOptions reads them, restoring first whatever a resumed report
// recorded, so the command's own options see the same values too.
func readRunOptions(c *ucli.Context, s *IOStreams, mode string, inMode input.Mode) (runOptions, error) {
	var o runOptions
	if c.NArg() > 0 {
		return o, usagef("unexpected argument %q (inputs go in --input)", c.Args().First())
	}
	if path := c.String("resume"); path != "" {
		if c.String("report") != "" {
			return o, usagef("--resume appends to its report; do not give --report too")
		}
		res, err := loadResume(c, path, mode)
		if err != nil {
			return o, err
		}
		o.Resume = res
	}
	o.meaning = runMeaning{Mode: mode, Connection: c.String("connection"), Upsert: c.Bool("upsert"), ExternalID: c.String("external-id")}
	o.ReportPath, o.DryRun = c.String("report"), c.Bool("dry-run")
	in, err := readInputOptions(c.StringSlice("input"), c.String("format"), c.String("map"), inMode)
	if err != nil {
		return o, err
	}
	o.input = in
	if o.meaning.Connection == "" {
		return o, usagef("--connection is required")
	}
	o.extra = headerFlags(c, mode)
	if o.tenant, err = readTenant(c, s); err != nil {
		return o, err
	}
	return o, nil
}
