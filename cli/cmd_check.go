package cli

import ucli "github.com/urfave/cli/v2"

// checkCommand is being written (see the open issue).
func checkCommand(s *IOStreams) *ucli.Command {
	return &ucli.Command{Name: "check", Usage: "not yet available", Action: func(*ucli.Context) error { return usagef("check is not available yet") }}
}
