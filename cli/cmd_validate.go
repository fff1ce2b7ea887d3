package cli

import (
	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/report"
	"github.com/a0bulk/a0bulk/run"
)

func validateCommand(s *IOStreams) *ucli.Command {
	return &ucli.Command{
		Name:  "validate",
		Usage: "check input offline: parse, validate, and plan the import files",
		Description: `Reads the input exactly as import and create would, reports every invalid record
by file:line:field, and prints how many import jobs (of at most --chunk-bytes)
the valid records need. Nothing is sent anywhere. Exit 0 when every record is
valid, 3 when some are invalid.

Examples:
   a0bulk validate --input users.csv
   a0bulk validate --input export.ndjson --output json
   a0bulk validate --input export.ndjson --hashes hashes.ndjson   # and the password-hash join's counts`,
		Flags: concat(inputFlags(), hashFlags(), outputFlags(), []ucli.Flag{
			&ucli.IntFlag{Name: "chunk-bytes", Value: run.DefaultChunkBytes, Usage: "largest import file, in bytes (at most 512000)"},
			&ucli.BoolFlag{Name: "create", Usage: "validate for create mode (plaintext password column allowed)"},
		}),
		Action: func(c *ucli.Context) error {
			g, err := readGlobal(c)
			if err != nil {
				return err
			}
			limit := c.Int("chunk-bytes")
			if limit <= 2 || limit > maxImportFile {
				return usagef("--chunk-bytes must be between 3 and %d, got %d", maxImportFile, limit)
			}
			mode := input.ModeImport
			if c.Bool("create") {
				mode = input.ModeCreate
			}
			s.typingUsers(c.StringSlice("input"))
			how := report.Settings{Format: c.String("format"), Map: c.String("map"), Delimiter: c.String("delimiter"), ChunkBytes: limit}
			readHashes(c, &how, func(string) bool { return true })
			plan, err := run.ValidateAs(c.Context, runEnv(s, g, nil), c.StringSlice("input"), how, mode)
			if err != nil {
				return err
			}
			return printImportPlan(s, g, plan, limit)
		},
	}
}
