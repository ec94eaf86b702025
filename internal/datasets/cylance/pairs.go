package cylance

import "strings"

// eachPair calls fn for every "Key: value" of a payload. Pairs are
// separated by ", ", but values hold commas too (paths, "(a, b)" lists,
// classifications), so a ", " separates only when a key follows it: a
// capitalised run of words ending in ':' ("Device Name:"). A value that
// starts with '(' runs at least to its ')'.
func eachPair(s string, fn func(key, value string)) {
	for s != "" {
		colon := strings.IndexByte(s, ':')
		if colon < 0 {
			return
		}
		key := strings.TrimSpace(s[:colon])
		rest := s[colon+1:]
		from := len(rest) - len(strings.TrimLeft(rest, " "))
		if from < len(rest) && rest[from] == '(' {
			if end := strings.IndexByte(rest[from:], ')'); end >= 0 {
				from += end
			}
		}
		end := nextSeparator(rest, from)
		fn(key, strings.TrimSpace(rest[:end]))
		if end >= len(rest) {
			return
		}
		s = rest[end+2:]
	}
}

// nextSeparator returns the index of the ", " before the next key at or
// after from, or len(s).
func nextSeparator(s string, from int) int {
	for i := from; i+2 < len(s); i++ {
		if s[i] == ',' && s[i+1] == ' ' && isKeyAt(s[i+2:]) {
			return i
		}
	}
	return len(s)
}

// isKeyAt reports a key at the start of s: an upper-case letter, then
// letters, digits and spaces, then ':'.
func isKeyAt(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s) && i < 48; i++ {
		c := s[i]
		switch {
		case c == ':':
			return true
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == ' ':
		default:
			return false
		}
	}
	return false
}

// list splits "(a, b)" or "a, b" into its elements.
func list(v string) []string {
	v = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(v), "("), ")"))
	if v == "" {
		return nil
	}
	var out []string
	for el := range strings.SplitSeq(v, ",") {
		if el = strings.TrimSpace(el); el != "" {
			out = append(out, el)
		}
	}
	return out
}

// snake turns a payload key into a field name: "Is Unique To Cylance"
// becomes "is_unique_to_cylance".
func snake(key string) string {
	var b strings.Builder
	b.Grow(len(key))
	underscore := false
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		default:
			underscore = b.Len() > 0
			continue
		}
		if underscore {
			b.WriteByte('_')
			underscore = false
		}
		b.WriteByte(c)
	}
	return b.String()
}
