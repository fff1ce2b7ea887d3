package input

import (
	"errors"
	"fmt"
	"io"
)

// Input is one input file for Plan; Open is called when its turn comes so
// that only one file is open at a time.
type Input struct {
	Name   string
	Format Format
	Open   func() (io.ReadCloser, error)
}

// PlanResult is what `validate` prints: how the inputs would be sent.
type PlanResult struct {
	Counts
	// ChunkBytes holds the size of every chunk, in order.
	ChunkBytes []int
	// InputErrors lists the inputs (or their remainders) that could not be
	// read; their records after the error are not counted.
	InputErrors []*InputError
}

// Plan reads every input as an import would (same validation, dedupe and
// chunking at limit) without keeping chunk bodies. onInvalid sees each
// invalid record; an error it returns stops the plan. Unreadable inputs are
// collected in InputErrors and the plan goes on with the next input.
func Plan(inputs []Input, o Options, limit int, onInvalid func(Record) error) (PlanResult, error) {
	var res PlanResult
	v := NewValidator(o.Mode)
	c := NewChunker(limit, 1)
	onChunk := func(ch *Chunk) error { res.ChunkBytes = append(res.ChunkBytes, len(ch.Body)); return nil }
	for _, in := range inputs {
		n, err := planOne(in, o, v, c, onInvalid, onChunk)
		res.Counts.Add(n)
		var ie *InputError
		if errors.As(err, &ie) {
			res.InputErrors = append(res.InputErrors, ie)
		} else if err != nil {
			return res, err
		}
	}
	if last := c.Flush(); last != nil {
		onChunk(last)
	}
	return res, nil
}

func planOne(in Input, o Options, v *Validator, c *Chunker, onInvalid func(Record) error, onChunk func(*Chunk) error) (Counts, error) {
	rc, err := in.Open()
	if err != nil {
		return Counts{}, &InputError{File: in.Name, Reason: fmt.Sprintf("cannot open: %v", err), Err: err}
	}
	defer rc.Close()
	r, err := NewReader(rc, in.Name, in.Format, o)
	if err != nil {
		return Counts{}, err
	}
	return Pump(r, v, c, onInvalid, onChunk)
}
