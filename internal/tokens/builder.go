package tokens

import "math"

// Rates a Builder accepts.
const (
	DefaultFalsePositiveRate = 0.01
	MinFalsePositiveRate     = 1e-6
	MaxFalsePositiveRate     = 0.5
)

// A Builder collects the distinct tokens of one block of events and builds
// the block's Filter, sized for their real number. Reuse a Builder across
// blocks with Reset: it keeps its memory and does not allocate in Add. A
// Builder must not be used by two goroutines at once.
type Builder struct {
	keysPerBlock float64
	k            int
	tok          Tokenizer
	set          hashSet
}

// NewBuilder returns a Builder for filters with the false-positive rate fpr.
// A rate of zero (or NaN, or below zero) means DefaultFalsePositiveRate;
// other rates are clamped to [MinFalsePositiveRate, MaxFalsePositiveRate].
func NewBuilder(fpr float64) *Builder {
	switch {
	case !(fpr > 0):
		fpr = DefaultFalsePositiveRate
	case fpr < MinFalsePositiveRate:
		fpr = MinFalsePositiveRate
	case fpr > MaxFalsePositiveRate:
		fpr = MaxFalsePositiveRate
	}
	b := &Builder{}
	b.keysPerBlock, b.k = plan(fpr)
	return b
}

// Add adds the tokens of text.
func (b *Builder) Add(text []byte) {
	split(&b.tok, text, false, false)
	b.addSpans()
}

// AddString adds the tokens of text.
func (b *Builder) AddString(text string) {
	split(&b.tok, text, false, false)
	b.addSpans()
}

func (b *Builder) addSpans() {
	buf := b.tok.buf
	for _, s := range b.tok.spans {
		b.set.add(Hash(buf[s.start:s.end]))
	}
	b.tok.trim()
}

// AddHash adds one token hash, as Hash computes it.
func (b *Builder) AddHash(h uint64) { b.set.add(h) }

// Len is the number of distinct tokens added since the last Reset.
func (b *Builder) Len() int { return b.set.len() }

// Build returns the filter of the tokens added so far. The Builder keeps
// them: Reset starts the next block.
func (b *Builder) Build() Filter {
	n := b.set.len()
	nb := max(1, math.Ceil(float64(n)/b.keysPerBlock))
	nb = min(nb, maxBlocks)
	f := Filter{k: b.k, count: uint32(min(n, math.MaxUint32)), blocks: make([]byte, int(nb)*blockBytes)}
	for _, h := range b.set.slots {
		if h != 0 {
			f.add(h)
		}
	}
	if b.set.zero {
		f.add(0)
	}
	return f
}

// Reset forgets the tokens added, keeping the memory for the next block.
func (b *Builder) Reset() { b.set.reset() }

// hashSet is a set of 64-bit hashes: open addressing with linear probing.
// Hashes are already uniform, so a slot is the hash's top bits; 0 marks an
// empty slot and the hash 0 is kept aside.
type hashSet struct {
	slots []uint64 // a power of two long
	n     int      // hashes in slots
	limit int      // grow when n reaches it
	shift uint     // 64 - log2(len(slots))
	zero  bool     // the hash 0 was added
}

const minSetSlots = 1 << 10

func (s *hashSet) len() int {
	if s.zero {
		return s.n + 1
	}
	return s.n
}

func (s *hashSet) add(h uint64) {
	if h == 0 {
		s.zero = true
		return
	}
	if s.n >= s.limit {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := h >> s.shift; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return
		case 0:
			s.slots[i] = h
			s.n++
			return
		}
	}
}

func (s *hashSet) grow() {
	old := s.slots
	size := max(minSetSlots, 2*len(old))
	s.slots = make([]uint64, size)
	s.limit = size / 4 * 3
	s.shift = 64 - uint(log2(size))
	s.n = 0
	for _, h := range old {
		if h != 0 {
			s.add(h)
		}
	}
}

func (s *hashSet) reset() {
	clear(s.slots)
	s.n = 0
	s.zero = false
}

// log2 of a power of two.
func log2(n int) int {
	l := 0
	for n > 1 {
		n >>= 1
		l++
	}
	return l
}
