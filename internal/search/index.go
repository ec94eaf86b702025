package search

import (
	"bytes"
	"context"
	"net/netip"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/query"
	"github.com/mamori-sec/mamori/internal/store"
	"github.com/mamori-sec/mamori/internal/tokens"
)

// BloomFPR is the false-positive rate block filters are built for.
const BloomFPR = 0.01

// IndexBlock builds a block's token filter from each record's raw text and
// every text value of its events (message, event.original, related.*, and
// vendor fields whose values the parser derived rather than copied), so
// that the filter can rule a block out for a keyword and for a plain field
// value alike (query.MayMatch). An Indexer does the same with less garbage.
func IndexBlock(recs []dataset.Record, events [][]*event.Event) []byte {
	var ix Indexer
	return ix.Index(recs, events)
}

// An Indexer builds block filters as IndexBlock does, reusing its token
// sets and maps from one block to the next (growing them for each block
// was a tenth of the work). It is safe for concurrent use.
type Indexer struct {
	pool sync.Pool // of *blockIndex
}

// blockIndex is the state of indexing one block.
type blockIndex struct {
	b    *tokens.Builder
	seen map[string]struct{}
}

// Index is IndexBlock.
func (ix *Indexer) Index(recs []dataset.Record, events [][]*event.Event) []byte {
	bi, _ := ix.pool.Get().(*blockIndex)
	if bi == nil {
		bi = &blockIndex{b: tokens.NewBuilder(BloomFPR), seen: make(map[string]struct{}, 256)}
	}
	out := bi.index(recs, events)
	// Forget the block's values now: they hold its records' memory.
	bi.b.Reset()
	clear(bi.seen)
	ix.pool.Put(bi)
	return out
}

func (bi *blockIndex) index(recs []dataset.Record, events [][]*event.Event) []byte {
	b, seen := bi.b, bi.seen
	// Values repeat across a block's events (a vendor, a category, a host)
	// and across fields of one event (host.name, server.name): each
	// distinct value is tokenized once, which gives the same filter.
	//
	// Most values are copied from the record (event.original is all of
	// it): a value the raw text covers (tokens.Covered) adds no token and
	// is skipped without tokenizing it. Parsers slice most values from the
	// record's Text: for those, where they lie in it is known without a
	// search, and they never reach the map.
	var raw string
	add := func(s string) {
		if i, ok := offsetIn(raw, s); ok && tokens.CoveredAt(raw, s, i) {
			return
		}
		if len(s) >= len(raw) && s == raw {
			return
		}
		if _, ok := seen[s]; ok {
			return
		}
		// Once in the filter, through this record's text or its own
		// tokens, a value needs nothing for later records.
		seen[s] = struct{}{}
		if !tokens.Covered(raw, s) {
			b.AddString(s)
		}
	}
	for i, r := range recs {
		raw = r.String()
		b.AddString(raw)
		for _, e := range events[i] {
			e.Range(func(_ string, v any) {
				switch x := v.(type) {
				case string:
					add(x)
				case []string:
					for _, s := range x {
						add(s)
					}
				case []any:
					for _, el := range x {
						if s, ok := el.(string); ok {
							add(s)
						}
					}
				}
			})
		}
	}
	return b.Build().Marshal()
}

// offsetIn reports where s lies in text's memory when s is a substring
// sliced from text (s is then text[i:i+len(s)]); false says nothing of
// their contents. Comparing the addresses of two live strings is safe: no
// pointer is made from the result.
func offsetIn(text, s string) (i int, ok bool) {
	if len(s) == 0 || len(s) > len(text) {
		return 0, false
	}
	t := uintptr(unsafe.Pointer(unsafe.StringData(text)))
	p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	if p < t || p-t > uintptr(len(text)-len(s)) {
		return 0, false
	}
	return int(p - t), true
}

// blooms caches parsed block filters. They are small (about a byte per
// token of the block) and immutable, so they are kept until retention
// removes their blocks.
type blooms struct {
	mu sync.Mutex
	m  map[int64]tokens.Filter
}

// candidateBlocks returns the blocks of the range whose filters do not rule
// the query out, in the query's order.
//
// With promoted, plain values of promoted fields are tested too (see
// query.MayMatchPromoted).
func (s *Searcher) candidateBlocks(ctx context.Context, n query.Node, rq store.RowQuery, promoted bool) ([]store.BlockInfo, error) {
	terms := query.IndexTerms(n, promoted)
	infos, err := s.Store.BlocksIn(ctx, rq.From, rq.To, rq.Asc)
	if err != nil {
		return nil, err
	}
	if len(terms) == 0 {
		return infos, nil
	}
	out := make([]store.BlockInfo, 0, len(infos))
	hashes := make(map[string][]uint64, len(terms))
	for _, t := range terms {
		hashes[t] = tokens.QueryHashes(strings.ToLower(t))
	}
	filters, err := s.filters(ctx, infos)
	if err != nil {
		return nil, err
	}
	for _, b := range infos {
		f, ok := filters[b.Blk]
		may := func(term, _ string) bool { return f.MayContainAll(hashes[term]) }
		if !ok || promoted && query.MayMatchPromoted(n, may) || !promoted && query.MayMatch(n, may) {
			out = append(out, b)
		}
	}
	return out, nil
}

// filters returns the parsed filters of the blocks, loading missing ones.
// A block whose filter cannot be read is left out of the map: it is then
// always a candidate.
func (s *Searcher) filters(ctx context.Context, infos []store.BlockInfo) (map[int64]tokens.Filter, error) {
	s.bloom.mu.Lock()
	if s.bloom.m == nil {
		s.bloom.m = map[int64]tokens.Filter{}
	}
	out := make(map[int64]tokens.Filter, len(infos))
	var missing []int64
	for _, b := range infos {
		if f, ok := s.bloom.m[b.Blk]; ok {
			out[b.Blk] = f
		} else {
			missing = append(missing, b.Blk)
		}
	}
	s.bloom.mu.Unlock()
	for len(missing) > 0 {
		chunk := missing[:min(len(missing), 2000)]
		missing = missing[len(chunk):]
		raw, err := s.Store.Blooms(ctx, chunk)
		if err != nil {
			return nil, err
		}
		s.bloom.mu.Lock()
		for blk, b := range raw {
			f, err := tokens.Unmarshal(b)
			if err != nil {
				continue
			}
			s.bloom.m[blk] = f
			out[blk] = f
		}
		s.bloom.mu.Unlock()
	}
	return out, nil
}

// recordCheck rules records out by their raw text before they are parsed:
// a keyword that does not occur in the raw record cannot be in its message,
// event.original or related.* values, which all come from it; nor can a
// plain text value of a field whose values are copied from the record
// verbatim (dataset.Registry.Verbatim).
type recordCheck struct {
	n     query.Node
	terms map[string][]byte // lower-cased keyword → its bytes
	// values maps a plain text value of a verbatim field to the tokens
	// (lower-case, each a substring of the value) the record must hold.
	values   map[string][][]byte
	verbatim func(field string) bool
	ascii    bool // every keyword and value is ASCII
}

func newRecordCheck(n query.Node, verbatim func(field string) bool) recordCheck {
	c := recordCheck{n: n, terms: map[string][]byte{}, values: map[string][][]byte{}, verbatim: verbatim, ascii: true}
	noteASCII := func(s string) {
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				c.ascii = false
			}
		}
	}
	for _, t := range query.Keywords(n) {
		lt := strings.ToLower(t)
		c.terms[t] = []byte(lt)
		noteASCII(lt)
	}
	if verbatim != nil {
		query.MayMatch(n, func(term, field string) bool {
			// An address may be stored in canonical form, spelled
			// otherwise in the record: it is exempt.
			if _, err := netip.ParseAddr(term); err == nil {
				return true
			}
			if field != "" && verbatim(field) {
				var toks [][]byte
				for _, tok := range tokens.QueryTokens(term) {
					toks = append(toks, []byte(tok))
					noteASCII(tok)
				}
				c.values[term] = toks
			}
			return true
		})
	}
	return c
}

// may reports whether the record can match. Keywords and values are
// checked conservatively: each keyword is searched as a plain substring
// ignoring case, which a word match implies, and each token of a verbatim
// field's value likewise.
func (c recordCheck) may(data []byte) bool {
	if len(c.terms) == 0 && len(c.values) == 0 {
		return true
	}
	if bytes.IndexByte(data, '\\') >= 0 {
		// Escapes (JSON's \u00e9, \", CEF's \=) can hide from the raw text
		// what the parsed event holds: leave such records to Match.
		return true
	}
	contains := func(needle []byte) bool { return containsFoldASCII(data, needle) }
	if !c.ascii {
		lower := bytes.ToLower(data)
		contains = func(needle []byte) bool { return bytes.Contains(lower, needle) }
	}
	return query.MayMatch(c.n, func(term, field string) bool {
		if field == "" {
			return contains(c.terms[term])
		}
		// A field's value may be derived rather than copied from the raw
		// text (a category, a canonical address): only values of verbatim
		// fields are checked.
		toks, ok := c.values[term]
		if !ok || !c.verbatim(field) {
			return true
		}
		for _, tok := range toks {
			if !contains(tok) {
				return false
			}
		}
		return true
	})
}

// containsFoldASCII reports whether data contains the lower-case ASCII
// needle, ignoring ASCII case, without allocating.
func containsFoldASCII(data, needle []byte) bool {
	n := len(needle)
	if n == 0 {
		return true
	}
	// Jump between occurrences of the needle's first byte in either case
	// with IndexByte (vectorised) rather than look at every byte.
	lo, up := needle[0], needle[0]
	if 'a' <= lo && lo <= 'z' {
		up = lo - 'a' + 'A'
	}
	last := len(data) - n // the last start a match can have
	nextLo, nextUp := -1, -1
	for i := 0; i <= last; {
		if nextLo < i {
			if nextLo = indexFrom(data[:last+1], lo, i); nextLo < 0 {
				nextLo = last + 1
			}
		}
		if up != lo && nextUp < i {
			if nextUp = indexFrom(data[:last+1], up, i); nextUp < 0 {
				nextUp = last + 1
			}
		}
		i = nextLo
		if up != lo {
			i = min(nextLo, nextUp)
		}
		if i > last {
			return false
		}
		if equalFoldASCII(data[i+1:i+n], needle[1:]) {
			return true
		}
		i++
	}
	return false
}

// indexFrom is the index of c in b at or after from, or -1.
func indexFrom(b []byte, c byte, from int) int {
	if j := bytes.IndexByte(b[from:], c); j >= 0 {
		return from + j
	}
	return -1
}

// equalFoldASCII reports whether a, folded to lower case ASCII, equals
// lower (already lower case).
func equalFoldASCII(a, lower []byte) bool {
	for k := range lower {
		if lowerASCII(a[k]) != lower[k] {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Prune drops the cached filters of blocks that no longer exist (after
// retention deleted them), so the cache stays the size of the store.
func (s *Searcher) Prune(ctx context.Context) error {
	infos, err := s.Store.BlocksIn(ctx, time.Time{}, time.Time{}, true)
	if err != nil {
		return err
	}
	live := make(map[int64]bool, len(infos))
	for _, b := range infos {
		live[b.Blk] = true
	}
	s.bloom.mu.Lock()
	defer s.bloom.mu.Unlock()
	for blk := range s.bloom.m {
		if !live[blk] {
			delete(s.bloom.m, blk)
		}
	}
	return nil
}
