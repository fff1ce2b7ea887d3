package keyset

// bloom is a split-block Bloom filter (the layout of Parquet's and Impala's):
// 256-bit blocks of eight 32-bit words, one bit set in each word. A lookup
// touches one cache line, so checking every spilled run costs one memory
// read per run, and a key absent from a run (nearly every lookup) is
// answered without reading the disk.
type bloom struct {
	mem     block
	words   []uint32
	nblocks uint64
}

// salts spread a fingerprint's low 32 bits over the eight words of a block.
var salts = [8]uint32{0x47b6137b, 0x44974d91, 0x8824ad5b, 0xa2b7289d, 0x705495c7, 0x2df1424b, 0x9efc4947, 0x5c6bfb31}

// newBloom sizes a filter for n keys at bitsPerKey bits each.
func newBloom(n, bitsPerKey int) bloom {
	nblocks := max(1, (n*bitsPerKey+255)/256)
	m := alloc(nblocks * 32)
	return bloom{mem: m, words: m.words32(), nblocks: uint64(nblocks)}
}

// block is fp's block: its high 32 bits scaled onto the blocks.
func (b *bloom) block(fp uint64) []uint32 {
	i := ((fp >> 32) * b.nblocks) >> 32
	return b.words[i*8 : i*8+8 : i*8+8]
}

func (b *bloom) add(fp uint64) {
	blk, x := b.block(fp), uint32(fp)
	for i, s := range salts {
		blk[i] |= 1 << ((x * s) >> 27)
	}
}

// has says false only if fp was never added.
func (b *bloom) has(fp uint64) bool {
	blk, x := b.block(fp), uint32(fp)
	for i, s := range salts {
		if blk[i]&(1<<((x*s)>>27)) == 0 {
			return false
		}
	}
	return true
}

func (b *bloom) bytes() int { return len(b.mem.b) }

func (b *bloom) release() {
	b.mem.release()
	b.words, b.nblocks = nil, 0
}
