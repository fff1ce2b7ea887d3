package cli

import (
	"errors"
	"io"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/management"
	"github.com/a0bulk/a0bulk/progress"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/run"
)

// maxImportFile is Auth0's cap on an import file (facts: 500 KB, treated as
// 512,000 bytes).
const maxImportFile = 512000

// migrateAction is import's and create's Action: read the spec and the
// tenant, then a dry run (printed by printPlan) or the run.
func migrateAction(c *ucli.Context, s *IOStreams, mode run.Mode, printPlan func(globalOptions, run.Spec, *run.Plan) error) error {
	g, err := readGlobal(c)
	if err != nil {
		return err
	}
	spec, err := readSpec(c, mode, s.ErrOut)
	if err != nil {
		return err
	}
	s.typingUsers(spec.Inputs)
	t, err := readTenant(c, s)
	if err != nil {
		return err
	}
	t = t.paced(spec.Settings)
	env := runEnv(s, g, &t)
	if c.Bool("dry-run") {
		plan, err := run.DryRun(c.Context, env, spec, nil)
		if err != nil {
			return err
		}
		return printPlan(g, spec, plan)
	}
	sum, err := run.Run(c.Context, env, spec)
	return printed(s, g, sum, err)
}

// readSpec reads an import or create run's spec from its flags. With
// --resume the report's recorded spec is the base, and only what the
// operator gives again changes it; the core then refuses any change to what
// the run means (connection, upsert, inputs, how they are read).
func readSpec(c *ucli.Context, mode run.Mode, warn io.Writer) (run.Spec, error) {
	spec := run.Spec{Mode: mode}
	if c.NArg() > 0 {
		return spec, usagef("unexpected argument %q (inputs go in --input)", c.Args().First())
	}
	resume, retry := c.String("resume"), c.String("retry-failed")
	switch {
	case resume != "" && retry != "":
		return spec, usagef("give --resume or --retry-failed, not both (a retry resumes its report first)")
	case (resume != "" || retry != "") && c.String("report") != "":
		return spec, usagef("--resume and --retry-failed append to their report; do not give --report too")
	case resume != "":
		recorded, err := run.Recorded(resume, mode)
		if err != nil {
			return spec, err
		}
		spec = recorded
	case retry != "":
		recorded, err := run.RecordedRetry(retry, mode)
		if err != nil {
			return spec, err
		}
		spec, resume = recorded, retry
	}
	// given: a fresh run reads every flag (defaults included); a resume only
	// those set, keeping the recorded value of the others.
	given := func(name string) bool { return resume == "" || c.IsSet(name) }
	if given("connection") {
		spec.Connection = c.String("connection")
	}
	if given("upsert") {
		spec.Upsert = c.Bool("upsert")
	}
	if given("input") {
		spec.Inputs = c.StringSlice("input")
	}
	if given("format") {
		spec.Format = c.String("format")
	}
	if given("map") {
		spec.Map = c.String("map")
	}
	if given("delimiter") {
		spec.Delimiter = c.String("delimiter")
	}
	if mode == run.ModeImport && given("external-id") {
		spec.ExternalID = c.String("external-id")
	}
	readSettings(c, mode, &spec.Settings, given)
	readHashes(c, &spec.Settings, given)
	spec.ReportPath = c.String("report")
	if spec.Connection == "" {
		return spec, usagef("--connection is required")
	}
	return spec, tuneSettings(mode, &spec.Settings, warn)
}

// readSettings reads the tuning flags of mode into st where given says so.
func readSettings(c *ucli.Context, mode run.Mode, st *report.Settings, given func(string) bool) {
	ints := map[string]*int{"max-retries": &st.MaxRetries}
	bools := map[string]*bool{}
	strs := map[string]*string{}
	if given("rate") {
		st.Rate = c.Float64("rate")
	}
	if given("max-wait") {
		st.MaxWait = report.Duration(c.Duration("max-wait"))
	}
	switch mode {
	case run.ModeImport:
		ints["chunk-bytes"], ints["max-jobs"] = &st.ChunkBytes, &st.MaxJobs
		bools["send-completion-email"] = &st.SendCompletionEmail
		if given("slot-wait") {
			st.SlotWait = report.Duration(c.Duration("slot-wait"))
		}
	case run.ModeCreate:
		ints["concurrency"] = &st.Concurrency
		bools["random-password"], bools["verify-email"] = &st.RandomPassword, &st.VerifyEmail
		strs["custom-domain"], strs["app-client-id"] = &st.CustomDomain, &st.AppClientID
	}
	for name, p := range ints {
		if given(name) {
			*p = c.Int(name)
		}
	}
	for name, p := range bools {
		if given(name) {
			*p = c.Bool(name)
		}
	}
	for name, p := range strs {
		if given(name) {
			*p = c.String(name)
		}
	}
}

// paced gives the tenant options the spec's pacing: a resume restores them.
func (t tenantOptions) paced(st report.Settings) tenantOptions {
	t.Rate, t.MaxRetries, t.MaxWait, t.CustomDomain = st.Rate, st.MaxRetries, time.Duration(st.MaxWait), st.CustomDomain
	return t
}

// runEnv is what the core reaches outside itself, from this process.
func runEnv(s *IOStreams, g globalOptions, t *tenantOptions) run.Env {
	log := g.logger(s)
	env := run.Env{
		Stdin: s.In, Notes: s.ErrOut, Log: log, Version: Version,
		Grace: stopGrace, Abort: s.abort,
		Progress: func(task run.Task) run.Progress {
			return s.showing(progress.New(s.ErrOut, progress.Options{
				Command: task.Command, TotalBytes: task.TotalBytes, BytesRead: task.BytesRead,
				ReadDone: task.ReadDone, Done: int64(task.Done),
				Quiet: g.Quiet, Bar: s.ProgressTTY() && !g.NoProgress, Width: s.TerminalWidth,
			}))
		},
	}
	if t != nil {
		env.Target = run.TenantOf(t.Domain, t.ClientID, t.Token)
		// One client: the gate's token is the run's.
		var client *management.Client
		connect := func() (*management.Client, error) {
			if client != nil {
				return client, nil
			}
			c, err := t.client(log, g.Verbose)
			client = c
			return c, err
		}
		env.Connect = func() (run.Tenant, error) {
			c, err := connect()
			if err != nil {
				return nil, err
			}
			return c, nil
		}
		env.Gate = t.gate(s, func() (tokenInfo, error) { return connect() })
	}
	return env
}

// printed prints a run's summary, when it got far enough to have one, and
// returns the error that decides the exit code.
func printed(s *IOStreams, g globalOptions, sum *run.Summary, err error) error {
	if sum == nil {
		return err
	}
	sum.ExitCode = ExitCode(err)
	if perr := printSummary(s, g, *sum); perr != nil {
		return perr
	}
	var inc *run.IncompleteError
	if errors.As(err, &inc) {
		// The summary already says it.
		return errors.Join(errSilent, err)
	}
	return err
}

func concat(groups ...[]ucli.Flag) []ucli.Flag {
	var out []ucli.Flag
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}
