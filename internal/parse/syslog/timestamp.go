package syslog

import (
	"time"
)

// parseISO reads an RFC 3339 / ISO 8601 timestamp at the start of s:
// YYYY-MM-DDThh:mm:ss, optional fraction (up to 9 digits; more are read and
// dropped), optional zone (Z, ±hh:mm, ±hhmm, ±hh). It returns the time, the
// bytes consumed and whether a zone was present. A zoned time is returned in
// UTC; an unzoned one in loc.
func parseISO(s string, loc *time.Location) (t time.Time, n int, hasZone, ok bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return t, 0, false, false
	}
	year, ok1 := atoi(s[0:4])
	month, ok2 := atoi(s[5:7])
	day, ok3 := atoi(s[8:10])
	hour, ok4 := atoi(s[11:13])
	minute, ok5 := atoi(s[14:16])
	sec, ok6 := atoi(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || !validDate(year, month, day, hour, minute, sec) {
		return t, 0, false, false
	}
	i := 19
	nsec := 0
	if i < len(s) && (s[i] == '.' || s[i] == ',') {
		var nd int
		nsec, nd = parseFraction(s[i+1:])
		if nd == 0 {
			return t, 0, false, false
		}
		i += 1 + nd
	}
	offset, zn, zoned := parseOffset(s[i:])
	if !zoned {
		return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc), i, false, true
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC).Add(-time.Duration(offset) * time.Second)
	return t, i + zn, true, true
}

// parseOffset reads Z, ±hh:mm, ±hhmm or ±hh and returns the offset east of
// UTC in seconds.
func parseOffset(s string) (offset, n int, ok bool) {
	if len(s) == 0 {
		return 0, 0, false
	}
	if s[0] == 'Z' || s[0] == 'z' {
		return 0, 1, true
	}
	if s[0] != '+' && s[0] != '-' || len(s) < 3 {
		return 0, 0, false
	}
	hh, ok := atoi(s[1:3])
	if !ok || hh > 23 {
		return 0, 0, false
	}
	n = 3
	mm := 0
	switch {
	case len(s) >= 6 && s[3] == ':':
		if mm, ok = atoi(s[4:6]); !ok {
			return 0, 0, false
		}
		n = 6
	case len(s) >= 5 && isDigit(s[3]):
		if mm, ok = atoi(s[3:5]); !ok {
			return 0, 0, false
		}
		n = 5
	}
	if mm > 59 {
		return 0, 0, false
	}
	offset = hh*3600 + mm*60
	if s[0] == '-' {
		offset = -offset
	}
	return offset, n, true
}

// parseFraction reads up to the run of digits at the start of s as a
// fraction of a second; digits past the ninth are dropped.
func parseFraction(s string) (nsec, digits int) {
	scale := 100000000
	for digits < len(s) && isDigit(s[digits]) {
		nsec += int(s[digits]-'0') * scale
		scale /= 10
		digits++
	}
	return nsec, digits
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// parseMonth reads a three-letter English month name.
func parseMonth(s string) (time.Month, bool) {
	if len(s) < 3 {
		return 0, false
	}
	for i, name := range months {
		if (s[0]|0x20) == (name[0]|0x20) && (s[1]|0x20) == name[1] && (s[2]|0x20) == name[2] {
			return time.Month(i + 1), true
		}
	}
	return 0, false
}

// bsdStamp is a BSD timestamp as read, before the year is known.
type bsdStamp struct {
	year                      int // 0 when the message gives none
	month                     time.Month
	day, hour, minute, second int
	nsec                      int
}

// parseBSD reads "Mmm dd hh:mm:ss[.frac]" (day space-padded, zero-padded
// or bare), also "Mmm dd yyyy hh:mm:ss" as some devices write it.
func parseBSD(s string) (b bsdStamp, n int, ok bool) {
	month, ok := parseMonth(s)
	if !ok || len(s) < 4 || s[3] != ' ' {
		return b, 0, false
	}
	b.month = month
	i := 4
	if i < len(s) && s[i] == ' ' {
		i++
	}
	d, nd := readInt(s[i:], 2)
	if nd == 0 || d < 1 || d > 31 {
		return b, 0, false
	}
	b.day = d
	i += nd
	if i >= len(s) || s[i] != ' ' {
		return b, 0, false
	}
	i++
	if y, ny := readInt(s[i:], 4); ny == 4 && i+4 < len(s) && s[i+4] == ' ' {
		b.year = y
		i += 5
	}
	// The hour may be unpadded ("2:14:16").
	h, nh := readInt(s[i:], 2)
	i += nh
	if nh == 0 || len(s) < i+6 || s[i] != ':' || s[i+3] != ':' {
		return b, 0, false
	}
	var ok2, ok3 bool
	b.hour = h
	b.minute, ok2 = atoi(s[i+1 : i+3])
	b.second, ok3 = atoi(s[i+4 : i+6])
	if !(ok2 && ok3) || b.hour > 23 || b.minute > 59 || b.second > 60 {
		return b, 0, false
	}
	i += 6
	if i < len(s) && s[i] == '.' {
		ns, nd := parseFraction(s[i+1:])
		if nd > 0 {
			b.nsec = ns
			i += 1 + nd
		}
	}
	return b, i, true
}

// futureSlack is how far after the receive time a BSD timestamp may lie and
// still be taken for this year: senders' clocks run a little ahead.
const futureSlack = 24 * time.Hour

// resolve turns a BSD timestamp into a time: in loc, and when the message
// gives no year, in the latest year that does not put it more than a day
// after ref. Logs describe the past: "Mar 1" received in November is this
// March, not next (the nearest). A date that does not exist in a candidate
// year (29 February) rules that year out.
func (b bsdStamp) resolve(ref time.Time, loc *time.Location) (time.Time, bool) {
	if b.year != 0 {
		t := time.Date(b.year, b.month, b.day, b.hour, b.minute, b.second, b.nsec, loc)
		return t, t.Day() == b.day
	}
	refYear := ref.In(loc).Year()
	limit := ref.Add(futureSlack)
	// A 29 February may need a leap year up to eight years back (1900 and
	// 2100 are none).
	for y := refYear + 1; y >= refYear-8; y-- {
		t := time.Date(y, b.month, b.day, b.hour, b.minute, b.second, b.nsec, loc)
		if t.Day() != b.day || t.After(limit) {
			continue
		}
		return t, true
	}
	return time.Time{}, false
}

func validDate(year, month, day, hour, minute, sec int) bool {
	return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && sec <= 60 && year >= 0
}

// atoi parses an all-digit string.
func atoi(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// readInt reads up to max leading digits.
func readInt(s string, max int) (v, n int) {
	for n < len(s) && n < max && isDigit(s[n]) {
		v = v*10 + int(s[n]-'0')
		n++
	}
	return v, n
}
