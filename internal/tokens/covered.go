package tokens

import (
	"strings"
	"unicode/utf8"
)

// Covered reports whether every token of v is also a token of text, judged
// without tokenizing v: v occurs in text byte for byte, at rune boundaries,
// with no word character continuing it at either end. Such an occurrence
// splits into the same parts as v alone (only a leading or trailing joiner
// can join it to its neighbours, and that adds tokens, never removes one),
// so indexing text already indexed v. A false answer says nothing: v may
// still be covered (another case, an escaped form).
func Covered(text, v string) bool {
	if v == "" {
		return true
	}
	for from, tries := 0, 0; tries < 4; tries++ {
		i := strings.Index(text[from:], v)
		if i < 0 {
			return false
		}
		i += from
		if boundedAt(text, v, i) {
			return true
		}
		from = i + 1
		if from > len(text)-len(v) {
			return false
		}
	}
	return false
}

// CoveredAt is Covered for an occurrence of v already known to be at
// text[i:] (v is text[i:i+len(v)]): it only checks the occurrence's ends.
func CoveredAt(text, v string, i int) bool {
	return v == "" || boundedAt(text, v, i)
}

// boundedAt reports whether the occurrence of v at text[i:] is cut from
// its surroundings as v alone is.
func boundedAt(text, v string, i int) bool {
	j := i + len(v)
	if !utf8.RuneStart(text[i]) || (j < len(text) && !utf8.RuneStart(text[j])) {
		return false
	}
	if i > 0 && startsWord(v) {
		if r, _ := utf8.DecodeLastRuneInString(text[:i]); isWordChar(r) {
			return false
		}
	}
	if j < len(text) && endsWord(v) {
		if r, _ := utf8.DecodeRuneInString(text[j:]); isWordChar(r) {
			return false
		}
	}
	return true
}

func startsWord(v string) bool {
	r, _ := utf8.DecodeRuneInString(v)
	return isWordChar(r)
}

func endsWord(v string) bool {
	r, _ := utf8.DecodeLastRuneInString(v)
	return isWordChar(r)
}

// isWordChar is the tokenizer's word class for a rune of unlowered text.
func isWordChar(r rune) bool {
	if r < utf8.RuneSelf {
		return classes[r] == clsWord
	}
	return isWordRune(r)
}
