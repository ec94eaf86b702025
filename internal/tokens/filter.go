package tokens

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/zeebo/xxh3"
)

// Hash is the hash of a token as filters store it: XXH3-64, seed 0, of the
// token's bytes. The token must already be lower-cased, as the tokenizer
// emits it. It is stable across processes, machines and versions.
func Hash(token []byte) uint64 { return xxh3.Hash(token) }

// HashString is Hash for a string.
func HashString(token string) uint64 { return xxh3.HashString(token) }

// QueryHashes returns the hashes of QueryTokens(term), in the same order.
func QueryHashes(term string) []uint64 {
	toks := QueryTokens(term)
	hs := make([]uint64, len(toks))
	for i, t := range toks {
		hs[i] = HashString(t)
	}
	return hs
}

// Filter layout.
const (
	// Version is the format version written by Marshal. It covers the
	// tokenizer, the hash and the layout: a change to any is a new version.
	Version    = 1
	blockBytes = 64 // one cache line
	blockBits  = blockBytes * 8
	headerLen  = 10 // version, k, block count (u32), token count (u32)
	maxK       = 16
	maxBlocks  = math.MaxUint32 // the block index is a 32-bit fraction
)

// Errors of Unmarshal.
var (
	// ErrVersion is a filter of a format version this build cannot read:
	// rebuild it from the events.
	ErrVersion = errors.New("unknown token filter version")
	// ErrFormat is bytes that are not a token filter.
	ErrFormat = errors.New("malformed token filter")
)

// A Filter is a blocked Bloom filter of token hashes. It answers whether a
// block of events may contain a token: false is certain, true is wrong at
// about the rate the filter was built for. The zero Filter knows nothing and
// answers true. A Filter is immutable and safe for concurrent use.
type Filter struct {
	k      int    // bits tested per hash, 1..maxK
	count  uint32 // distinct hashes added
	blocks []byte // 64-byte blocks; bit p of a block is byte p/8, bit p%8
}

// MayContain reports whether the filter may hold the hash h.
func (f Filter) MayContain(h uint64) bool {
	nb := uint64(len(f.blocks) / blockBytes)
	if nb == 0 {
		return true
	}
	// The upper 32 bits, read as a fraction, pick the block (Lemire's
	// multiply-shift: no division); the lower 18 bits pick the bits.
	base := ((h >> 32) * nb >> 32) * blockBytes
	blk := f.blocks[base : base+blockBytes : base+blockBytes]
	pos, step := probes(h)
	for range f.k {
		p := pos >> posShift
		if blk[(p>>3)&(blockBytes-1)]&(1<<(p&7)) == 0 {
			return false
		}
		pos = pos*probeMul + step
	}
	return true
}

// MayContainAll reports whether the filter may hold every hash of hs: the
// test for a term, with QueryHashes. It is true for an empty hs.
func (f Filter) MayContainAll(hs []uint64) bool {
	for _, h := range hs {
		if !f.MayContain(h) {
			return false
		}
	}
	return true
}

// MayContainTerm reports whether the filter may hold every token of a search
// term. To test many filters, compute QueryHashes once and use MayContainAll.
func (f Filter) MayContainTerm(term string) bool {
	return f.MayContainAll(QueryHashes(term))
}

// add sets the bits of h. Only a Builder calls it, on a filter it owns.
func (f Filter) add(h uint64) {
	nb := uint64(len(f.blocks) / blockBytes)
	base := ((h >> 32) * nb >> 32) * blockBytes
	blk := f.blocks[base : base+blockBytes : base+blockBytes]
	pos, step := probes(h)
	for range f.k {
		p := pos >> posShift
		blk[(p>>3)&(blockBytes-1)] |= 1 << (p & 7)
		pos = pos*probeMul + step
	}
}

// posShift leaves the top 9 bits of a 64-bit probe value: a bit of a block.
const posShift = 64 - 9

// probeMul is an odd constant drawn at random (the multiplier of the probe
// sequence).
const probeMul = 0x9362da5cc13da58b

// probes returns the seeds of the k probe positions of h. Probe i is the top
// 9 bits of x_i, where x_0 = pos and x_{i+1} = x_i*probeMul + step: double
// hashing, two values derived from one hash drive all k probes, but through
// a multiply rather than Kirsch–Mitzenmacher's x_i = pos + i*step. On a
// 512-bit block the linear form gives keys with similar steps overlapping
// patterns: measured on 100,000 keys it missed its target, 0.14% instead of
// 0.1% and 0.039% instead of 0.01%, where this sequence meets the model of
// fpRate (0.100%, 0.010%) for one multiply more per probe. pos and step
// are bijective remixes of h, so they do not repeat the bits that picked
// the block.
func probes(h uint64) (pos, step uint64) {
	pos = h * 0x9e3779b97f4a7c15 // 2^64 / golden ratio
	step = (h ^ h>>32) * probeMul
	return pos, step
}

// Count is the number of distinct token hashes the filter was built from.
func (f Filter) Count() int { return int(f.count) }

// Size is the length of the filter's encoding in bytes.
func (f Filter) Size() int { return headerLen + len(f.blocks) }

// Marshal encodes the filter:
//
//	offset  size    content
//	0       1       format version (Version)
//	1       1       k, bits per hash (1..16)
//	2       4       number of 64-byte blocks, little-endian (>= 1)
//	6       4       number of distinct tokens, little-endian
//	10      64*n    the blocks; bit p of a block is bit p%8 of its byte p/8
//
// The zero Filter encodes with no blocks and is not readable by Unmarshal.
func (f Filter) Marshal() []byte {
	b := make([]byte, headerLen, f.Size())
	b[0] = Version
	b[1] = byte(f.k)
	binary.LittleEndian.PutUint32(b[2:], uint32(len(f.blocks)/blockBytes))
	binary.LittleEndian.PutUint32(b[6:], f.count)
	return append(b, f.blocks...)
}

// Unmarshal decodes a filter written by Marshal. The filter shares data's
// memory, so that filters can be read from a cache or a mapped file without a
// copy: data must not change while the filter is in use. Errors wrap
// ErrVersion or ErrFormat.
func Unmarshal(data []byte) (Filter, error) {
	if len(data) < headerLen {
		return Filter{}, fmt.Errorf("unmarshal token filter: %d bytes, shorter than the %d-byte header: %w", len(data), headerLen, ErrFormat)
	}
	if data[0] != Version {
		return Filter{}, fmt.Errorf("unmarshal token filter: version %d, want %d: %w", data[0], Version, ErrVersion)
	}
	k := int(data[1])
	if k < 1 || k > maxK {
		return Filter{}, fmt.Errorf("unmarshal token filter: k %d not in 1..%d: %w", k, maxK, ErrFormat)
	}
	nb := uint64(binary.LittleEndian.Uint32(data[2:]))
	if nb == 0 {
		return Filter{}, fmt.Errorf("unmarshal token filter: no blocks: %w", ErrFormat)
	}
	if want := headerLen + nb*blockBytes; uint64(len(data)) != want {
		return Filter{}, fmt.Errorf("unmarshal token filter: %d bytes for %d blocks, want %d: %w", len(data), nb, want, ErrFormat)
	}
	return Filter{
		k:      k,
		count:  binary.LittleEndian.Uint32(data[6:]),
		blocks: data[headerLen:len(data):len(data)],
	}, nil
}

// plan returns the number of keys per block and the number of bits per key
// that reach the false-positive rate p with the fewest blocks.
func plan(p float64) (keysPerBlock float64, k int) {
	for kk := 1; kk <= maxK; kk++ {
		// The largest load that keeps the rate at most p, by bisection:
		// the rate grows with the load.
		lo, hi := 0.0, float64(blockBits)
		for range 50 {
			mid := (lo + hi) / 2
			if fpRate(mid, kk) <= p {
				lo = mid
			} else {
				hi = mid
			}
		}
		if lo <= keysPerBlock {
			break // past the best k: the load only falls from here
		}
		keysPerBlock, k = lo, kk
	}
	return keysPerBlock, k
}

// fpRate is the false-positive rate of a blocked filter whose blocks hold
// lambda keys on average, with k probes per key. The keys in a block follow
// a Poisson law; with i keys in the block a bit is set with probability
// 1-(1-1/512)^(k*i), and a false positive needs k probes on set bits.
func fpRate(lambda float64, k int) float64 {
	if lambda <= 0 {
		return 0
	}
	miss := math.Pow(1-1.0/blockBits, float64(k)) // a key's probes all miss a bit
	if lambda > blockBits {
		// Past any load a plan makes (a decoded filter may claim any
		// count), e^-lambda underflows and the Poisson spread no longer
		// matters: take every block at the mean load.
		return math.Pow(1-math.Pow(miss, lambda), float64(k))
	}
	prob := math.Exp(-lambda) // P(i keys), from i = 0
	unset := 1.0              // miss^i
	sum := 0.0
	limit := int(lambda + 12*math.Sqrt(lambda) + 20)
	for i := 0; i <= limit; i++ {
		if i > 0 {
			prob *= lambda / float64(i)
			unset *= miss
		}
		set := 1 - unset
		all := 1.0
		for range k {
			all *= set
		}
		sum += prob * all
	}
	return sum
}

// expectedFPRate is the false-positive rate the filter's load predicts.
func (f Filter) expectedFPRate() float64 {
	nb := len(f.blocks) / blockBytes
	if nb == 0 {
		return 1
	}
	return fpRate(float64(f.count)/float64(nb), f.k)
}
