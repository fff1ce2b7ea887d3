package input_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/a0bulk/a0bulk/input"
	"github.com/a0bulk/a0bulk/input/gen"
)

// run pumps one generated input through the pipeline.
func run(t testing.TB, data []byte, f input.Format, limit int) (input.Counts, []*input.Chunk) {
	r, err := input.NewReader(bytes.NewReader(data), "gen", f, input.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v := input.NewValidator(input.ModeImport)
	c := input.NewChunker(limit, 1)
	var chunks []*input.Chunk
	n, err := input.Pump(r, v, c,
		func(input.Record) error { return nil },
		func(ch *input.Chunk) error { chunks = append(chunks, ch); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if last := c.Flush(); last != nil {
		chunks = append(chunks, last)
	}
	return n, chunks
}

// Fill: on realistic users, full chunks use more than 95% of the limit.
func TestChunkFillRealistic(t *testing.T) {
	for i, f := range []input.Format{input.FormatCSV, input.FormatJSON, input.FormatNDJSON} {
		for _, seed := range []int64{int64(i) + 1} {
			var buf bytes.Buffer
			if err := gen.Users(seed, 3000, &buf, f, gen.GenOptions{}); err != nil {
				t.Fatal(err)
			}
			const limit = 100_000
			n, chunks := run(t, buf.Bytes(), f, limit)
			if n.Records != 3000 || n.Invalid != 0 {
				t.Fatalf("%s seed %d: %+v", f, seed, n)
			}
			if len(chunks) < 3 {
				t.Fatalf("%s: only %d chunks", f, len(chunks))
			}
			sum := 0
			for _, ch := range chunks[:len(chunks)-1] {
				sum += len(ch.Body)
			}
			fill := float64(sum) / float64(len(chunks)-1) / limit
			if fill < 0.95 {
				t.Errorf("%s seed %d: fill %.3f", f, seed, fill)
			}
		}
	}
}

func TestPumpCountsInvalidAndDuplicates(t *testing.T) {
	var buf bytes.Buffer
	if err := gen.Users(42, 2000, &buf, input.FormatCSV, gen.GenOptions{InvalidRate: 0.05, DuplicateRate: 0.02}); err != nil {
		t.Fatal(err)
	}
	n, chunks := run(t, buf.Bytes(), input.FormatCSV, 100_000)
	inChunks := 0
	for _, ch := range chunks {
		inChunks += len(ch.Records)
	}
	if n.Records != 2000 || n.Valid+n.Invalid != n.Records || inChunks != n.Valid {
		t.Fatalf("counts %+v, %d in chunks", n, inChunks)
	}
	// About 7% bad: allow generous slack, but both kinds must occur.
	if n.Invalid < 60 || n.Invalid > 220 {
		t.Errorf("invalid %d of 2000", n.Invalid)
	}
}

func TestPumpRecordTooLargeIsInvalid(t *testing.T) {
	in := "email,name\na@x.io,short\nb@x.io," + string(bytes.Repeat([]byte("n"), 200)) + "\n"
	r, _ := input.NewReader(bytes.NewReader([]byte(in)), "f.csv", input.FormatCSV, input.Options{})
	var invalid []input.Record
	n, err := input.Pump(r, input.NewValidator(input.ModeImport), input.NewChunker(100, 1),
		func(rec input.Record) error { invalid = append(invalid, rec); return nil },
		func(*input.Chunk) error { return nil })
	if err != nil || n.Valid != 1 || n.Invalid != 1 || len(invalid) != 1 || invalid[0].Line != 3 {
		t.Fatalf("%+v %v %+v", n, err, invalid)
	}
}

func TestPumpStopsOnCallbackError(t *testing.T) {
	boom := errors.New("boom")
	r, _ := input.NewReader(bytes.NewReader([]byte("email\nbad\nok@x.io\n")), "f.csv", input.FormatCSV, input.Options{})
	_, err := input.Pump(r, input.NewValidator(input.ModeImport), input.NewChunker(100, 1),
		func(input.Record) error { return boom }, func(*input.Chunk) error { return nil })
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
}

func benchmarkPipeline(b *testing.B, f input.Format) {
	const n = 20000
	var buf bytes.Buffer
	if err := gen.Users(1, n, &buf, f, gen.GenOptions{InvalidRate: 0.01, DuplicateRate: 0.01}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		c, _ := run(b, data, f, 500_000)
		if c.Records != n {
			b.Fatal(fmt.Sprint(c))
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "users/s")
}

func BenchmarkReadValidateChunkCSV(b *testing.B)    { benchmarkPipeline(b, input.FormatCSV) }
func BenchmarkReadValidateChunkJSON(b *testing.B)   { benchmarkPipeline(b, input.FormatJSON) }
func BenchmarkReadValidateChunkNDJSON(b *testing.B) { benchmarkPipeline(b, input.FormatNDJSON) }
