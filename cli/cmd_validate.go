package cli

import (
	"context"
	"errors"
	"fmt"

	ucli "github.com/urfave/cli/v2"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/pipeline"
)

// importPlan is what `validate` and `import --dry-run` print: what the run
// would send, and how the estimate was made.
type importPlan struct {
	Records    int             `json:"records"`
	Valid      int             `json:"valid"`
	Invalid    int             `json:"invalid"`
	Jobs       int             `json:"jobs"`
	ChunkBytes []int           `json:"chunk_bytes"`
	Limit      int             `json:"chunk_limit"`
	Fill       float64         `json:"fill"`
	Problems   []recordProblem `json:"invalid_records,omitempty"`
	Connection string          `json:"connection,omitempty"`
	Estimate   string          `json:"estimate"`
}

type recordProblem struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// maxListedProblems keeps the plan readable; the count is always exact.
const maxListedProblems = 1000

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
   a0bulk validate --input export.ndjson --output json`,
		Flags: concat(inputFlags(), outputFlags(), []ucli.Flag{
			&ucli.IntFlag{Name: "chunk-bytes", Value: 500000, Usage: "largest import file, in bytes (at most 512000)"},
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
			in, err := readInputOptions(c.StringSlice("input"), c.String("format"), c.String("map"), mode)
			if err != nil {
				return err
			}
			plan, err := planImport(c.Context, s, in, limit)
			if err != nil {
				return err
			}
			return plan.print(s, g)
		},
	}
}

// planImport reads and validates every record and chunks the valid ones,
// keeping only the chunk sizes (constant memory).
func planImport(ctx context.Context, s *IOStreams, in inputOptions, limit int) (*importPlan, error) {
	plan := &importPlan{Limit: limit}
	chunker := input.NewChunker(limit, 1)
	add := func(c *input.Chunk) {
		if c != nil {
			plan.ChunkBytes = append(plan.ChunkBytes, len(c.Body))
		}
	}
	err := in.stream(ctx, s, nil, func(rec input.Record) error {
		plan.Records++
		if rec.Valid() && in.Mode == input.ModeImport {
			full, err := chunker.Add(rec)
			if errors.Is(err, input.ErrRecordTooLarge) {
				rec.Errors = append(rec.Errors, input.FieldError{Reason: fmt.Sprintf("larger than the %d-byte import file limit", limit)})
			} else if err != nil {
				return err
			}
			add(full)
		}
		if !rec.Valid() {
			plan.Invalid++
			if len(plan.Problems) < maxListedProblems {
				plan.Problems = append(plan.Problems, recordProblem{File: rec.File, Line: rec.Line, Reason: pipeline.Describe(rec.Errors)})
			}
			return nil
		}
		plan.Valid++
		return nil
	})
	if err != nil {
		return nil, err
	}
	add(chunker.Flush())
	plan.Jobs = len(plan.ChunkBytes)
	plan.Fill = fill(plan.ChunkBytes, limit)
	plan.Estimate = fmt.Sprintf("%s of at most %d bytes; Auth0 runs at most 2 at once per tenant, so the run takes about %s of job processing time (Auth0 publishes no job speed: time one job of this size to turn this into minutes)",
		plural(plan.Jobs, "import job"), limit, plural((plan.Jobs+1)/2, "round"))
	return plan, nil
}

// fill is the average size of all chunks but the last, over the limit: the
// last is whatever is left and says nothing about packing.
func fill(sizes []int, limit int) float64 {
	if len(sizes) < 2 {
		if len(sizes) == 1 {
			return float64(sizes[0]) / float64(limit)
		}
		return 0
	}
	total := 0
	for _, n := range sizes[:len(sizes)-1] {
		total += n
	}
	return float64(total) / float64(len(sizes)-1) / float64(limit)
}

func (p *importPlan) print(s *IOStreams, g globalOptions) error {
	var err error
	if g.JSON {
		err = printJSON(s.Out, p)
	} else {
		for _, pr := range p.Problems {
			fmt.Fprintf(s.Out, "%s:%d: %s\n", pr.File, pr.Line, pr.Reason)
		}
		if p.Invalid > len(p.Problems) {
			fmt.Fprintf(s.Out, "… and %d more invalid records\n", p.Invalid-len(p.Problems))
		}
		fmt.Fprintf(s.Out, "records: %d (valid %d, invalid %d)\n", p.Records, p.Valid, p.Invalid)
		if p.Connection != "" {
			fmt.Fprintf(s.Out, "connection: %s\n", p.Connection)
		}
		if p.Jobs > 0 {
			smallest, largest := p.ChunkBytes[0], p.ChunkBytes[0]
			for _, n := range p.ChunkBytes {
				smallest, largest = min(smallest, n), max(largest, n)
			}
			fmt.Fprintf(s.Out, "import files: %d (limit %d bytes; largest %d, smallest %d, last %d; average fill %.1f%%)\n",
				p.Jobs, p.Limit, largest, smallest, p.ChunkBytes[len(p.ChunkBytes)-1], 100*p.Fill)
		}
		fmt.Fprintf(s.Out, "estimate: %s\n", p.Estimate)
	}
	if err != nil {
		return err
	}
	if p.Invalid > 0 {
		return errors.Join(errSilent, &IncompleteError{Invalid: p.Invalid})
	}
	return nil
}

func runDryImport(ctx context.Context, s *IOStreams, g globalOptions, o importOptions) error {
	plan, err := planImport(ctx, s, o.input, o.ChunkBytes)
	if err != nil {
		return err
	}
	_, described, err := dryRunConnection(ctx, s, g, o.tenant, o.meaning.Connection)
	if err != nil {
		return err
	}
	plan.Connection = described
	return plan.print(s, g)
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
