package cli

import (
	"slices"
	"strings"

	ucli "github.com/urfave/cli/v2"
)

// Flag categories: `a0bulk COMMAND --help` lists the flags under these
// headings (urfave/cli sorts them by name).
const (
	catConnection = "Connection" // which tenant, with which credentials, which connection
	catInput      = "Input"      // what is read
	catRun        = "Run"        // what the run does
	catTuning     = "Tuning"     // pace, limits and patience
	catOutput     = "Output"     // what is written, and how much is said
	// The sandbox's own flags describe the tenant it plays.
	catSandboxTenant = "Sandbox tenant"
	catSandboxFaults = "Sandbox faults"
)

// flagCategory files every flag under a heading, by name. The categories
// are kept here, not on each flag, so that a command's file only says what
// its flags do; TestEveryFlagHasACategory fails for a flag missing here.
var flagCategory = map[string]string{
	"domain": catConnection, "client-id": catConnection, "client-secret": catConnection,
	"client-secret-file": catConnection, "token": catConnection, "audience": catConnection,
	"config": catConnection, "connection": catConnection,

	"input": catInput, "format": catInput, "map": catInput, "delimiter": catInput,
	"state": catInput, "hashes": catInput, "hashes-by": catInput,

	"upsert": catRun, "send-completion-email": catRun, "external-id": catRun,
	"dry-run": catRun, "resume": catRun, "retry-failed": catRun, "random-password": catRun,
	"verify-email": catRun, "custom-domain": catRun, "app-client-id": catRun,
	"mode": catRun, "full": catRun, "for": catRun, "create": catRun, "yes": catRun,
	"min-records": catRun, "allow-shrink": catRun, "fields": catRun, "limit": catRun,

	"rate": catTuning, "max-retries": catTuning, "max-wait": catTuning,
	"chunk-bytes": catTuning, "max-jobs": catTuning, "slot-wait": catTuning,
	"concurrency": catTuning, "timeout": catTuning,

	"output": catOutput, "quiet": catOutput, "no-progress": catOutput, "verbose": catOutput,
	"log-format": catOutput, "report": catOutput, "out": catOutput, "gzip": catOutput,
	"help": catOutput, "version": catOutput,
}

// commandFlagCategory overrides flagCategory where a command's flag of the
// same name means something else.
var commandFlagCategory = map[string]map[string]string{
	// verify reads a run's report; it writes its own lines to it.
	"verify": {"report": catInput},
	// export's format is the file it writes.
	"export": {"format": catOutput},
	// migrate reaches two tenants, each with its own flags.
	"migrate": migrateCategories(),
	"sandbox": {
		"addr": catSandboxTenant, "addr-file": catSandboxTenant, "plan": catSandboxTenant,
		"rate": catSandboxTenant, "burst": catSandboxTenant, "job-delay": catSandboxTenant,
		"max-jobs": catSandboxTenant, "client-id": catSandboxTenant, "client-secret": catSandboxTenant,
		"scopes": catSandboxTenant, "custom-domain": catSandboxTenant, "token-lifetime": catSandboxTenant,
		"users": catSandboxTenant, "lean": catSandboxTenant, "hash-export": catSandboxTenant,
	},
}

// sandboxFaultPrefixes: every other sandbox flag whose name starts so is a
// fault to inject.
var sandboxFaultPrefixes = []string{"seed", "fault-", "storm-", "drain-", "token-reset", "fail-", "hold-", "empty-errors"}

// categorize files the app's flags, and those of every command and
// subcommand, under their headings.
func categorize(app *ucli.App) {
	for _, f := range app.Flags {
		setCategory(f, categoryOf("", f.Names()[0]))
		if fileFlags[f.Names()[0]] {
			setTakesFile(f)
		}
	}
	var walk func([]*ucli.Command)
	walk = func(cmds []*ucli.Command) {
		for _, cmd := range cmds {
			// urfave files its own --help too late for a command's headings.
			if !cmd.HideHelp && !slices.Contains(cmd.Flags, ucli.HelpFlag) {
				cmd.Flags = append(cmd.Flags, ucli.HelpFlag)
			}
			for _, f := range cmd.Flags {
				name := f.Names()[0]
				setCategory(f, categoryOf(cmd.Name, name))
				if fileFlags[name] {
					setTakesFile(f)
				}
			}
			walk(cmd.Subcommands)
		}
	}
	walk(app.Commands)
}

func categoryOf(command, flag string) string {
	if c, ok := commandFlagCategory[command][flag]; ok {
		return c
	}
	if command == "sandbox" {
		for _, p := range sandboxFaultPrefixes {
			if strings.HasPrefix(flag, p) {
				return catSandboxFaults
			}
		}
	}
	return flagCategory[flag]
}

// setCategory sets f's Category, which urfave/cli keeps as a field of each
// flag type rather than behind an interface. It reports false for a type
// it does not know, which TestEveryFlagHasACategory catches.
func setCategory(f ucli.Flag, cat string) bool {
	switch f := f.(type) {
	case *ucli.StringFlag:
		f.Category = cat
	case *ucli.BoolFlag:
		f.Category = cat
	case *ucli.IntFlag:
		f.Category = cat
	case *ucli.Int64Flag:
		f.Category = cat
	case *ucli.Float64Flag:
		f.Category = cat
	case *ucli.DurationFlag:
		f.Category = cat
	case *ucli.StringSliceFlag:
		f.Category = cat
	case *ucli.PathFlag:
		f.Category = cat
	case *ucli.UintFlag:
		f.Category = cat
	default:
		return false
	}
	return true
}

// fileFlags take a file name: shell completion offers files for them.
var fileFlags = map[string]bool{
	"input": true, "map": true, "report": true, "resume": true, "retry-failed": true,
	"config": true, "client-secret-file": true, "state": true, "out": true,
	"addr-file": true, "users": true, "hashes": true, "hash-export": true,
	"from-client-secret-file": true, "to-client-secret-file": true,
}

func setTakesFile(f ucli.Flag) {
	switch f := f.(type) {
	case *ucli.StringFlag:
		f.TakesFile = true
	case *ucli.StringSliceFlag:
		f.TakesFile = true
	case *ucli.PathFlag:
		f.TakesFile = true
	}
}

// helpCommand is `a0bulk help [COMMAND [SUBCOMMAND]]`: the same page as
// `a0bulk COMMAND --help`. urfave's own help command cannot reach a
// subcommand (`help jobs wait`) and answers an unknown topic with exit 3.
func helpCommand() *ucli.Command {
	return &ucli.Command{
		Name:            "help",
		Usage:           "show the help of a command: a0bulk help import",
		ArgsUsage:       "[COMMAND [SUBCOMMAND]]",
		HideHelp:        true,
		SkipFlagParsing: true,
		Action: func(c *ucli.Context) error {
			// The topic ends at the first flag (help import -o json).
			path := c.Args().Slice()
			if i := slices.IndexFunc(path, func(a string) bool { return strings.HasPrefix(a, "-") }); i >= 0 {
				path = path[:i]
			}
			cmds := c.App.Commands
			for i, name := range path {
				cmd := findCommand(cmds, name)
				if cmd == nil || name == "help" {
					return usagef("no help for %q: no such command (a0bulk help lists them)", strings.Join(path[:i+1], " "))
				}
				cmds = cmd.Subcommands
			}
			args := append(append([]string{c.App.Name}, path...), "--help")
			return c.App.RunContext(c.Context, args)
		},
	}
}
