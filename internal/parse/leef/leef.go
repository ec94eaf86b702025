// Package leef parses IBM QRadar Log Event Extended Format records:
//
//	LEEF:1.0|Vendor|Product|Version|EventID|key=value<TAB>key=value...
//	LEEF:2.0|Vendor|Product|Version|EventID|DelimiterChar|key=value<D>key=value...
//
// In LEEF 2.0 the delimiter field is optional (tab when absent or empty) and
// is written as the character itself or as its code in hex: xHH or 0xHH.
// A '|' in a header field is escaped with a backslash. A syslog header in
// front of "LEEF:" is the caller's to remove.
package leef

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNotLEEF is returned (wrapped) for a line that does not start with
// "LEEF:".
var ErrNotLEEF = errors.New("not a LEEF record")

// Message is one parsed LEEF record.
type Message struct {
	// Version as written: "1.0", "2.0" (some senders write "1" or "2").
	Version        string
	Vendor         string
	Product        string
	ProductVersion string
	EventID        string
	// Delimiter separates the attributes: "\t" unless LEEF 2.0 names
	// another one (or a relay rewrote tabs as "#011").
	Delimiter  string
	Attributes []Attribute
}

// Attribute is one key=value pair, in record order.
type Attribute struct {
	Key   string
	Value string
}

// Get returns the value of the first attribute with the given key.
func (m *Message) Get(key string) (string, bool) {
	for _, a := range m.Attributes {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// Is reports whether data starts with "LEEF:" and a version digit.
func Is(data []byte) bool {
	return len(data) > 5 && string(data[:5]) == "LEEF:" && data[5] >= '0' && data[5] <= '9'
}

// Parse parses one LEEF record.
func Parse(line []byte) (Message, error) {
	return ParseString(string(line))
}

// ParseString is Parse for a string; it does not copy the line.
func ParseString(s string) (Message, error) {
	var m Message
	s = strings.TrimRight(s, "\r\n")
	if !strings.HasPrefix(s, "LEEF:") {
		return m, fmt.Errorf("parse leef: %w", ErrNotLEEF)
	}
	s = s[len("LEEF:"):]
	var fields [5]string
	for n := 0; n < 5; n++ {
		field, rest, found := cutField(s)
		if !found {
			if n == 4 {
				// "...|EventID<TAB>attrs" with no '|' after the event id.
				field, rest, _ = strings.Cut(s, "\t")
				fields[4], s = field, rest
				break
			}
			return m, fmt.Errorf("parse leef header: want 5 '|'-separated fields, found %d", n+1)
		}
		fields[n] = field
		s = rest
	}
	m.Version = strings.TrimSpace(fields[0])
	if m.Version == "" || m.Version[0] < '0' || m.Version[0] > '9' {
		return m, fmt.Errorf("parse leef header: version %q is not a number", fields[0])
	}
	m.Vendor, m.Product, m.ProductVersion, m.EventID = fields[1], fields[2], fields[3], fields[4]
	m.Delimiter = "\t"
	if m.Version[0] >= '2' {
		if field, rest, found := cutField(s); found {
			if d, ok := delimiter(field); ok {
				m.Delimiter, s = d, rest
			}
		}
	}
	if m.Delimiter == "\t" && !strings.Contains(s, "\t") && strings.Contains(s, "#011") {
		// rsyslog writes control characters as #ooo by default.
		m.Delimiter = "#011"
	}
	m.Attributes = parseAttributes(s, m.Delimiter)
	return m, nil
}

// delimiter decodes a LEEF 2.0 DelimiterChar field: empty (tab), one
// character, or its code as xHH / 0xHH (up to four hex digits).
func delimiter(f string) (string, bool) {
	switch {
	case f == "":
		return "\t", true
	case len(f) == 1:
		return f, true
	}
	hex := f
	if len(hex) > 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X') {
		hex = hex[2:]
	} else if hex[0] == 'x' || hex[0] == 'X' {
		hex = hex[1:]
	} else {
		return "", false
	}
	if len(hex) == 0 || len(hex) > 4 {
		return "", false
	}
	code, err := strconv.ParseUint(hex, 16, 32)
	if err != nil || code == 0 {
		return "", false
	}
	return string(rune(code)), true
}

// cutField returns the text up to the first unescaped '|' (undoing \|) and
// the text after it.
func cutField(s string) (field, rest string, found bool) {
	escaped := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) && s[i+1] == '|' {
				escaped = true
				i++
			}
		case '|':
			field = s[:i]
			if escaped {
				field = strings.ReplaceAll(field, `\|`, "|")
			}
			return field, s[i+1:], true
		}
	}
	return s, "", false
}

// parseAttributes splits s at the delimiter into key=value pairs. When the
// delimiter is a tab that the record does not contain (a relay turned tabs
// into spaces), pairs are split as " key=" boundaries instead.
func parseAttributes(s, delim string) []Attribute {
	if s == "" {
		return nil
	}
	if delim == "\t" && !strings.Contains(s, "\t") {
		return parseSpaced(s)
	}
	out := make([]Attribute, 0, strings.Count(s, delim)+1)
	for s != "" {
		part, rest, _ := strings.Cut(s, delim)
		s = rest
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			continue
		}
		out = append(out, Attribute{Key: k, Value: strings.TrimRight(v, "\r\n")})
	}
	return out
}

// parseSpaced splits "k1=v one k2=v2": a key is a run of non-space,
// non-'=' characters after a space, directly followed by '='.
func parseSpaced(s string) []Attribute {
	var out []Attribute
	key := ""
	valStart := -1
	for j := 0; j < len(s); j++ {
		if s[j] != '=' {
			continue
		}
		k := j
		for k > 0 && s[k-1] != ' ' && s[k-1] != '=' {
			k--
		}
		if k == j || (k > 0 && s[k-1] != ' ') || (valStart >= 0 && k <= valStart) {
			continue
		}
		if valStart >= 0 {
			out = append(out, Attribute{Key: key, Value: strings.TrimRight(s[valStart:k-1], " ")})
		}
		key, valStart = s[k:j], j+1
	}
	if valStart >= 0 {
		out = append(out, Attribute{Key: key, Value: strings.TrimRight(s[valStart:], " ")})
	}
	return out
}
