package sigma

import (
	"strings"
	"unicode/utf8"
)

// Case-insensitive matching without allocating: constants are lower-cased
// once at compile time; when a constant is ASCII, event values are compared
// byte by byte with ASCII folding, which lower-cases nothing outside ASCII,
// as strings.ToLower would not change the outcome there. A constant with
// other letters makes the value go through strings.ToLower first.

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// eqFold reports whether s equals the lower-case ASCII constant c.
func eqFold(s, c string) bool {
	if len(s) != len(c) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if lowerASCII(s[i]) != c[i] {
			return false
		}
	}
	return true
}

func hasPrefixFold(s, c string) bool {
	return len(s) >= len(c) && eqFold(s[:len(c)], c)
}

func hasSuffixFold(s, c string) bool {
	return len(s) >= len(c) && eqFold(s[len(s)-len(c):], c)
}

// indexFold returns the first index of the lower-case ASCII constant c in
// s, ignoring ASCII case, or -1.
func indexFold(s, c string) int {
	if len(c) == 0 {
		return 0
	}
	first := c[0]
	upper := first
	if 'a' <= first && first <= 'z' {
		upper = first - 'a' + 'A'
	}
	for i := 0; i+len(c) <= len(s); i++ {
		b := s[i]
		if b != first && b != upper {
			// Skip ahead to the next candidate first byte.
			j := strings.IndexByte(s[i+1:], first)
			if upper != first {
				if k := strings.IndexByte(s[i+1:], upper); k >= 0 && (j < 0 || k < j) {
					j = k
				}
			}
			if j < 0 {
				return -1
			}
			i += j // the loop's i++ lands on the candidate
			continue
		}
		if eqFold(s[i:i+len(c)], c) {
			return i
		}
	}
	return -1
}

// globTok is a compiled wildcard pattern piece: literal text or "?".
type globTok struct {
	lit  string
	wild byte
}

// glob is a wildcard pattern split at its stars into segments of literal
// text and "?"; the first segment is anchored at the start unless the
// pattern starts with a star, the last at the end unless it ends with one.
// Matching finds each middle segment at its leftmost place, which is
// enough: a later place never lets the rest match where the leftmost
// could not.
type glob struct {
	segs      [][]globTok
	startStar bool
	endStar   bool
	onlyStars bool
	minLen    int // bytes the literal text needs
}

func newGlob(toks []globTok) *glob {
	g := &glob{}
	var cur []globTok
	for i, t := range toks {
		if t.wild == '*' {
			if i == 0 {
				g.startStar = true
			}
			if len(cur) > 0 {
				g.segs = append(g.segs, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, t)
		g.minLen += len(t.lit)
	}
	if len(cur) > 0 {
		g.segs = append(g.segs, cur)
	}
	g.endStar = len(toks) > 0 && toks[len(toks)-1].wild == '*'
	g.onlyStars = len(g.segs) == 0
	return g
}

// segAt matches a segment at the start of s and returns the bytes it
// consumed.
func segAt(seg []globTok, s string, fold bool) (int, bool) {
	n := 0
	for _, t := range seg {
		if t.wild == '?' {
			if n >= len(s) {
				return 0, false
			}
			_, w := utf8.DecodeRuneInString(s[n:])
			n += w
			continue
		}
		rest := s[n:]
		if fold && !hasPrefixFold(rest, t.lit) || !fold && !strings.HasPrefix(rest, t.lit) {
			return 0, false
		}
		n += len(t.lit)
	}
	return n, true
}

// segFind finds a segment's leftmost match in s: where it starts and ends.
func segFind(seg []globTok, s string, fold bool) (int, int, bool) {
	for i := 0; i <= len(s); {
		if seg[0].wild == 0 {
			// Jump to the next place the leading text occurs.
			var j int
			if fold {
				j = indexFold(s[i:], seg[0].lit)
			} else {
				j = strings.Index(s[i:], seg[0].lit)
			}
			if j < 0 {
				return 0, 0, false
			}
			i += j
		}
		if n, ok := segAt(seg, s[i:], fold); ok {
			return i, i + n, true
		}
		if i == len(s) {
			break
		}
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	return 0, 0, false
}

// match tests s. With fold, literal text is lower-case ASCII and compared
// ignoring ASCII case; without, exactly.
func (g *glob) match(s string, fold bool) bool {
	if len(s) < g.minLen {
		return false
	}
	if g.onlyStars {
		return true
	}
	segs := g.segs
	if !g.startStar {
		n, ok := segAt(segs[0], s, fold)
		if !ok {
			return false
		}
		if len(segs) == 1 && !g.endStar {
			return n == len(s)
		}
		s, segs = s[n:], segs[1:]
	}
	last := -1
	if !g.endStar && len(segs) > 0 {
		last = len(segs) - 1
	}
	for i, seg := range segs {
		if i == last {
			return segAtEnd(seg, s, fold)
		}
		_, end, ok := segFind(seg, s, fold)
		if !ok {
			return false
		}
		s = s[end:]
	}
	return true
}

// segAtEnd reports whether the segment matches a suffix of s.
func segAtEnd(seg []globTok, s string, fold bool) bool {
	lits := 0
	for _, t := range seg {
		if t.wild == '?' {
			lits = -1
			break
		}
		lits += len(t.lit)
	}
	if lits >= 0 {
		// Literal text only: it must be the last len bytes.
		if lits > len(s) {
			return false
		}
		n, ok := segAt(seg, s[len(s)-lits:], fold)
		return ok && n == lits
	}
	for i := 0; i <= len(s); {
		if n, ok := segAt(seg, s[i:], fold); ok && i+n == len(s) {
			return true
		}
		if i == len(s) {
			break
		}
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	return false
}
