package cli

import ucli "github.com/urfave/cli/v2"

// syncCommand is being written (see the open issue).
func syncCommand(s *IOStreams) *ucli.Command {
	return &ucli.Command{Name: "sync", Usage: "not yet available", Action: func(*ucli.Context) error { return usagef("sync is not available yet") }}
}
