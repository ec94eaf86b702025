package dns

import (
	"strings"
	"time"
)

// parseTime reads a BIND timestamp at the start of s: the default
// print-time format "07-Apr-2022 08:08:10.043" (also Infoblox's), or
// print-time iso8601 / iso8601-utc ("2022-04-07T08:08:10.043[Z]"). A time
// without a zone is read in loc and zoned is false. n is the length read.
func parseTime(s string, loc *time.Location) (t time.Time, zoned bool, n int, ok bool) {
	if len(s) >= 19 && s[4] == '-' && s[7] == '-' && s[10] == 'T' {
		return parseISO(s, loc)
	}
	return parseDayMonth(s, loc)
}

func parseISO(s string, loc *time.Location) (time.Time, bool, int, bool) {
	tok := s
	if sp := strings.IndexByte(s, ' '); sp >= 0 {
		tok = s[:sp]
	}
	if t, err := time.Parse(time.RFC3339Nano, tok); err == nil {
		return t.UTC(), true, len(tok), true
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", tok, loc); err == nil {
		return t, false, len(tok), true
	}
	return time.Time{}, false, 0, false
}

// parseDayMonth reads "dd-Mon-yyyy HH:MM:SS[.fraction]" by hand: it is on
// every BIND line and time.Parse would cost more than the rest of the line.
func parseDayMonth(s string, loc *time.Location) (time.Time, bool, int, bool) {
	var fail = func() (time.Time, bool, int, bool) { return time.Time{}, false, 0, false }
	day, i := readInt(s, 0, 2)
	if i == 0 || i >= len(s) || s[i] != '-' {
		return fail()
	}
	i++
	mon, n := readMonth(s[i:])
	if n == 0 || i+n >= len(s) || s[i+n] != '-' {
		return fail()
	}
	i += n + 1
	year, j := readInt(s, i, 4)
	if j != i+4 || j >= len(s) || s[j] != ' ' {
		return fail()
	}
	i = j + 1
	hour, j := readInt(s, i, 2)
	if j == i || j >= len(s) || s[j] != ':' {
		return fail()
	}
	i = j + 1
	minute, j := readInt(s, i, 2)
	if j != i+2 || j >= len(s) || s[j] != ':' {
		return fail()
	}
	i = j + 1
	sec, j := readInt(s, i, 2)
	if j != i+2 {
		return fail()
	}
	i = j
	nsec := 0
	if i < len(s) && s[i] == '.' {
		k := i + 1
		scale := 100000000
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			nsec += int(s[k]-'0') * scale
			scale /= 10
			k++
		}
		if k == i+1 {
			return fail()
		}
		i = k
	}
	if day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return fail()
	}
	return time.Date(year, mon, day, hour, minute, sec, nsec, loc), false, i, true
}

// readInt reads up to max decimal digits of s from i; it returns the value
// and the index after the last digit (i when there is none).
func readInt(s string, i, max int) (int, int) {
	v, j := 0, i
	for j < len(s) && j-i < max && s[j] >= '0' && s[j] <= '9' {
		v = v*10 + int(s[j]-'0')
		j++
	}
	return v, j
}

var monthNames = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// readMonth reads a three-letter English month abbreviation.
func readMonth(s string) (time.Month, int) {
	if len(s) < 3 {
		return 0, 0
	}
	for i, m := range monthNames {
		if strings.EqualFold(s[:3], m) {
			return time.Month(i + 1), 3
		}
	}
	return 0, 0
}
