// Package cef parses ArcSight Common Event Format records:
//
//	CEF:Version|Device Vendor|Device Product|Device Version|Signature ID|Name|Severity|Extension
//
// The header escapes '|' and '\' with a backslash. The extension is a list
// of key=value pairs separated by spaces, where a value may itself hold
// spaces: it runs until the next " key=". Values escape '=', '\', and write
// newlines as \n and \r. A syslog header in front of "CEF:" is the caller's
// to remove.
package cef

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNotCEF is returned (wrapped) for a line that does not start with
// "CEF:".
var ErrNotCEF = errors.New("not a CEF record")

// Message is one parsed CEF record. Strings are substrings of one copy of
// the input, except where escapes had to be undone.
type Message struct {
	Version       int
	DeviceVendor  string
	DeviceProduct string
	DeviceVersion string
	SignatureID   string
	Name          string
	// Severity as written: "0".."10" or Low, Medium, High, Very-High.
	Severity   string
	Extensions []Extension
}

// Extension is one key=value pair of the extension, in record order.
type Extension struct {
	Key   string
	Value string
}

// Get returns the value of the first extension with the given key.
func (m *Message) Get(key string) (string, bool) {
	for _, e := range m.Extensions {
		if e.Key == key {
			return e.Value, true
		}
	}
	return "", false
}

// SeverityLevel returns the severity as 0-10: numbers as written (clamped),
// and the words ArcSight uses mapped to the top of their band (Low 3,
// Medium 6, High 8, Very-High 10). ok is false for anything else.
func (m *Message) SeverityLevel() (level int, ok bool) {
	s := strings.TrimSpace(m.Severity)
	if n, err := strconv.Atoi(s); err == nil {
		return min(max(n, 0), 10), true
	}
	switch strings.ToLower(s) {
	case "low":
		return 3, true
	case "medium":
		return 6, true
	case "high":
		return 8, true
	case "very-high", "very high", "veryhigh":
		return 10, true
	}
	return 0, false
}

// Is reports whether data starts with "CEF:" and a version digit.
func Is[T ~string | ~[]byte](data T) bool {
	return len(data) > 4 && string(data[:4]) == "CEF:" && data[4] >= '0' && data[4] <= '9'
}

// Parse parses one CEF record.
func Parse(line []byte) (Message, error) {
	return ParseString(string(line))
}

// ParseString is Parse for a string; it does not copy the line.
func ParseString(s string) (Message, error) {
	return ParseStringAppend(s, nil)
}

// ParseStringAppend is ParseString that appends the extensions to exts:
// a caller that parses many records can reuse one slice for them (the
// strings never point into it).
func ParseStringAppend(s string, exts []Extension) (Message, error) {
	var m Message
	s = strings.TrimRight(s, "\r\n")
	if !strings.HasPrefix(s, "CEF:") {
		return m, fmt.Errorf("parse cef: %w", ErrNotCEF)
	}
	s = s[len("CEF:"):]
	var fields [7]string
	n := 0
	for n < 7 {
		field, rest, found := cutHeaderField(s)
		if !found {
			if n == 6 {
				// "...|Name|Severity" with no extension and no final '|'.
				fields[6] = field
				s = ""
				n = 7
				break
			}
			return m, fmt.Errorf("parse cef header: want 7 '|'-separated fields, found %d", n+1)
		}
		fields[n] = field
		s = rest
		n++
	}
	v, err := strconv.Atoi(strings.TrimSpace(fields[0]))
	if err != nil || v < 0 {
		return m, fmt.Errorf("parse cef header: version %q is not a number", fields[0])
	}
	m.Version = v
	m.DeviceVendor, m.DeviceProduct, m.DeviceVersion = fields[1], fields[2], fields[3]
	m.SignatureID, m.Name, m.Severity = fields[4], fields[5], fields[6]
	m.Extensions = parseExtensions(s, exts)
	return m, nil
}

// cutHeaderField returns the text up to the first unescaped '|', undoing
// \| and \\, and the text after that '|'. It jumps from '|' to '|' and
// looks byte by byte only where a backslash is.
func cutHeaderField(s string) (field, rest string, found bool) {
	bar := strings.IndexByte(s, '|')
	if bs := strings.IndexByte(s, '\\'); bs >= 0 && (bar < 0 || bs < bar) {
		return cutEscapedHeaderField(s, bs)
	}
	if bar < 0 {
		return s, "", false
	}
	return s[:bar], s[bar+1:], true
}

// cutEscapedHeaderField is cutHeaderField for a field with a backslash at
// s[bs] before its end.
func cutEscapedHeaderField(s string, bs int) (field, rest string, found bool) {
	for i := bs; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '|':
			return unescapeHeader(s[:i]), s[i+1:], true
		}
	}
	return unescapeHeader(s), "", false
}

func unescapeHeader(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '|' || s[i+1] == '\\') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseExtensions splits "k1=v1 k2=v two k3=v3". Each unescaped '=' that
// follows a run of key characters at the start of the text or after a space
// begins a pair; the value runs up to the space before the next such key.
// Text before the first key is ignored. A backslash escapes the byte after
// it. The scan jumps from '=' to '=' (and backslash to backslash) with
// IndexByte rather than looking at every byte.
func parseExtensions(s string, dst []Extension) []Extension {
	key := ""
	valStart := -1
	escaped := false
	eq := indexFrom(s, 0, '=')
	bs := indexFrom(s, 0, '\\')
	for {
		if bs < eq {
			// The byte after a backslash is text, even an '='.
			escaped = true
			next := bs + 2
			bs = indexFrom(s, next, '\\')
			if eq < next {
				eq = indexFrom(s, next, '=')
			}
			continue
		}
		if eq >= len(s) {
			break
		}
		j := eq
		eq = indexFrom(s, j+1, '=')
		ks := keyStartBefore(s, j)
		if ks < 0 || (valStart >= 0 && ks <= valStart) {
			continue
		}
		if valStart >= 0 {
			dst = append(dst, Extension{Key: key, Value: value(s[valStart:ks-1], escaped)})
		} else if dst == nil {
			dst = make([]Extension, 0, strings.Count(s[j:], "="))
		}
		key, valStart, escaped = s[ks:j], j+1, false
	}
	if valStart < 0 {
		return dst
	}
	if valStart > len(s) {
		valStart = len(s)
	}
	return append(dst, Extension{Key: key, Value: value(s[valStart:], escaped)})
}

// indexFrom returns the index of the first c in s at or after from, or
// len(s) when there is none.
func indexFrom(s string, from int, c byte) int {
	if from >= len(s) {
		return len(s)
	}
	if i := strings.IndexByte(s[from:], c); i >= 0 {
		return from + i
	}
	return len(s)
}

// keyStartBefore returns where the key ending just before s[eq] starts, or
// -1 when the characters before '=' are not a key at the start of s or
// after a space.
func keyStartBefore(s string, eq int) int {
	k := eq
	for k > 0 && isKeyChar(s[k-1]) {
		k--
	}
	if k == eq || (k > 0 && s[k-1] != ' ') {
		return -1
	}
	return k
}

// value trims the spaces that separate pairs and undoes escapes.
func value(v string, escaped bool) string {
	v = strings.TrimRight(v, " ")
	if !escaped {
		return v
	}
	return unescapeValue(v)
}

// unescapeValue undoes \= \\ \n \r (and \| which some senders write);
// other backslashes, such as in Windows paths, are kept.
func unescapeValue(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case '=', '\\', '|':
				c = s[i+1]
				i++
			case 'n':
				c = '\n'
				i++
			case 'r':
				c = '\r'
				i++
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// isKeyChar reports whether c may appear in an extension key.
func isKeyChar(c byte) bool { return keyChars[c] }

// keyChars holds the bytes an extension key is made of: a table, since
// every '=' of a record has the key before it checked byte by byte.
var keyChars = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '.' || c == '-' || c == '[' || c == ']'
	}
	return t
}()
