package cli

import (
	"strings"

	ucli "github.com/urfave/cli/v2"
)

// interspersed moves a command's flags before its positional arguments.
// urfave/cli v2 stops reading flags at the first positional argument, but
// the contract writes `a0bulk jobs wait ID --timeout D`, and people type
// flags after a job id or a report path. Flags that take a value keep it;
// "--" ends the flags as usual.
func interspersed(app *ucli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	// Walk down the command path: app flags (and their values) stay first.
	cmds := app.Commands
	flags := app.Flags
	for len(rest) > 0 {
		a := rest[0]
		if strings.HasPrefix(a, "-") {
			n := flagSpan(flags, rest)
			out = append(out, rest[:n]...)
			rest = rest[n:]
			continue
		}
		cmd := findCommand(cmds, a)
		if cmd == nil {
			break
		}
		out = append(out, a)
		rest = rest[1:]
		if cmd.SkipFlagParsing { // its arguments are all positional (help)
			return append(out, rest...)
		}
		if len(cmd.Subcommands) == 0 {
			return append(out, reorder(cmd.Flags, rest)...)
		}
		cmds, flags = cmd.Subcommands, cmd.Flags
	}
	return append(out, rest...)
}

// reorder puts flags (with their values) before positionals.
func reorder(flags []ucli.Flag, args []string) []string {
	var fl, pos []string
	for i := 0; i < len(args); {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && a != "-":
			n := flagSpan(flags, args[i:])
			fl = append(fl, args[i:i+n]...)
			i += n
		default:
			pos = append(pos, a)
			i++
		}
	}
	if len(pos) > 0 {
		fl = append(fl, "--")
	}
	return append(fl, pos...)
}

// flagSpan says how many arguments the flag at args[0] takes up: 2 when it
// needs a value given separately, else 1.
func flagSpan(flags []ucli.Flag, args []string) int {
	name := strings.TrimLeft(args[0], "-")
	if strings.Contains(name, "=") || len(args) < 2 {
		return 1
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if _, isBool := f.(*ucli.BoolFlag); isBool {
				return 1
			}
			return 2
		}
	}
	return 1
}

func findCommand(cmds []*ucli.Command, name string) *ucli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}
