package elb

import "strings"

// maxTokens bounds a line: AWS's longest format (ALB) has 33 fields and
// may grow at the end, so anything far beyond is not an access log.
const maxTokens = 64

// tokenize splits an access log line into its space-separated fields. A
// field that starts with '"' runs to the next '"' that is followed by a
// space or the end of the line, so that a quoted request or user agent may
// hold spaces and even stray quotes; `\"` and `\\` inside it are unescaped.
// The surrounding quotes are dropped. It returns false for a quoted field
// that never closes.
func tokenize(s string, dst []string) ([]string, bool) {
	i := 0
	for i < len(s) {
		if s[i] == ' ' {
			i++
			continue
		}
		if len(dst) == maxTokens {
			return dst, true
		}
		if s[i] != '"' {
			j := strings.IndexByte(s[i:], ' ')
			if j < 0 {
				j = len(s) - i
			}
			dst = append(dst, s[i:i+j])
			i += j
			continue
		}
		end, escaped := closingQuote(s, i+1)
		if end < 0 {
			return dst, false
		}
		v := s[i+1 : end]
		if escaped {
			v = unescape(v)
		}
		dst = append(dst, v)
		i = end + 1
	}
	return dst, true
}

// closingQuote finds the quote that ends a quoted field starting at from,
// and reports whether the field holds backslash escapes.
func closingQuote(s string, from int) (int, bool) {
	escaped := false
	for k := from; k < len(s); k++ {
		switch s[k] {
		case '\\':
			escaped = true
			k++
		case '"':
			if k+1 == len(s) || s[k+1] == ' ' {
				return k, escaped
			}
		}
	}
	return -1, escaped
}

func unescape(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	for k := 0; k < len(v); k++ {
		if v[k] == '\\' && k+1 < len(v) && (v[k+1] == '"' || v[k+1] == '\\') {
			k++
		}
		b.WriteByte(v[k])
	}
	return b.String()
}
