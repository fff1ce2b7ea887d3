package cli

import (
	"io"
	"sync/atomic"
)

// byteCounter counts input bytes for the progress display's ETA.
type byteCounter struct{ n atomic.Int64 }

func (c *byteCounter) wrap(r io.Reader) io.Reader { return countingReader{r: r, c: c} }
func (c *byteCounter) Load() int64                { return c.n.Load() }

type countingReader struct {
	r io.Reader
	c *byteCounter
}

func (cr countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.c.n.Add(int64(n))
	return n, err
}
