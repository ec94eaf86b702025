package tokens

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// MaxTokenLen is the length in bytes above which a token is skipped.
const MaxTokenLen = 128

// window is how many adjacent parts of a compound the longest emitted token
// spans: parts alone and adjacent pairs. Measured on generated firewall and
// sshd lines in 2,000-event blocks, 3 (triples too) made filters 53% larger
// (10.7 instead of 7.0 bytes an event: timestamps and ip:port compounds give
// many unique triples) while an absent IPv4 address passed 0.3% of blocks
// with pairs, already below the 1% rate of a single token. Changing it
// changes the persisted format.
const window = 2

// Byte classes of the ASCII tokenizer table.
const (
	clsSep  = iota // separates compounds
	clsJoin        // . _ - @ :
	clsWord        // a-z, A-Z, 0-9, and in a lowered buffer any byte >= 0x80
)

// classes is the class of each byte of a lowered buffer (see lower). It is
// computed once and only read.
var classes = func() (t [256]uint8) {
	for c := 0x80; c < 256; c++ {
		t[c] = clsWord
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = clsWord
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = clsWord
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = clsWord
	}
	for _, c := range []byte("._-@:") {
		t[c] = clsJoin
	}
	return t
}()

// lowerASCII maps each ASCII byte to its lower case.
var lowerASCII = func() (t [utf8.RuneSelf]byte) {
	for c := range t {
		t[c] = byte(c)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c) + 'a' - 'A'
	}
	return t
}()

// isWordRune reports whether a rune other than ASCII is a word character:
// a letter, a number or a mark.
func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r))
}

// A Tokenizer splits text into tokens (see the package documentation). It
// keeps its buffers between calls, so that a reused Tokenizer does not
// allocate. The zero value is ready to use; a Tokenizer must not be used by
// two goroutines at once.
type Tokenizer struct {
	buf   []byte // the text, lower-cased
	spans []span // the tokens, as ranges of buf
}

// span is a token: buf[start:end].
type span struct{ start, end int }

// A Tokenizer keeps buffers up to these sizes after a call: a rare huge text
// must not pin its memory for the Tokenizer's life.
const (
	maxKeptBuf   = 64 << 10
	maxKeptSpans = 4 << 10
)

// Tokens calls fn with each token of text, lower-cased, in the order of the
// text. A token occurring several times is passed each time. tok is only
// valid during the call.
func (t *Tokenizer) Tokens(text []byte, fn func(tok []byte)) {
	split(t, text, false, false)
	t.each(fn)
}

// TokensString is Tokens for a string.
func (t *Tokenizer) TokensString(text string, fn func(tok []byte)) {
	split(t, text, false, false)
	t.each(fn)
}

func (t *Tokenizer) each(fn func(tok []byte)) {
	for _, s := range t.spans {
		fn(t.buf[s.start:s.end:s.end])
	}
	t.trim()
}

// trim drops buffers that a huge text grew too large.
func (t *Tokenizer) trim() {
	if cap(t.buf) > maxKeptBuf {
		t.buf = nil
	}
	if cap(t.spans) > maxKeptSpans {
		t.spans = nil
	}
}

// Tokens calls fn with each token of text. It allocates its buffers; a
// reused Tokenizer does not.
func Tokens(text []byte, fn func(tok []byte)) {
	var t Tokenizer
	t.Tokens(text, fn)
}

// QueryTokens returns the distinct tokens of a search term, longest first
// (the longest are the most selective to test). They are the tokens the
// tokenizer emits for the term's text, and every one of them is present in a
// text that holds the term as whole words. A phrase gives the tokens of each
// of its words ("failed password": failed, password). The result is empty
// when the term has no token (a one-character word, punctuation); such a
// term cannot rule a block out.
//
// term is literal text: wildcards are ordinary characters here; use
// FragmentTokens for the literal pieces of a wildcard pattern.
func QueryTokens(term string) []string {
	return FragmentTokens(term, false, false)
}

// FragmentTokens returns the distinct tokens, longest first, that every text
// containing fragment (ignoring case) holds. openStart says that the text may
// have a word character right before the fragment, openEnd right after it:
// then the fragment's first (last) part may be the end (start) of a longer
// part in the text and gives no token, nor does any run of parts that
// includes it.
//
// With both false the rule is QueryTokens's word match. With both true it is
// plain substring search: "x.owssvr.dll.y" gives owssvr.dll, owssvr and dll,
// and "alice" nothing. For a wildcard pattern such as *.corp.example.com or
// web-0?, pass each literal piece between wildcards, open at a wildcard (and
// closed at the pattern's own ends when the pattern must match whole words).
func FragmentTokens(fragment string, openStart, openEnd bool) []string {
	var t Tokenizer
	split(&t, fragment, openStart, openEnd)
	var out []string
	seen := make(map[string]bool, len(t.spans))
	for _, s := range t.spans {
		if tok := t.buf[s.start:s.end]; !seen[string(tok)] {
			seen[string(tok)] = true
			out = append(out, string(tok))
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// split lower-cases text into t.buf and records its tokens in t.spans.
//
// It works in two passes. The first copies the text lower-cased into t.buf,
// with every rune or invalid byte that is not a word character and not
// ASCII replaced by a space, so that in t.buf a byte of 0x80 or more is
// always part of a word character. The second finds the compounds and parts
// in t.buf with one table and records the tokens of each part as it ends:
// the part, when it has two characters or more, and the runs of up to window
// adjacent parts that end with it. On ASCII text neither pass makes a call.
// (Scanning eight bytes at a time, SWAR, measured no faster: the time goes
// to the ends of runs, not to their bytes.)
//
// openStart and openEnd are FragmentTokens's: a part that may continue
// beyond the text's start or end gives no token, nor does a run that
// includes it.
func split[S ~string | ~[]byte](t *Tokenizer, text S, openStart, openEnd bool) {
	i, end := 0, len(text)
	if openStart {
		// The fragment may begin inside a multi-byte rune of the text: its
		// leading continuation bytes belong to a rune that can be a letter.
		for i < end && !utf8.RuneStart(text[i]) {
			i++
		}
	}
	if openEnd {
		end = completeEnd(text, i, end)
	}
	t.buf = lower(t.buf[:0], text[i:end])
	t.spans = spansOf(t.buf, t.spans[:0], openStart, openEnd)
}

// lower appends text to buf lower-cased, with separators other than ASCII
// replaced by a space. It leaves room for one more byte.
func lower[S ~string | ~[]byte](buf []byte, text S) []byte {
	// Invariant: room for the rest of text if it is ASCII, and one byte,
	// so that ASCII bytes are stored without append's capacity test.
	b := slices.Grow(buf, len(text)+1)
	n := len(b)
	b = b[:cap(b)]
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			b[n] = lowerASCII[c]
			n++
			i++
			continue
		}
		r, w := decodeRune(text, i, len(text))
		i += w
		if isWordRune(r) {
			b = utf8.AppendRune(b[:n], unicode.ToLower(r))
		} else {
			b = append(b[:n], ' ')
		}
		b = slices.Grow(b, len(text)-i+1)
		n = len(b)
		b = b[:cap(b)]
	}
	return b[:n]
}

// spansOf appends the tokens of the lowered text b to spans.
func spansOf(b []byte, spans []span, openStart, openEnd bool) []span {
	end := len(b)
	// A separator after the text (in the room lower left) ends every run
	// without a length test in the loops below.
	b = append(b, ' ')
	for i := 0; i < end; {
		if classes[b[i]] == clsSep {
			i++
			continue
		}
		// A compound starts at i. prev holds the starts of the previous
		// window-1 parts, most recent first (-1: none), and prevOpen
		// whether each may be cut.
		openFirst := openStart && i == 0
		cstart := i
		var prev [window - 1]int
		var prevOpen [window - 1]bool
		for k := range prev {
			prev[k] = -1
		}
		for {
			for classes[b[i]] == clsJoin {
				i++
			}
			ps := i
			for classes[b[i]] == clsWord {
				i++
			}
			pe := i
			if pe == ps {
				break // the compound ended with joiners
			}
			open := (ps == cstart && openFirst) || (pe == end && openEnd)
			if !open && pe-ps <= MaxTokenLen && pe-ps >= 2 && (b[ps] < utf8.RuneSelf || longEnough(b[ps:pe])) {
				spans = append(spans, span{ps, pe})
			}
			for k, s := range prev {
				if s < 0 || open || prevOpen[k] || pe-s > MaxTokenLen {
					break
				}
				spans = append(spans, span{s, pe})
			}
			copy(prev[1:], prev[:])
			copy(prevOpen[1:], prevOpen[:])
			prev[0], prevOpen[0] = ps, open
			if classes[b[i]] != clsJoin {
				break
			}
		}
	}
	return spans
}

// completeEnd returns end, or less when text[from:end] ends in an incomplete
// multi-byte rune: a fragment cut inside a rune of the text must not read the
// cut rune's bytes as a separator.
func completeEnd[S ~string | ~[]byte](text S, from, end int) int {
	for j := end - 1; j >= from && j >= end-utf8.UTFMax; j-- {
		c := text[j]
		if !utf8.RuneStart(c) {
			continue
		}
		if c >= utf8.RuneSelf && j+seqLen(c) > end {
			return j
		}
		return end
	}
	return end
}

// seqLen is the length of the UTF-8 sequence that lead byte c starts.
func seqLen(c byte) int {
	switch {
	case c >= 0xF0:
		return 4
	case c >= 0xE0:
		return 3
	default:
		return 2
	}
}

// decodeRune decodes the rune at text[i:end] without allocating for either
// type of text.
func decodeRune[S ~string | ~[]byte](text S, i, end int) (rune, int) {
	var b [utf8.UTFMax]byte
	n := copy(b[:], text[i:min(i+utf8.UTFMax, end)])
	return utf8.DecodeRune(b[:n])
}

// longEnough reports whether a part of two bytes or more that starts with a
// multi-byte rune has at least two characters.
func longEnough(p []byte) bool {
	_, w := utf8.DecodeRune(p)
	return w < len(p)
}
