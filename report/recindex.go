package report

// recIndex remembers one small value per input record: the final status a
// record has, or its last verification status. It replaces a map keyed by
// Key, which cost ~100 bytes per record (the key's strings and ints, the
// value, the map's buckets and its growth) and made a 1M-record resume need
// 1.5 GB. Here a record costs one byte, in pages of 64 KiB allocated as its
// ordinals are first seen: 10 MB for 10M records, with no garbage to collect.
//
// A record is found by its file and its ordinal in it (Record), or by its
// line in a report written before ordinals (Record 0): both are dense from
// 1, so a file's pages are a slice indexed by ordinal / pageSize.
type recIndex struct {
	files map[recFile]*recPages
	n     int // records holding a non-zero value
	// last is the file looked up last: records come file by file, so
	// this saves hashing its name for nearly every record.
	lastFile  recFile
	lastPages *recPages
}

type recFile struct {
	name   string
	byLine bool // keyed by line (Record 0): another numbering than ordinals
}

const (
	recPageBits = 16
	recPageSize = 1 << recPageBits
)

type recPages struct{ pages []*[recPageSize]byte }

func newRecIndex() *recIndex { return &recIndex{files: make(map[recFile]*recPages)} }

// slot returns the byte of k, or nil when k has none and create is false.
func (x *recIndex) slot(k Key, create bool) *byte {
	f, ord := recFile{name: k.File}, k.Record
	if ord < 1 {
		f.byLine, ord = true, k.Line
	}
	if ord < 1 {
		return nil // validate refuses such lines; nothing to remember
	}
	p := x.lastPages
	if p == nil || f != x.lastFile {
		p = x.files[f]
		if p == nil {
			if !create {
				return nil
			}
			p = &recPages{}
			x.files[f] = p
		}
		if create {
			// Only writes move the cache: reads stay reads, so that
			// concurrent readers of a loaded State do not race.
			x.lastFile, x.lastPages = f, p
		}
	}
	i := ord >> recPageBits
	if i >= len(p.pages) {
		if !create {
			return nil
		}
		p.pages = append(p.pages, make([]*[recPageSize]byte, i+1-len(p.pages))...)
	}
	pg := p.pages[i]
	if pg == nil {
		if !create {
			return nil
		}
		pg = new([recPageSize]byte)
		p.pages[i] = pg
	}
	return &pg[ord&(recPageSize-1)]
}

// get returns k's value (0: none).
func (x *recIndex) get(k Key) byte {
	if b := x.slot(k, false); b != nil {
		return *b
	}
	return 0
}

// set gives k the value v (0 clears it).
func (x *recIndex) set(k Key, v byte) {
	b := x.slot(k, v != 0)
	if b == nil {
		return
	}
	switch {
	case *b == 0 && v != 0:
		x.n++
	case *b != 0 && v == 0:
		x.n--
	}
	*b = v
}

// len is the number of records holding a value.
func (x *recIndex) len() int { return x.n }

// clone returns an independent copy.
func (x *recIndex) clone() *recIndex {
	c := &recIndex{files: make(map[recFile]*recPages, len(x.files)), n: x.n}
	for f, p := range x.files {
		cp := &recPages{pages: make([]*[recPageSize]byte, len(p.pages))}
		for i, pg := range p.pages {
			if pg != nil {
				dup := *pg
				cp.pages[i] = &dup
			}
		}
		c.files[f] = cp
	}
	return c
}

// statusCodes numbers statuses for a recIndex byte: 0 means none.
type statusCodes []Status

func (c statusCodes) code(s Status) byte {
	for i, st := range c {
		if st == s {
			return byte(i + 1)
		}
	}
	return 0
}

func (c statusCodes) status(b byte) (Status, bool) {
	if b == 0 || int(b) > len(c) {
		return "", false
	}
	return c[b-1], true
}

// verificationStatuses are the values of the verification index.
var verificationStatuses = statusCodes{VerificationSent, VerificationFailed, VerificationSending, VerificationSkipped}

// finalStatuses are the values of the finals index (low 3 bits).
var finalStatuses = statusCodes(FinalStatuses)

// finalIndex is a recIndex of final lines: the status in the low 3 bits, and
// Auth0's code in the high 5 (an index into codes), which the reasons tally
// needs when a retry supersedes a failed line. Codes are few (Auth0's and
// a0bulk's); past 31 distinct ones the rest are kept in a map by record.
type finalIndex struct {
	recs     *recIndex
	codes    []string
	codeOf   map[string]byte
	overflow map[Key]string
}

const (
	finalStatusMask = 0x7
	finalCodeShift  = 3
	maxCodes        = 1<<(8-finalCodeShift) - 2 // 31 means overflow
	codeOverflow    = maxCodes + 1
)

func newFinalIndex() *finalIndex {
	return &finalIndex{recs: newRecIndex(), codeOf: make(map[string]byte)}
}

func (f *finalIndex) get(k Key) (st Status, code string, ok bool) {
	b := f.recs.get(k)
	st, ok = finalStatuses.status(b & finalStatusMask)
	if !ok {
		return "", "", false
	}
	switch c := b >> finalCodeShift; {
	case c == codeOverflow:
		code = f.overflow[k]
	case c > 0:
		code = f.codes[c-1]
	}
	return st, code, true
}

func (f *finalIndex) set(k Key, st Status, code string) {
	b := finalStatuses.code(st)
	if code != "" {
		c, ok := f.codeOf[code]
		switch {
		case ok:
		case len(f.codes) < maxCodes:
			f.codes = append(f.codes, code)
			c = byte(len(f.codes))
			f.codeOf[code] = c
		default:
			c = codeOverflow
			if f.overflow == nil {
				f.overflow = make(map[Key]string)
			}
			f.overflow[k] = code
		}
		b |= c << finalCodeShift
	}
	if b>>finalCodeShift != codeOverflow && f.overflow != nil {
		delete(f.overflow, k)
	}
	f.recs.set(k, b)
}

func (f *finalIndex) del(k Key) {
	delete(f.overflow, k)
	f.recs.set(k, 0)
}

func (f *finalIndex) len() int { return f.recs.len() }

// clone returns an independent copy.
func (f *finalIndex) clone() *finalIndex {
	c := &finalIndex{recs: f.recs.clone(), codes: append([]string(nil), f.codes...), codeOf: make(map[string]byte, len(f.codeOf))}
	for k, v := range f.codeOf {
		c.codeOf[k] = v
	}
	if f.overflow != nil {
		c.overflow = make(map[Key]string, len(f.overflow))
		for k, v := range f.overflow {
			c.overflow[k] = v
		}
	}
	return c
}
