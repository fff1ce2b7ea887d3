package report

// recChunks maps the records queued in an import chunk and not yet final to
// that chunk: a record costs 4 bytes while it is in flight, in pages of
// 64K records that are freed as soon as every record on them is settled.
// Chunks are queued and settled roughly in input order, so only the pages
// around the in-flight window are ever allocated, whatever the input's
// size; a map keyed by Key cost ~80 bytes per record and a string hash on
// every line of a resume's read.
type recChunks struct {
	files map[recFile]*chunkPages
	n     int

	lastFile  recFile
	lastPages *chunkPages
}

type chunkPages struct {
	pages []*chunkPage
}

type chunkPage struct {
	chunk [recPageSize]int32 // 0: not queued
	live  int
}

func newRecChunks() *recChunks { return &recChunks{files: make(map[recFile]*chunkPages)} }

func (x *recChunks) locate(k Key, create bool) (p *chunkPages, page, slot int) {
	f, ord := recFile{name: k.File}, k.Record
	if ord < 1 {
		f.byLine, ord = true, k.Line
	}
	if ord < 1 {
		return nil, 0, 0
	}
	p = x.lastPages
	if p == nil || f != x.lastFile {
		p = x.files[f]
		if p == nil {
			if !create {
				return nil, 0, 0
			}
			p = &chunkPages{}
			x.files[f] = p
		}
		x.lastFile, x.lastPages = f, p
	}
	page, slot = ord>>recPageBits, ord&(recPageSize-1)
	if page >= len(p.pages) {
		if !create {
			return nil, 0, 0
		}
		p.pages = append(p.pages, make([]*chunkPage, page+1-len(p.pages))...)
	}
	if p.pages[page] == nil {
		if !create {
			return nil, 0, 0
		}
		p.pages[page] = new(chunkPage)
	}
	return p, page, slot
}

// get returns the chunk k is queued in.
func (x *recChunks) get(k Key) (int, bool) {
	p, page, slot := x.locate(k, false)
	if p == nil {
		return 0, false
	}
	c := p.pages[page].chunk[slot]
	return int(c), c != 0
}

// set queues k in chunk (≥ 1).
func (x *recChunks) set(k Key, chunk int) {
	p, page, slot := x.locate(k, true)
	if p == nil {
		return
	}
	pg := p.pages[page]
	if pg.chunk[slot] == 0 {
		pg.live++
		x.n++
	}
	pg.chunk[slot] = int32(chunk)
}

// del forgets k, freeing its page when it was the last one queued there.
func (x *recChunks) del(k Key) {
	p, page, slot := x.locate(k, false)
	if p == nil {
		return
	}
	pg := p.pages[page]
	if pg.chunk[slot] == 0 {
		return
	}
	pg.chunk[slot] = 0
	pg.live--
	x.n--
	if pg.live == 0 {
		p.pages[page] = nil
	}
}

func (x *recChunks) len() int { return x.n }
