package cylance

import (
	"strings"
	"time"
)

// headerTime reads the time at the start of a header that the syslog
// parser did not recognise: "24-Feb-2018 7:26:15" (day, month name or
// abbreviation, year) or "2016-2-12T1:12:33" (unpadded ISO date and time),
// in loc.
func headerTime(s string, loc *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	date, rest, _ := strings.Cut(s, " ")
	if d, clock, ok := strings.Cut(date, "T"); ok {
		// "2016-2-12T1:12:33.fraction": the fraction, if any, is dropped.
		return dateClock(d, true, strings.TrimRightFunc(clock, func(r rune) bool { return r != ':' && (r < '0' || r > '9') }), loc)
	}
	clock, _, _ := strings.Cut(rest, " ")
	return dateClock(date, false, clock, loc)
}

// dateClock reads "y-m-d" (yearFirst) or "d-Month-y" and "h:mm:ss".
func dateClock(date string, yearFirst bool, clock string, loc *time.Location) (time.Time, bool) {
	parts := strings.Split(date, "-")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	var year, month, day int
	var ok bool
	if yearFirst {
		year, ok = atoi(parts[0], 4)
		if !ok {
			return time.Time{}, false
		}
		if month, ok = atoi(parts[1], 2); !ok {
			return time.Time{}, false
		}
	} else {
		if year, ok = atoi(parts[2], 4); !ok || len(parts[2]) != 4 {
			return time.Time{}, false
		}
		if month = monthNumber(parts[1]); month == 0 {
			return time.Time{}, false
		}
		parts[2] = parts[0]
	}
	if day, ok = atoi(parts[2], 2); !ok {
		return time.Time{}, false
	}
	hms := strings.Split(strings.TrimSuffix(clock, "."), ":")
	if len(hms) != 3 {
		return time.Time{}, false
	}
	h, ok1 := atoi(hms[0], 2)
	mi, ok2 := atoi(hms[1], 2)
	sec, ok3 := atoi(hms[2], 2)
	if !ok1 || !ok2 || !ok3 || month < 1 || month > 12 || day < 1 || day > 31 || h > 23 || mi > 59 || sec > 60 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, h, mi, sec, 0, loc), true
}

// atoi reads 1 to max decimal digits.
func atoi(s string, max int) (int, bool) {
	if s == "" || len(s) > max {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

var monthNames = [...]string{"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december"}

// monthNumber reads an English month name or its three-letter
// abbreviation.
func monthNumber(s string) int {
	s = strings.ToLower(s)
	if len(s) < 3 {
		return 0
	}
	for i, m := range monthNames {
		if s == m || s == m[:3] {
			return i + 1
		}
	}
	return 0
}
