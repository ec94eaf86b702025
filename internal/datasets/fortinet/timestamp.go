package fortinet

import (
	"fmt"
	"strconv"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// setTime sets @timestamp from the log's date and time read in its tz (or
// the configured location), and event.start from eventtime, the epoch time
// FortiOS 6.2+ adds in seconds, microseconds or nanoseconds. This is how
// Elastic's integration reads them; eventtime becomes @timestamp only when
// the log has no date and time.
func (p *parser) setTime(ev *event.Event, l *logInfo) {
	loc, zone := p.loc, ""
	if l.tz != "" {
		if z, ok := p.zones.parse(l.tz); ok {
			loc, zone = z, l.tz
		} else {
			ev.SetString(vendorPrefix+"tz", l.tz)
		}
	}
	start, hasStart := parseEpoch(l.eventtime)
	if hasStart {
		ev.SetTime("event.start", start)
	} else if l.eventtime != "" {
		ev.SetString(vendorPrefix+"eventtime", l.eventtime)
	}
	if t, ok := parseDateTime(l.date, l.clock, loc); ok {
		ev.SetTime(event.FieldTimestamp, t)
		if zone == "" {
			zone = loc.String()
		}
		ev.SetString("event.timezone", zone)
		return
	}
	if l.date != "" || l.clock != "" {
		ev.SetString(vendorPrefix+"date", l.date)
		ev.SetString(vendorPrefix+"time", l.clock)
	}
	if hasStart {
		ev.SetTime(event.FieldTimestamp, start)
	}
	ev.SetString("event.timezone", zone)
}

// parseDateTime reads "2024-01-31" and "10:00:00" in loc.
func parseDateTime(date, clock string, loc *time.Location) (time.Time, bool) {
	if len(date) != 10 || len(clock) != 8 || date[4] != '-' || date[7] != '-' || clock[2] != ':' || clock[5] != ':' {
		return time.Time{}, false
	}
	y, ok1 := digits(date[0:4])
	mo, ok2 := digits(date[5:7])
	d, ok3 := digits(date[8:10])
	h, ok4 := digits(clock[0:2])
	mi, ok5 := digits(clock[3:5])
	s, ok6 := digits(clock[6:8])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, 0, loc)
	if t.Day() != d {
		return time.Time{}, false
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

// zoneTable holds a fixed zone for every quarter-hour offset FortiGate
// can write, made once in New: building a time.Location for every record
// would cost several allocations. It is never written after New.
type zoneTable map[int]*time.Location

func newZoneTable() zoneTable {
	z := make(zoneTable, 4*27+1)
	for off := -12 * 3600; off <= 14*3600; off += 900 {
		if off == 0 {
			z[0] = time.UTC
			continue
		}
		sign, abs := '+', off
		if off < 0 {
			sign, abs = '-', -off
		}
		name := fmt.Sprintf("%c%02d%02d", sign, abs/3600, abs%3600/60)
		z[off] = time.FixedZone(name, off)
	}
	return z
}

// parse reads FortiGate's tz pair: "+0900", "-0700", "+09:00", and the
// forms some versions write for people, "UTC+9:00" or "GMT-7".
func (z zoneTable) parse(s string) (*time.Location, bool) {
	orig := s
	i := 0
	for i < len(s) && i < 4 && (s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	s = s[i:]
	if s == "" {
		if orig == "UTC" || orig == "GMT" || orig == "Z" {
			return time.UTC, true
		}
		return nil, false
	}
	if s[0] != '+' && s[0] != '-' {
		return nil, false
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	body := s[1:]
	if len(body) >= 3 && body[len(body)-3] == ':' {
		body = body[:len(body)-3] + body[len(body)-2:]
	}
	var h, m int
	var ok bool
	switch len(body) {
	case 1, 2:
		h, ok = digits(body)
	case 3:
		h, ok = digits(body[:1])
		if ok {
			m, ok = digits(body[1:])
		}
	case 4:
		h, ok = digits(body[:2])
		if ok {
			m, ok = digits(body[2:])
		}
	}
	if !ok || h > 14 || m > 59 {
		return nil, false
	}
	off := sign * (h*3600 + m*60)
	if loc, found := z[off]; found {
		return loc, true
	}
	return time.FixedZone(orig, off), true
}

// parseEpoch reads eventtime: seconds (FortiOS 6.x, up to 10 digits),
// milliseconds (13), microseconds (16) or nanoseconds (19, FortiOS 7.x).
func parseEpoch(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	switch {
	case len(s) <= 11:
		return time.Unix(n, 0).UTC(), true
	case len(s) <= 14:
		return time.UnixMilli(n).UTC(), true
	case len(s) <= 17:
		return time.UnixMicro(n).UTC(), true
	default:
		return time.Unix(0, n).UTC(), true
	}
}
