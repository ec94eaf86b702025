// Package kv parses generic key=value lines, as FortiGate, many firewalls
// and application logs write them:
//
//	date=2024-01-01 time=10:00:00 devname="FG-01" msg="a \"quoted\" value"
//
// Keys are [A-Za-z0-9_.:-]+. Values are bare (up to the next white space),
// double-quoted or single-quoted; inside quotes a backslash escapes the
// quote and itself. Text that is not a pair (a syslog header, stray
// punctuation) is skipped. Pairs are returned in the order they appear.
package kv

import (
	"strings"
)

// Pair is one key and its value (quotes removed, escapes undone).
type Pair struct {
	Key   string
	Value string
}

// Parse returns the pairs of line.
func Parse(line []byte) []Pair {
	return AppendString(nil, string(line))
}

// AppendString appends the pairs of s to dst and returns it; keys and
// values are substrings of s unless they held escapes. Reusing dst across
// calls avoids an allocation per line.
func AppendString(dst []Pair, s string) []Pair {
	i := 0
	for i < len(s) {
		// Skip white space and find the start of a key.
		if isSpace(s[i]) || !isKeyChar(s[i]) {
			i++
			continue
		}
		start := i
		for i < len(s) && isKeyChar(s[i]) {
			i++
		}
		if i >= len(s) || s[i] != '=' || (start > 0 && !isBoundary(s[start-1])) {
			// Not a key: junk up to the next white space.
			for i < len(s) && !isSpace(s[i]) {
				i++
			}
			continue
		}
		key := s[start:i]
		i++ // '='
		var val string
		val, i = readValue(s, i)
		dst = append(dst, Pair{Key: key, Value: val})
	}
	return dst
}

// isBoundary reports whether a key may start after c. Keys start after
// white space or after the closing quote of the previous value.
func isBoundary(c byte) bool { return isSpace(c) || c == '"' || c == '\'' }

// readValue reads the value starting at s[i] and returns it and the index
// after it.
func readValue(s string, i int) (string, int) {
	if i >= len(s) {
		return "", i
	}
	q := s[i]
	if q != '"' && q != '\'' {
		start := i
		for i < len(s) && !isSpace(s[i]) {
			i++
		}
		return s[start:i], i
	}
	i++
	start := i
	escaped := false
	for i < len(s) {
		switch s[i] {
		case '\\':
			escaped = true
			i += 2
			continue
		case q:
			v := s[start:i]
			if escaped {
				v = unescape(v, q)
			}
			return v, i + 1
		}
		i++
	}
	// Unterminated quote: the value runs to the end of the line.
	if i > len(s) {
		i = len(s)
	}
	v := s[start:i]
	if escaped {
		v = unescape(v, q)
	}
	return v, i
}

// unescape undoes \q and \\; any other backslash is kept as written.
func unescape(s string, q byte) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == q || s[i+1] == '\\') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Append formats pairs as a line that Parse reads back to the same pairs:
// values are quoted when they are empty or hold white space, quotes,
// backslashes or '='. Keys are written as they are; they must be valid.
func Append(dst []byte, pairs []Pair) []byte {
	for i, p := range pairs {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, p.Key...)
		dst = append(dst, '=')
		if !needsQuote(p.Value) {
			dst = append(dst, p.Value...)
			continue
		}
		dst = append(dst, '"')
		for j := 0; j < len(p.Value); j++ {
			c := p.Value[j]
			if c == '"' || c == '\\' {
				dst = append(dst, '\\')
			}
			dst = append(dst, c)
		}
		dst = append(dst, '"')
	}
	return dst
}

// ValidKey reports whether k is a key Parse can read.
func ValidKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !isKeyChar(k[i]) {
			return false
		}
	}
	return true
}

func needsQuote(v string) bool {
	if v == "" {
		return true
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case isSpace(c), c == '"', c == '\'', c == '\\', c == '=':
			return true
		}
	}
	return false
}

func isKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == ':' || c == '-'
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
