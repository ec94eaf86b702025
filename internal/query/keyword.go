package query

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mamori-sec/mamori/internal/event"
)

// A bare term or phrase (a keyword) searches the event's text: it matches
// when the raw line or the message contains it, ignoring case, or when it
// equals, ignoring case, an element of related.user, related.hosts or
// related.hash. A keyword that is an IP address also matches related.ip
// exactly, and a CIDR matches the addresses in related.ip inside it.
//
// This is the baseline strategy: contains(lower(...)) scans every row in
// the time range. keywordSQL and keywordMatch are the one place to change
// when keywords move to a token index.

const relatedIPField = event.RelatedIP

// keywordTextFields are searched for the keyword as a substring.
func keywordTextFields() [2]string {
	return [2]string{event.FieldOriginal, event.FieldMessage}
}

// keywordElemFields are searched for an element equal to the keyword.
func keywordElemFields() [3]string {
	return [3]string{event.RelatedUser, event.RelatedHosts, event.RelatedHash}
}

func keywordSQL(s *sqlBuilder, k keywordPlan) {
	s.w("(")
	for i, t := range k.text {
		if i > 0 {
			s.w(" OR ")
		}
		s.anyValue(t, func(s *sqlBuilder, x string) {
			if k.wild {
				s.w("lower(" + x + ") LIKE ")
				s.arg("%" + globToLike(k.lower) + "%")
				s.w(` ESCAPE '\'`)
				return
			}
			s.w("regexp_matches(lower(" + x + "), ")
			s.arg(wordPattern(k.lower))
			s.w(")")
		}, nil, "")
	}
	for _, t := range k.elems {
		s.w(" OR ")
		s.anyValue(t, func(s *sqlBuilder, x string) {
			if k.wild {
				s.w("lower(" + x + ") LIKE ")
				s.arg(globToLike(k.lower))
				s.w(` ESCAPE '\'`)
				return
			}
			s.w("lower(" + x + ") = ")
			s.arg(k.lower)
		}, nil, "")
	}
	if k.ip != "" {
		s.w(" OR ")
		s.termPlan(k.related, termPlan{mode: tmEqual, text: k.ip})
	}
	if k.isNet {
		s.w(" OR ")
		s.termPlan(k.related, k.cidr)
	}
	s.w(")")
}

func keywordMatch(e *event.Event, k keywordPlan) bool {
	for _, t := range k.text {
		if anyString(e, t, func(v string) bool {
			if k.wild {
				return globMatch(k.anyGlob, toLower(v))
			}
			return ContainsWord(v, k.lower)
		}) {
			return true
		}
	}
	for _, t := range k.elems {
		if anyString(e, t, func(v string) bool {
			if k.wild {
				return globMatch(k.lower, toLower(v))
			}
			return toLower(v) == k.lower
		}) {
			return true
		}
	}
	if k.ip != "" && termMatch(e, k.related, termPlan{mode: tmEqual, text: k.ip}) {
		return true
	}
	return k.isNet && termMatch(e, k.related, k.cidr)
}

func toLower(s string) string { return strings.ToLower(s) }

// ContainsWord reports whether term occurs in text as whole words,
// ignoring case: lower-cased, with no word character (letter, number or
// mark) right before or after it. "alice" occurs in "user=Alice," and in
// "alice@example.com" but not in "malice". This is the keyword rule of the
// token index (internal/tokens), so that a block whose filter lacks one of
// a keyword's tokens cannot hold a match. term must be lower-case already.
func ContainsWord(text, term string) bool {
	if term == "" {
		return true
	}
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			return containsWordFold(strings.ToLower(text), term)
		}
	}
	for i := 0; i+len(term) <= len(text); i++ {
		j := 0
		for j < len(term) && asciiLower(text[i+j]) == term[j] {
			j++
		}
		if j == len(term) && wordBoundary(text, i, i+len(term)) {
			return true
		}
	}
	return false
}

// wordPattern is the RE2 pattern of ContainsWord for SQL: the term
// literally, not glued to a word character on a side where the term itself
// starts or ends with one.
func wordPattern(term string) string {
	const notWord = `[^\pL\pN\pM]`
	p := regexp.QuoteMeta(term)
	if startsWithWord(term) {
		p = `(?:^|` + notWord + `)` + p
	}
	if endsWithWord(term) {
		p += `(?:$|` + notWord + `)`
	}
	return `(?s)` + p
}

// containsWordFold is ContainsWord on already lower-cased text.
func containsWordFold(text, term string) bool {
	for from := 0; from <= len(text)-len(term); {
		i := strings.Index(text[from:], term)
		if i < 0 {
			return false
		}
		i += from
		if wordBoundary(text, i, i+len(term)) {
			return true
		}
		_, size := utf8.DecodeRuneInString(text[i:])
		from = i + size
	}
	return false
}

// wordBoundary reports whether text[start:end] is not glued to a word
// character on either side.
func wordBoundary(text string, start, end int) bool {
	if start > 0 {
		r, _ := utf8.DecodeLastRuneInString(text[:start])
		if isWordRune(r) && startsWithWord(text[start:end]) {
			return false
		}
	}
	if end < len(text) {
		r, _ := utf8.DecodeRuneInString(text[end:])
		if isWordRune(r) && endsWithWord(text[start:end]) {
			return false
		}
	}
	return true
}

func startsWithWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return isWordRune(r)
}

func endsWithWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return isWordRune(r)
}

// isWordRune is the tokenizer's word character: a letter, number or mark.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r)
}

func asciiLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
