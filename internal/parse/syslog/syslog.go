// Package syslog parses one syslog message (framing is the listener's job)
// in any of the shapes found in practice: RFC 5424, RFC 3164 with or
// without PRI, rsyslog's high-precision RFC 3339 timestamps in place of the
// BSD one, and the relayed or malformed variants RFC 3164 describes.
//
// Parsing never fails: a line without a recognisable header is returned as
// a message whose Body is the whole line (after a valid PRI, if any) and
// whose Format is FormatNone.
package syslog

import (
	"strings"
	"time"
)

// Format is the header shape that was recognised.
type Format uint8

// Header formats.
const (
	// FormatNone: no header was found; Body holds the line after any PRI.
	FormatNone Format = iota
	// FormatRFC3164: a BSD-style header (BSD or RFC 3339 timestamp,
	// hostname, tag).
	FormatRFC3164
	// FormatRFC5424: an RFC 5424 header.
	FormatRFC5424
)

// String names the format.
func (f Format) String() string {
	switch f {
	case FormatRFC3164:
		return "rfc3164"
	case FormatRFC5424:
		return "rfc5424"
	default:
		return "none"
	}
}

// Message is one parsed syslog message. String fields are substrings of
// one copy of the input line, except structured-data values with escapes.
type Message struct {
	Format Format

	// Priority is facility*8 + severity; valid only when HasPriority.
	Priority    int
	HasPriority bool
	Facility    int
	Severity    int

	// Version is the RFC 5424 protocol version (0 for other formats).
	Version int

	// Timestamp is when the message says it happened; valid only when
	// HasTimestamp. A timestamp that carried a UTC offset is returned in
	// UTC; one without a zone is in the location passed to Parse, and
	// ZoneAssumed is then true.
	Timestamp    time.Time
	HasTimestamp bool
	ZoneAssumed  bool

	// Hostname, AppName (the RFC 3164 TAG), ProcID and MsgID are "" when
	// absent or NILVALUE.
	Hostname string
	AppName  string
	ProcID   string
	MsgID    string

	// StructuredData holds the RFC 5424 SD-ELEMENTs in order.
	StructuredData []SDElement

	// Content is the part after the hostname: for RFC 3164 the TAG and
	// the text (what RFC 3164 calls MSG), for RFC 5424 the same as Body.
	// Callers use it to spot a payload that the tag parser mistook for a
	// tag ("CEF:0|...").
	Content string
	// Body is the free-form message text (a leading UTF-8 BOM removed).
	Body string
}

// HeaderFound reports whether a syslog header was recognised.
func (m *Message) HeaderFound() bool { return m.Format != FormatNone }

// SDElement is one RFC 5424 structured-data element.
type SDElement struct {
	ID     string
	Params []SDParam
}

// SDParam is one parameter of an SDElement, its value unescaped.
type SDParam struct {
	Name  string
	Value string
}

// Parse parses one syslog message.
//
// ref is the time the message was received: a BSD timestamp has no year, and
// Parse picks the latest year that puts it no more than a day after ref (so
// "Dec 31" received on 1 January is last year, "Mar 1" received in
// November this year). loc is the zone of timestamps that carry none
// (nil means UTC).
func Parse(line []byte, ref time.Time, loc *time.Location) Message {
	return ParseString(string(line), ref, loc)
}

// ParseString is Parse for a string; it does not copy the line.
func ParseString(s string, ref time.Time, loc *time.Location) Message {
	if loc == nil {
		loc = time.UTC
	}
	s = strings.TrimRight(s, "\r\n\x00")
	var m Message
	rest := s
	if pri, n, ok := parsePRI(s); ok {
		m.Priority, m.HasPriority = pri, true
		m.Facility, m.Severity = pri>>3, pri&7
		rest = s[n:]
	}
	if m.HasPriority {
		if v, n, ok := parseVersion(rest); ok && parse5424(&m, rest[n:], loc) {
			m.Version = v
			m.Format = FormatRFC5424
			return m
		}
		m.StructuredData = nil
	}
	if parse3164(&m, rest, ref, loc) {
		m.Format = FormatRFC3164
		return m
	}
	// No header: keep what was learnt from PRI, the rest is the message.
	m = Message{Priority: m.Priority, HasPriority: m.HasPriority, Facility: m.Facility, Severity: m.Severity}
	m.Content, m.Body = rest, rest
	return m
}

// parsePRI reads "<N>" with N in 0..191 written without leading zeros
// (except "<0>").
func parsePRI(s string) (pri, n int, ok bool) {
	if len(s) < 3 || s[0] != '<' {
		return 0, 0, false
	}
	i := 1
	for i < len(s) && i <= 4 && isDigit(s[i]) {
		pri = pri*10 + int(s[i]-'0')
		i++
	}
	digits := i - 1
	if digits == 0 || digits > 3 || i >= len(s) || s[i] != '>' || pri > 191 {
		return 0, 0, false
	}
	if digits > 1 && s[1] == '0' {
		return 0, 0, false
	}
	return pri, i + 1, true
}

// parseVersion reads an RFC 5424 VERSION (1-3 digits, no leading zero)
// followed by a space.
func parseVersion(s string) (v, n int, ok bool) {
	i := 0
	for i < len(s) && i < 4 && isDigit(s[i]) {
		v = v*10 + int(s[i]-'0')
		i++
	}
	if i == 0 || i > 3 || s[0] == '0' || i >= len(s) || s[i] != ' ' {
		return 0, 0, false
	}
	return v, i + 1, true
}

// parse5424 reads the header after "VERSION SP". It fails only when the
// timestamp is neither NILVALUE nor RFC 3339, so that such a line is tried
// as RFC 3164 next; a header cut short keeps the fields read so far.
func parse5424(m *Message, s string, loc *time.Location) bool {
	tok, s := nextToken(s)
	switch {
	case tok == "-":
	case tok == "":
		return false
	default:
		t, n, hasZone, ok := parseISO(tok, loc)
		if !ok || n != len(tok) {
			return false
		}
		m.Timestamp, m.HasTimestamp, m.ZoneAssumed = t, true, !hasZone
	}
	fields := [4]*string{&m.Hostname, &m.AppName, &m.ProcID, &m.MsgID}
	for _, f := range fields {
		tok, s = nextToken(s)
		if tok != "-" {
			*f = tok
		}
	}
	if s == "" {
		return true
	}
	if s[0] == '-' && (len(s) == 1 || s[1] == ' ') {
		s = s[1:]
	} else if s[0] == '[' {
		sd, n, ok := parseSD(s)
		if ok {
			m.StructuredData = sd
			s = s[n:]
		}
		// Malformed SD: leave it to the message text.
	}
	if len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	s = strings.TrimPrefix(s, "\ufeff")
	m.Content, m.Body = s, s
	return true
}

// nextToken returns the text up to the next space and what follows it.
func nextToken(s string) (tok, rest string) {
	i := strings.IndexByte(s, ' ')
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i+1:]
}

// parseSD reads one or more SD-ELEMENTs at the start of s and returns how
// many bytes they took.
func parseSD(s string) ([]SDElement, int, bool) {
	var out []SDElement
	i := 0
	for i < len(s) && s[i] == '[' {
		el, n, ok := parseSDElement(s[i:])
		if !ok {
			return nil, 0, false
		}
		out = append(out, el)
		i += n
	}
	return out, i, len(out) > 0
}

func parseSDElement(s string) (SDElement, int, bool) {
	var el SDElement
	i := 1
	start := i
	for i < len(s) && isSDName(s[i]) {
		i++
	}
	if i == start || i >= len(s) {
		return el, 0, false
	}
	el.ID = s[start:i]
	for i < len(s) {
		switch s[i] {
		case ']':
			return el, i + 1, true
		case ' ':
			i++
			nameStart := i
			for i < len(s) && isSDName(s[i]) {
				i++
			}
			if i == nameStart || i+1 >= len(s) || s[i] != '=' || s[i+1] != '"' {
				return el, 0, false
			}
			name := s[nameStart:i]
			i += 2
			val, n, ok := parseSDValue(s[i:])
			if !ok {
				return el, 0, false
			}
			el.Params = append(el.Params, SDParam{Name: name, Value: val})
			i += n
		default:
			return el, 0, false
		}
	}
	return el, 0, false
}

// parseSDValue reads a PARAM-VALUE up to its closing quote, which it
// consumes, undoing the \" \\ and \] escapes.
func parseSDValue(s string) (string, int, bool) {
	escaped := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			if !escaped {
				return s[:i], i + 1, true
			}
			return unescapeSD(s[:i]), i + 1, true
		}
	}
	return "", 0, false
}

func unescapeSD(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\' || s[i+1] == ']') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// isSDName reports whether c may appear in an SD-NAME: printable US-ASCII
// except '=', ' ', ']' and '"'.
func isSDName(c byte) bool {
	return c > ' ' && c < 0x7f && c != '=' && c != ']' && c != '"'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
