// Package cli wires a0bulk's commands: flags → an options struct → run(ctx,
// opts) over the library packages. Nothing here does the work itself, and
// nothing imports this package.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/a0bulk/a0bulk/run"
	ucli "github.com/urfave/cli/v2"
)

// Version is set at build time (-ldflags "-X github.com/a0bulk/a0bulk/cli.Version=…").
var Version = "dev"

// Main runs a0bulk with args and returns the process exit code.
func Main(args []string, s *IOStreams) int {
	// With --output json an error is JSON on stdout, unless the run
	// already printed its (JSON) summary there.
	stdout := &countingWriter{w: s.Out}
	orig := s.Out
	s.Out = stdout
	defer func() { s.Out = orig }()
	app := NewApp(s)
	known := knownSettings(app)
	// The environment as given, before the config file adds to it.
	warnUnknownEnv(os.Environ(), known, s.ErrOut)
	withConfig, err := loadConfigFile(args, s, known)
	if err != nil {
		return reportError(s, args, app, stdout, err)
	}
	args = withConfig
	ctx, sig := signalContext(context.Background(), s)
	defer sig.stop()

	unknown := ""
	app.CommandNotFound = func(c *ucli.Context, name string) { unknown = name }
	if !completing(args) {
		// Completion asks with the words as typed (urfave reads os.Args).
		args = interspersed(app, args)
	}
	err = app.RunContext(ctx, args)
	if unknown != "" && err == nil {
		err = usagef("unknown command %q (see a0bulk --help)", unknown)
	}
	if got := sig.received(); got != 0 && err != nil {
		var se *SignalError
		if errors.As(err, &se) {
			se.Signal = got
		} else {
			err = &SignalError{Signal: got}
		}
	}
	return reportError(s, args, app, stdout, err)
}

// reportError prints err, if it was not shown already, and returns the
// exit code: text on stderr, or with --output json an errorJSON on stdout
// when nothing else was printed there.
func reportError(s *IOStreams, args []string, app *ucli.App, stdout *countingWriter, err error) int {
	code := ExitCode(err)
	if err == nil || errors.Is(err, errSilent) {
		return code
	}
	if wantsJSON(args) && stdout.n == 0 {
		var names []string
		if app != nil {
			for _, c := range app.Commands {
				names = append(names, c.Name)
			}
		}
		if perr := printJSON(stdout.w, newErrorJSON(err, code, commandOf(args, names))); perr == nil {
			return code
		}
	}
	fmt.Fprintln(s.ErrOut, "a0bulk:", renderError(err))
	return code
}

// errSilent marks an error whose message was already shown (the summary of an
// incomplete run, a help page for an unknown command).
var errSilent = errors.New("")

// NewApp builds the command tree.
func NewApp(s *IOStreams) *ucli.App {
	// -v means --verbose here, as in most tools; the version is --version.
	// Both are added by urfave after categorize: they carry their heading.
	ucli.VersionFlag = &ucli.BoolFlag{Name: "version", Usage: "print the version", Category: catOutput}
	ucli.HelpFlag = &ucli.BoolFlag{Name: "help", Aliases: []string{"h"}, Usage: "show help", Category: catOutput}
	app := &ucli.App{
		Name:    "a0bulk",
		Usage:   "move users into an Auth0 tenant in bulk, safely enough for cron",
		Version: Version,
		Description: `Streams users from CSV, JSON arrays or NDJSON, validates each record, and
imports them as bulk-import jobs (import) or per-user creates (create), with a
resumable NDJSON report of every record's outcome.

Try it with no Auth0 account:
   a0bulk sandbox &                                   # a local tenant on 127.0.0.1:8787
   a0bulk import --domain 127.0.0.1:8787 --client-id x --client-secret y \
       --connection Username-Password-Authentication --input fixtures/small.csv

Exit codes: 0 all records succeeded, 1 the run could not complete, 2 usage or
configuration error, 3 completed with invalid or failed records, 130/143
stopped by SIGINT/SIGTERM (resumable).`,
		Reader:    s.In,
		Writer:    s.Out,
		ErrWriter: s.ErrOut,
		// The hidden --generate-bash-completion flag behind the scripts of
		// `a0bulk completion` (our help command replaces urfave's).
		EnableBashCompletion: true,
		HideHelpCommand:      true,
		// Flag errors must become exit 2, before any call to the tenant.
		OnUsageError: func(c *ucli.Context, err error, _ bool) error {
			return &run.UsageError{Err: err}
		},
		ExitErrHandler: func(*ucli.Context, error) {}, // exit codes are ours (ExitCode)
		// The contract's global flags work before the command name too.
		Flags: append(outputFlags(), &ucli.StringFlag{
			Name: "config", Usage: "read AUTH0_…=value / A0BULK_…=value lines from `FILE` (env and flags win over it)", EnvVars: []string{"A0BULK_CONFIG"},
		}),
		// A file name may hold a comma: --input "users, march.csv" is one file.
		DisableSliceFlagSeparator: true,
		Commands: []*ucli.Command{
			importCommand(s),
			createCommand(s),
			verifyCommand(s),
			syncCommand(s),
			checkCommand(s),
			jobsCommand(s),
			exportCommand(s),
			migrateCommand(s),
			validateCommand(s),
			reportCommand(s),
			sandboxCommand(s),
			completionCommand(s),
			helpCommand(),
		},
	}
	for _, cmd := range app.Commands {
		setUsageHandler(cmd)
	}
	// urfave adds --help only while no command is named help; ours is.
	app.Flags = append(app.Flags, ucli.HelpFlag)
	categorize(app)
	return app
}

// completing reports whether args ask for shell completion.
func completing(args []string) bool {
	return len(args) > 0 && args[len(args)-1] == completionFlag
}

func setUsageHandler(cmd *ucli.Command) {
	cmd.OnUsageError = func(c *ucli.Context, err error, _ bool) error { return &run.UsageError{Err: err} }
	for _, sub := range cmd.Subcommands {
		setUsageHandler(sub)
	}
}
