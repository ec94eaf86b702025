package panw

import (
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/parse/decimal"
)

// conv says how a column's text becomes a field value.
type conv uint8

const (
	asText   conv = iota // as written
	asLower              // lower case (ECS wants network.* keywords in lower case)
	asInt                // integer; left out when not a number
	asIP                 // address in canonical form; left out when not an address
	asTime               // PAN-OS "YYYY/MM/DD hh:mm:ss" in the firewall's zone
	asMAC                // MAC address as ECS writes it (AA-BB-CC-DD-EE-FF)
	asList               // one-element list (ECS fields that are arrays)
	asOpt                // as written, left out when PAN-OS's "unused" placeholder (0, N/A)
	asOptInt             // integer, left out when 0 (the column is unused)
)

// column maps the column at index i to field.
type column struct {
	i     int
	field string
	conv  conv
}

// apply sets the field of every column the record has.
func (p *parser) apply(ev *event.Event, r row, cols []column) {
	for _, c := range cols {
		if c.i >= len(r) {
			continue
		}
		s := r[c.i]
		if s == "" {
			continue
		}
		switch c.conv {
		case asText:
			ev.SetString(c.field, s)
		case asLower:
			ev.SetString(c.field, strings.ToLower(s))
		case asInt:
			if n, ok := decimal.ParseInt(s); ok {
				ev.SetInt(c.field, n)
			}
		case asIP:
			if a, ok := parseIP(s); ok {
				ev.SetString(c.field, a)
			}
		case asTime:
			if t, ok := p.parseTime(s); ok {
				ev.SetTime(c.field, t)
			}
		case asMAC:
			ev.SetString(c.field, formatMAC(s))
		case asList:
			ev.SetStrings(c.field, s)
		case asOpt:
			if s != "0" && s != "N/A" {
				ev.SetString(c.field, s)
			}
		case asOptInt:
			if n, ok := decimal.ParseInt(s); ok && n != 0 {
				ev.SetInt(c.field, n)
			}
		}
	}
}

// parseTime reads PAN-OS's "YYYY/MM/DD hh:mm:ss" in the firewall's zone.
// It is written out by hand: it runs several times for every record.
func (p *parser) parseTime(s string) (time.Time, bool) {
	if len(s) != 19 || s[4] != '/' || s[7] != '/' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	y, ok1 := digits(s[0:4])
	mo, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	h, ok4 := digits(s[11:13])
	mi, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	// A year before PAN-OS existed is no time a firewall logged (0001/01/01
	// would even be Go's zero time, which an event cannot hold).
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, p.loc)
	if t.Day() != d {
		return time.Time{}, false // 2024/02/31 and the like
	}
	return t.UTC(), true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parseIP returns an address in canonical text (IPv4-mapped IPv6 as IPv4).
func parseIP(s string) (string, bool) {
	s = strings.TrimSpace(s)
	a, ok := event.ParseAddr(s)
	if !ok {
		return "", false
	}
	return event.AddrText(s, a), true
}

// formatMAC writes a MAC address as ECS recommends: upper case, dashes.
func formatMAC(s string) string {
	if len(s) != 17 {
		return s
	}
	b := []byte(s)
	for i := range b {
		switch c := b[i]; {
		case c == ':' || c == '-':
			b[i] = '-'
		case c >= 'a' && c <= 'f':
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// userFields are the ECS fields a user column fills.
type userFields struct{ name, domain string }

var (
	sourceUser      = userFields{"source.user.name", "source.user.domain"}
	destinationUser = userFields{"destination.user.name", "destination.user.domain"}
	actingUser      = userFields{"user.name", "user.domain"}
)

// setUser sets a user column as ECS user fields: "DOMAIN\name" gives the
// domain and the name, any other form is the name as written.
func setUser(ev *event.Event, f userFields, s string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return
	}
	if i := strings.IndexByte(s, '\\'); i > 0 && i < len(s)-1 {
		ev.SetString(f.domain, s[:i])
		ev.SetString(f.name, s[i+1:])
		return
	}
	ev.SetString(f.name, s)
}

// copyUser makes user.name (and user.domain) the source user's: ECS's
// user.name is the user who acted, on a firewall the session's source.
func copyUser(ev *event.Event) {
	ev.SetIfAbsent("user.name", ev.String("source.user.name"))
	ev.SetIfAbsent("user.domain", ev.String("source.user.domain"))
}

// severityNumbers gives event.severity for PAN-OS severity words, most
// severe first, as Elastic's panw integration numbers them.
var severityNumbers = map[string]int64{
	"critical": 1, "high": 2, "medium": 3, "low": 4, "informational": 5,
}

func setSeverity(ev *event.Event, s string) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return
	}
	ev.SetString("log.level", s)
	if n, ok := severityNumbers[s]; ok {
		ev.SetInt("event.severity", n)
	}
}
