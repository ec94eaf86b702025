package cloudtrail

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner reads JSON text in place, without building a tree: CloudTrail
// records are read at tens of thousands a second, and encoding/json's
// reflection, copies of every raw part and intermediate maps cost more than
// the mapping itself. Strings without escapes are substrings of the input,
// so a record costs one conversion to string and the values it maps.
//
// The first syntax error is kept in err and stops the scan (every method
// then returns zero values); callers check err once at the end.
type scanner struct {
	s     string
	i     int
	depth int
	err   error
}

// maxDepth bounds nesting, so that a hostile record cannot exhaust the
// stack. CloudTrail's deepest documented parts nest about a dozen levels.
const maxDepth = 256

func (sc *scanner) fail(format string, args ...any) {
	if sc.err == nil {
		sc.err = fmt.Errorf("at byte %d: %s", sc.i, fmt.Sprintf(format, args...))
	}
	sc.i = len(sc.s)
}

// more skips white space and reports whether input is left.
func (sc *scanner) more() bool {
	sc.peek()
	return sc.i < len(sc.s)
}

// peek skips white space and returns the next byte, 0 at the end (see
// more: a NUL byte in the input is also 0, and never valid JSON).
func (sc *scanner) peek() byte {
	for sc.i < len(sc.s) {
		switch c := sc.s[sc.i]; c {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return c
		}
	}
	return 0
}

// object reads an object, calling member for each key; member must
// consume the value.
func (sc *scanner) object(member func(key string)) {
	if sc.peek() != '{' {
		sc.fail("expected an object")
		return
	}
	if sc.depth++; sc.depth > maxDepth {
		sc.fail("nested too deeply")
		return
	}
	sc.i++
	if sc.peek() == '}' {
		sc.i++
		sc.depth--
		return
	}
	for sc.err == nil {
		key := sc.str()
		if sc.peek() != ':' {
			sc.fail("expected ':' after object key")
			return
		}
		sc.i++
		member(key)
		switch sc.peek() {
		case ',':
			sc.i++
		case '}':
			sc.i++
			sc.depth--
			return
		default:
			if sc.more() {
				sc.fail("expected ',' or '}' in object")
			} else {
				sc.fail("unexpected end of input")
			}
		}
	}
}

// array reads an array, calling elem for each element; elem must consume
// it.
func (sc *scanner) array(elem func()) {
	if sc.peek() != '[' {
		sc.fail("expected an array")
		return
	}
	if sc.depth++; sc.depth > maxDepth {
		sc.fail("nested too deeply")
		return
	}
	sc.i++
	if sc.peek() == ']' {
		sc.i++
		sc.depth--
		return
	}
	for sc.err == nil {
		elem()
		switch sc.peek() {
		case ',':
			sc.i++
		case ']':
			sc.i++
			sc.depth--
			return
		default:
			if sc.more() {
				sc.fail("expected ',' or ']' in array")
			} else {
				sc.fail("unexpected end of input")
			}
		}
	}
}

// members reads an object like object, but reads and ignores a value of
// any other type (null, a string): a part of an unexpected type is left
// out rather than failing the record.
func (sc *scanner) members(member func(key string)) {
	if sc.peek() != '{' {
		sc.skip()
		return
	}
	sc.object(member)
}

// elements is to array what members is to object.
func (sc *scanner) elements(elem func()) {
	if sc.peek() != '[' {
		sc.skip()
		return
	}
	sc.array(elem)
}

// skip reads and validates any value.
func (sc *scanner) skip() {
	switch sc.peek() {
	case '{':
		sc.object(func(string) { sc.skip() })
	case '[':
		sc.array(sc.skip)
	case '"':
		sc.str()
	default:
		sc.literal()
	}
}

// raw reads any value and returns its text ("null" included).
func (sc *scanner) raw() string {
	sc.peek()
	start := sc.i
	sc.skip()
	if sc.err != nil {
		return ""
	}
	return sc.s[start:sc.i]
}

// text reads a string value; any other value is read and gives "", as a
// field of an unexpected type is left out rather than failing the record.
func (sc *scanner) text() string {
	if sc.peek() == '"' {
		return sc.str()
	}
	sc.skip()
	return ""
}

// str reads a string, unescaped.
func (sc *scanner) str() string {
	if sc.peek() != '"' {
		sc.fail("expected a string")
		return ""
	}
	start := sc.i + 1
	ascii := true
	for j := start; j < len(sc.s); j++ {
		switch c := sc.s[j]; {
		case c == '"':
			sc.i = j + 1
			if !ascii {
				return validUTF8(sc.s[start:j])
			}
			return sc.s[start:j]
		case c >= utf8.RuneSelf:
			ascii = false
		case c == '\\':
			return sc.unescape(start, j)
		case c < 0x20:
			sc.i = j
			sc.fail("control character in string")
			return ""
		}
	}
	sc.fail("unterminated string")
	return ""
}

// unescape reads the rest of a string that has an escape at j. Escaped
// surrogate pairs are joined; a lone surrogate becomes U+FFFD, as
// encoding/json does.
func (sc *scanner) unescape(start, j int) string {
	buf := make([]byte, 0, j-start+16)
	buf = append(buf, sc.s[start:j]...)
	for j < len(sc.s) {
		c := sc.s[j]
		switch {
		case c == '"':
			sc.i = j + 1
			return validUTF8(string(buf))
		case c < 0x20:
			sc.i = j
			sc.fail("control character in string")
			return ""
		case c != '\\':
			buf = append(buf, c)
			j++
			continue
		}
		if j+1 >= len(sc.s) {
			break
		}
		switch e := sc.s[j+1]; e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(sc.s, j+2)
			if !ok {
				sc.i = j
				sc.fail("bad \\u escape")
				return ""
			}
			j += 6
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(sc.s, j+2); ok && j+1 < len(sc.s) && sc.s[j] == '\\' && sc.s[j+1] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						buf = utf8.AppendRune(buf, dec)
						j += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			buf = utf8.AppendRune(buf, r)
			continue
		default:
			sc.i = j
			sc.fail("bad escape \\%c", e)
			return ""
		}
		j += 2
	}
	sc.fail("unterminated string")
	return ""
}

// validUTF8 replaces each byte that is not part of valid UTF-8 with
// U+FFFD, as encoding/json does, so that field names and values are text.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return string(b)
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// literal reads true, false, null or a number and returns its text.
func (sc *scanner) literal() string {
	sc.peek()
	start := sc.i
	for _, w := range [...]string{"true", "false", "null"} {
		if len(sc.s)-start >= len(w) && sc.s[start:start+len(w)] == w {
			sc.i += len(w)
			return w
		}
	}
	if n := numberLen(sc.s[start:]); n > 0 {
		sc.i += n
		return sc.s[start:sc.i]
	}
	if start >= len(sc.s) {
		sc.fail("unexpected end of input")
	} else {
		sc.fail("invalid character %q", sc.s[start])
	}
	return ""
}

// numberLen returns the length of the JSON number at the start of s, 0 if
// there is none: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func numberLen(s string) int {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return 0
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == i+1 {
			return 0
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k == j {
			return 0
		}
		i = k
	}
	return i
}

// scalar reads a string, number, boolean or null as an event value:
// integers as int64, other numbers as float64, null as nil.
func (sc *scanner) scalar() any {
	if sc.peek() == '"' {
		return sc.str()
	}
	lit := sc.literal()
	switch lit {
	case "", "null":
		return nil
	case "true":
		return true
	case "false":
		return false
	}
	if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
		return n
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return nil // out of range: no value rather than a wrong one
	}
	return f
}

// flag reads a boolean written as true/false or "true"/"false"; anything
// else is read and left unset.
func (sc *scanner) flag() optBool {
	switch sc.peek() {
	case '"':
		switch sc.str() {
		case "true":
			return optBool{ok: true, val: true}
		case "false":
			return optBool{ok: true}
		}
		return optBool{}
	case 't', 'f':
		return optBool{ok: true, val: sc.literal() == "true"}
	}
	sc.skip()
	return optBool{}
}
