package input

import (
	"errors"
	"io"
)

// Counts tallies what Pump saw.
type Counts struct {
	Records int // every record read (valid + invalid)
	Valid   int // records handed to the chunker
	Invalid int // records reported through onInvalid
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Records += o.Records
	c.Valid += o.Valid
	c.Invalid += o.Invalid
}

// Pump drives one input through the pipeline: every record of r is checked
// by v; invalid ones (including ones too large for a chunk) go to onInvalid,
// valid ones to c, and each chunk c fills goes to onChunk. Chunks span input
// files: call c.Flush after the last input. It returns the counts so far and
// the first error: an *InputError from r (the rest of this input is
// unreadable; go on with the next) or whatever a callback returned.
func Pump(r Reader, v *Validator, c *Chunker, onInvalid func(Record) error, onChunk func(*Chunk) error) (Counts, error) {
	var n Counts
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n.Records++
		v.Check(&rec)
		if rec.Valid() {
			full, err := c.Add(rec)
			if errors.Is(err, ErrRecordTooLarge) {
				rec.Errors = append(rec.Errors, FieldError{Reason: "too large for one import file at the chunk limit"})
			} else if err != nil {
				return n, err
			}
			if full != nil {
				if err := onChunk(full); err != nil {
					return n, err
				}
			}
		}
		if !rec.Valid() {
			n.Invalid++
			if err := onInvalid(rec); err != nil {
				return n, err
			}
			continue
		}
		n.Valid++
	}
}
