package run

import (
	"context"
	"io"
	"sync"
)

// pipeReader reads a pipe (stdin, a FIFO, a device) in a goroutine of its
// own, so that a read blocked for good (a writer that never writes, nor
// closes; a FIFO nobody opens) never holds up the run's stop: Read returns
// the context's error as soon as it ends. Close stops the goroutine, and
// unblocks it too when the source is a file it opened itself (the runtime
// polls pipes it opens; it does not poll an inherited stdin, whose read
// then ends with the process).
type pipeReader struct {
	ctx    context.Context
	chunks chan pipeChunk
	free   chan []byte
	done   chan struct{}
	once   sync.Once

	mu  sync.Mutex
	src io.Closer // what open returned, closed by Close

	cur, curBuf []byte
	err         error
}

type pipeChunk struct {
	b   []byte
	err error
}

// pipeBufSize is one read from the pipe; two are in flight at most.
const pipeBufSize = 64 << 10

// openPipe starts reading what open returns (opened in the goroutine too:
// opening a FIFO waits for its writer).
func openPipe(ctx context.Context, open func() (io.ReadCloser, error)) *pipeReader {
	p := &pipeReader{ctx: ctx, chunks: make(chan pipeChunk), free: make(chan []byte, 2), done: make(chan struct{})}
	p.free <- make([]byte, pipeBufSize)
	p.free <- make([]byte, pipeBufSize)
	go p.pump(open)
	return p
}

func (p *pipeReader) pump(open func() (io.ReadCloser, error)) {
	src, err := open()
	if err != nil {
		p.send(pipeChunk{err: err})
		return
	}
	p.mu.Lock()
	select {
	case <-p.done: // closed while opening
		p.mu.Unlock()
		src.Close()
		return
	default:
		p.src = src
	}
	p.mu.Unlock()
	for {
		var buf []byte
		select {
		case buf = <-p.free:
		case <-p.done:
			return
		}
		n, err := src.Read(buf)
		if !p.send(pipeChunk{b: buf[:n], err: err}) || err != nil {
			return
		}
	}
}

func (p *pipeReader) send(c pipeChunk) bool {
	select {
	case p.chunks <- c:
		return true
	case <-p.done:
		return false
	}
}

func (p *pipeReader) Read(b []byte) (int, error) {
	for len(p.cur) == 0 {
		if p.err != nil {
			return 0, p.err
		}
		if p.curBuf != nil {
			p.free <- p.curBuf[:cap(p.curBuf)] // never blocks: it came from free
			p.curBuf = nil
		}
		select {
		case c := <-p.chunks:
			p.cur, p.curBuf, p.err = c.b, c.b, c.err
		case <-p.ctx.Done():
			p.err = p.ctx.Err()
		}
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}

// Close stops the reading goroutine: at once when it waits to hand over a
// chunk, at the end of its read otherwise (which closing a source it
// opened ends).
func (p *pipeReader) Close() error {
	p.once.Do(func() {
		p.mu.Lock()
		close(p.done)
		if p.src != nil {
			p.src.Close()
		}
		p.mu.Unlock()
	})
	return nil
}

// ctxReader stops reading a regular file when ctx ends: a single record can
// be endless (a file of NUL bytes has no newline), and the reader checks
// the context only between records.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}
