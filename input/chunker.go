package input

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Chunker packs valid records into import files of at most limit bytes.
// Each user is serialised exactly once; a chunk's size is
// 2 + Σ len(user) + (n−1) for its '[', ']' and commas.
type Chunker struct {
	limit int
	seq   int
	cur   *Chunk
	enc   *json.Encoder
	item  bytes.Buffer
	// buf and keys are reused by appendUser, the reflection-free encoder.
	buf  []byte
	keys []string
}

// NewChunker returns a Chunker whose first chunk is numbered firstSeq.
func NewChunker(limit int, firstSeq int) *Chunker {
	c := &Chunker{limit: limit, seq: firstSeq}
	c.enc = json.NewEncoder(&c.item)
	// '<', '>' and '&' in names and metadata stay as written: fewer bytes,
	// same JSON.
	c.enc.SetEscapeHTML(false)
	return c
}

// Add appends rec.User (never rec.Password) to the current chunk. When it
// does not fit, the current chunk is returned full and a new one starts with
// rec. A record that would not fit even alone returns an error wrapping
// ErrRecordTooLarge and is not added.
func (c *Chunker) Add(rec Record) (full *Chunk, err error) {
	if !rec.Valid() {
		return nil, fmt.Errorf("chunking %s:%d: %w", rec.File, rec.Line, ErrInvalidRecord)
	}
	item, err := c.encode(&rec.User)
	if err != nil {
		return nil, fmt.Errorf("serialising %s:%d: %w", rec.File, rec.Line, err)
	}
	if len(item)+2 > c.limit {
		return nil, fmt.Errorf("%s:%d: %d bytes alone, limit %d: %w", rec.File, rec.Line, len(item)+2, c.limit, ErrRecordTooLarge)
	}
	if c.cur != nil && len(c.cur.Body)+1+len(item)+1 > c.limit {
		full = c.Flush()
	}
	if c.cur == nil {
		c.cur = &Chunk{Seq: c.seq, Body: make([]byte, 0, c.limit)}
		c.seq++
		c.cur.Body = append(c.cur.Body, '[')
	} else {
		c.cur.Body = append(c.cur.Body, ',')
	}
	c.cur.Body = append(c.cur.Body, item...)
	c.cur.Records = append(c.cur.Records, ChunkRecord{File: rec.File, Line: rec.Line, Ordinal: rec.Ordinal, Email: rec.User.Email, UserID: rec.User.UserID})
	return full, nil
}

// encode serialises u; the bytes are valid until the next call.
func (c *Chunker) encode(u *User) ([]byte, error) {
	c.keys = c.keys[:0]
	var ok bool
	if c.buf, ok = appendUser(c.buf[:0], u, &c.keys); ok {
		return c.buf, nil
	}
	c.item.Reset()
	if err := c.enc.Encode(u); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(c.item.Bytes(), []byte{'\n'}), nil
}

// Flush closes and returns the current partial chunk, nil if it is empty.
func (c *Chunker) Flush() *Chunk {
	ch := c.cur
	if ch == nil {
		return nil
	}
	c.cur = nil
	ch.Body = append(ch.Body, ']')
	return ch
}

// NextSeq is the number the next chunk will get.
func (c *Chunker) NextSeq() int { return c.seq }
