package cef

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseTime reads a CEF date-time value (rt, start, end, ...). The CEF
// specification allows milliseconds since the epoch and
// "MMM dd [yyyy] HH:mm:ss[.SSS][ zzz]"; RFC 3339 is accepted too, as
// senders write it. ref supplies the year when the value has none (the
// year that does not put the time more than a day after ref). A zone
// written as UTC, GMT, Z or a numeric offset is honoured; other zone names
// are ambiguous abbreviations ("CST") or need the zone database, so loc
// (nil for UTC) applies and zoned reports false.
func ParseTime(s string, ref time.Time, loc *time.Location) (t time.Time, zoned bool, err error) {
	if loc == nil {
		loc = time.UTC
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return t, false, fmt.Errorf("parse cef time: empty")
	}
	if allDigits(s) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return t, false, fmt.Errorf("parse cef time %q: %w", s, err)
		}
		if len(s) >= 12 {
			return time.UnixMilli(n).UTC(), true, nil
		}
		return time.Unix(n, 0).UTC(), true, nil
	}
	if len(s) >= 19 && s[4] == '-' && s[10] == 'T' {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC(), true, nil
		}
		if t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, loc); err == nil {
			return t, false, nil
		}
		return t, false, fmt.Errorf("parse cef time %q: not RFC 3339", s)
	}
	return parseMonthFirst(s, ref, loc)
}

func parseMonthFirst(s string, ref time.Time, loc *time.Location) (time.Time, bool, error) {
	bad := func() (time.Time, bool, error) {
		return time.Time{}, false, fmt.Errorf("parse cef time %q: want MMM dd [yyyy] HH:mm:ss[.SSS][ zzz]", s)
	}
	f := strings.Fields(s)
	if len(f) < 3 || len(f[0]) != 3 {
		return bad()
	}
	month := time.Month(0)
	for i, name := range monthNames {
		if strings.EqualFold(f[0], name) {
			month = time.Month(i + 1)
		}
	}
	day, err := strconv.Atoi(f[1])
	if month == 0 || err != nil || day < 1 || day > 31 {
		return bad()
	}
	year := 0
	rest := f[2:]
	if len(rest[0]) == 4 && allDigits(rest[0]) {
		year, _ = strconv.Atoi(rest[0])
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return bad()
	}
	clock, err := time.Parse("15:04:05.999999999", rest[0])
	if err != nil {
		return bad()
	}
	useLoc, zoned := loc, false
	if len(rest) > 1 {
		if z, ok := zoneOf(rest[1]); ok {
			useLoc, zoned = z, true
		}
	}
	mk := func(y int) time.Time {
		return time.Date(y, month, day, clock.Hour(), clock.Minute(), clock.Second(), clock.Nanosecond(), useLoc)
	}
	var t time.Time
	if year != 0 {
		t = mk(year)
	} else {
		y := ref.In(useLoc).Year()
		t = mk(y)
		if t.After(ref.Add(24 * time.Hour)) {
			t = mk(y - 1)
		}
	}
	if zoned {
		t = t.UTC()
	}
	return t, zoned, nil
}

var monthNames = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// zoneOf reads UTC, GMT, Z, ±hh:mm, ±hhmm and GMT±hh[:mm].
func zoneOf(z string) (*time.Location, bool) {
	switch strings.ToUpper(z) {
	case "UTC", "GMT", "Z", "UT":
		return time.UTC, true
	}
	if len(z) > 3 && (strings.HasPrefix(z, "GMT") || strings.HasPrefix(z, "UTC")) {
		z = z[3:]
	}
	if len(z) < 2 || (z[0] != '+' && z[0] != '-') {
		return nil, false
	}
	digits := strings.ReplaceAll(z[1:], ":", "")
	if !allDigits(digits) || len(digits) > 4 {
		return nil, false
	}
	hh, mm := 0, 0
	switch len(digits) {
	case 1, 2:
		hh, _ = strconv.Atoi(digits)
	case 3, 4:
		hh, _ = strconv.Atoi(digits[:len(digits)-2])
		mm, _ = strconv.Atoi(digits[len(digits)-2:])
	}
	if hh > 23 || mm > 59 {
		return nil, false
	}
	off := hh*3600 + mm*60
	if z[0] == '-' {
		off = -off
	}
	if off == 0 {
		return time.UTC, true
	}
	return time.FixedZone(z, off), true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
