package bench

import (
	"bytes"
	"context"
	"testing"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
	"github.com/a0bulk/a0bulk/run"
)

// chunkLimit is import's default --chunk-bytes.
const chunkLimit = 500_000

// BenchmarkChunkFill plans generated users into import files as `import`
// would (run.Validate, the planner behind validate and import --dry-run) and reports the average size of every file but the last (which holds
// whatever is left) against the limit.
func BenchmarkChunkFill(b *testing.B) {
	var buf bytes.Buffer
	if err := gen.Users(5, 100_000, &buf, input.FormatNDJSON, gen.GenOptions{}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	var fill float64
	var files int
	for b.Loop() {
		env := run.Env{Stdin: bytes.NewReader(data)}
		res, err := run.Validate(context.Background(), env, []string{"-"}, string(input.FormatNDJSON), "", input.ModeImport, chunkLimit)
		if err != nil || len(res.ChunkBytes) < 2 {
			b.Fatalf("plan: %v, %d files", err, len(res.ChunkBytes))
		}
		full := res.ChunkBytes[:len(res.ChunkBytes)-1]
		sum := 0
		for _, n := range full {
			if n > chunkLimit {
				b.Fatalf("a file of %d bytes, over the %d limit", n, chunkLimit)
			}
			sum += n
		}
		fill = float64(sum) / float64(len(full)) / chunkLimit
		files = len(res.ChunkBytes)
	}
	b.ReportMetric(100*fill, "fill_%")
	b.ReportMetric(float64(files), "files")
}
