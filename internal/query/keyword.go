package query

import (
	"strings"
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
			s.w("contains(lower(" + x + "), ")
			s.arg(k.lower)
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
			return containsLower(v, k.lower)
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

// containsLower reports whether s contains sub (already lower-cased),
// ignoring case, without allocating when s is ASCII.
func containsLower(s, sub string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return strings.Contains(strings.ToLower(s), sub)
		}
	}
	if len(sub) == 0 {
		return true
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) && asciiLower(s[i+j]) == sub[j] {
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

func asciiLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
