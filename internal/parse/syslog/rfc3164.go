package syslog

import (
	"strings"
	"time"
)

// maxTagLen bounds what is taken for a TAG. RFC 3164 says 32; real programs
// ("postfix/submission/smtpd", "systemd-networkd-wait-online") run longer.
const maxTagLen = 64

// parse3164 reads a BSD-style header: [yyyy ] timestamp [zone [yyyy]]
// [hostname] [tag[pid]:] text. The timestamp is either BSD ("Oct 11
// 22:14:15") or RFC 3339 (rsyslog's high-precision format). It fails when
// no timestamp starts the text.
func parse3164(m *Message, s string, ref time.Time, loc *time.Location) bool {
	var (
		ts       time.Time
		n        int
		hasZone  bool
		ok       bool
		leadYear int
	)
	// "1990 Oct 22 10:52:01": a relay's year in front (RFC 3164 5.4).
	if y, ny := readInt(s, 4); ny == 4 && len(s) > 5 && s[4] == ' ' {
		if _, isMonth := parseMonth(s[5:]); isMonth {
			leadYear = y
			s = s[5:]
		}
	}
	if b, bn, bok := parseBSD(s); bok {
		n = bn
		if leadYear != 0 && b.year == 0 {
			b.year = leadYear
		}
		zoneLoc, zn := parseZoneToken(s[n:])
		if zn > 0 {
			n += zn
			hasZone = zoneLoc != nil
		}
		// "Aug 24 05:34:00 CST 1987": an abbreviation and a year.
		if zn == 0 || zoneLoc == nil {
			if an := abbrevYear(s[n:], &b); an > 0 {
				n += an
			}
		}
		useLoc := loc
		if hasZone {
			useLoc = zoneLoc
		}
		ts, ok = b.resolve(ref, useLoc)
		if ok && hasZone {
			ts = ts.UTC()
		}
	} else if leadYear == 0 {
		ts, n, hasZone, ok = parseISO(s, loc)
	}
	if !ok || (n < len(s) && s[n] != ' ') {
		return false
	}
	m.Timestamp, m.HasTimestamp, m.ZoneAssumed = ts, true, !hasZone
	s = strings.TrimLeft(s[n:], " ")

	tok, after := nextToken(s)
	if isHostname(tok) {
		m.Hostname = tok
		s = strings.TrimLeft(after, " ")
	}
	m.Content = s
	m.AppName, m.ProcID, m.Body = splitTag(s)
	return true
}

// parseZoneToken reads a zone written after a BSD timestamp: " UTC",
// " GMT", " UTC+hh:mm", " TZ-6". It returns the location (nil for a token
// that is only shaped like a zone) and the bytes consumed.
func parseZoneToken(s string) (*time.Location, int) {
	if len(s) < 2 || s[0] != ' ' {
		return nil, 0
	}
	tok, _ := nextToken(s[1:])
	var rest string
	switch {
	case strings.HasPrefix(tok, "UTC"), strings.HasPrefix(tok, "GMT"):
		rest = tok[3:]
	case strings.HasPrefix(tok, "TZ") && len(tok) > 2 && (tok[2] == '+' || tok[2] == '-'):
		rest = tok[2:]
	default:
		return nil, 0
	}
	if rest == "" {
		return time.UTC, 1 + len(tok)
	}
	off, ok := parseLooseOffset(rest)
	if !ok {
		return nil, 0
	}
	if off == 0 {
		return time.UTC, 1 + len(tok)
	}
	return time.FixedZone(tok, off), 1 + len(tok)
}

// parseLooseOffset reads ±h, ±hh, ±hhmm or ±hh:mm as a whole string.
func parseLooseOffset(s string) (int, bool) {
	if len(s) < 2 || (s[0] != '+' && s[0] != '-') {
		return 0, false
	}
	digits := s[1:]
	hh, mm := 0, 0
	var ok bool
	switch {
	case len(digits) <= 2:
		hh, ok = atoi(digits)
	case len(digits) == 4:
		hh, ok = atoi(digits[:2])
		if ok {
			mm, ok = atoi(digits[2:])
		}
	case len(digits) == 5 && digits[2] == ':':
		hh, ok = atoi(digits[:2])
		if ok {
			mm, ok = atoi(digits[3:])
		}
	}
	if !ok || hh > 23 || mm > 59 {
		return 0, false
	}
	off := hh*3600 + mm*60
	if s[0] == '-' {
		off = -off
	}
	return off, true
}

// abbrevYear reads " ABC yyyy" (a zone abbreviation and a year) and sets
// b.year. Abbreviations are ambiguous (CST is US Central and China
// Standard), so the zone is not believed: the caller's location applies.
func abbrevYear(s string, b *bsdStamp) int {
	if len(s) < 2 || s[0] != ' ' {
		return 0
	}
	i := 1
	for i < len(s) && i <= 6 && s[i] >= 'A' && s[i] <= 'Z' {
		i++
	}
	if i == 1 || i > 6 || i >= len(s) || s[i] != ' ' {
		return 0
	}
	y, ny := readInt(s[i+1:], 4)
	if ny != 4 || (i+5 < len(s) && s[i+5] != ' ') {
		return 0
	}
	b.year = y
	return i + 5
}

// isHostname reports whether tok can be a hostname or address rather than
// a tag ("su:", "sshd[42]:") or the start of the text ("CEF:0|...",
// "date=2024-01-01").
func isHostname(tok string) bool {
	if tok == "" || tok == "-" || tok[len(tok)-1] == ':' {
		return false
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '-' || c == '_' || c == ':' || c == '%') {
			return false
		}
	}
	return true
}

// splitTag splits "tag[pid]: text" or "tag: text"; text without a tag is
// returned whole.
func splitTag(s string) (tag, pid, body string) {
	i := 0
	for i < len(s) && i <= maxTagLen {
		c := s[i]
		if c == ':' || c == '[' || c == ' ' {
			break
		}
		if !isTagChar(c) {
			return "", "", s
		}
		i++
	}
	if i == 0 || i > maxTagLen || i >= len(s) {
		return "", "", s
	}
	tag = s[:i]
	switch s[i] {
	case ':':
		// "su: text"; "CEF:0|..." or "key:value" is text, not a tag.
		if i+1 < len(s) && s[i+1] != ' ' {
			return "", "", s
		}
		return tag, "", trimOneSpace(s[i+1:])
	case '[':
		end := strings.IndexByte(s[i:], ']')
		if end < 2 {
			return "", "", s
		}
		pid = s[i+1 : i+end]
		if strings.IndexByte(pid, ' ') >= 0 {
			return "", "", s
		}
		j := i + end + 1
		switch {
		case j == len(s):
			return tag, pid, ""
		case s[j] == ':':
			return tag, pid, trimOneSpace(s[j+1:])
		case s[j] == ' ':
			return tag, pid, s[j+1:]
		}
	}
	return "", "", s
}

// isTagChar reports whether c may appear in a tag. Punctuation that shows
// up in text but not in program names keeps "pam_unix(sudo:session)" or
// "a=b:c" from being taken for a tag.
func isTagChar(c byte) bool {
	switch c {
	case '(', ')', '=', '|', '"', '\'', ',', ';', ']', '{', '}', '<', '>':
		return false
	}
	return c > ' ' && c != 0x7f
}

func trimOneSpace(s string) string {
	if len(s) > 0 && s[0] == ' ' {
		return s[1:]
	}
	return s
}
