package mapping

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	parsecef "github.com/mamori-sec/mamori/internal/parse/cef"
)

// timeKind is how a `type: time` field's text is read.
type timeKind uint8

const (
	timeAuto timeKind = iota
	timeRFC3339
	timeUnix
	timeUnixMS
	timeUnixUS
	timeUnixNS
	timeGo
)

// timeLayout is a compiled `layout:`.
type timeLayout struct {
	kind timeKind
	// goLayout is the Go reference-time layout for timeGo.
	goLayout string
	// noYear is set when goLayout has no year: the year is then the one
	// that puts the time nearest the record's receive time.
	noYear bool
}

var errTime = errors.New("not a time in the mapping's layout")

// compileLayout reads a `layout:` value: auto (the default), rfc3339,
// unix, unix_ms, unix_us, unix_ns, or a Go layout written with the
// reference time (Mon Jan 2 15:04:05 MST 2006).
func compileLayout(s string) (timeLayout, error) {
	switch s {
	case "", "auto":
		return timeLayout{kind: timeAuto}, nil
	case "rfc3339":
		return timeLayout{kind: timeRFC3339}, nil
	case "unix":
		return timeLayout{kind: timeUnix}, nil
	case "unix_ms":
		return timeLayout{kind: timeUnixMS}, nil
	case "unix_us":
		return timeLayout{kind: timeUnixUS}, nil
	case "unix_ns":
		return timeLayout{kind: timeUnixNS}, nil
	}
	// A layout with no element of the reference time formats any other
	// time to itself: it is a typo, not a layout.
	other := time.Date(1999, 11, 28, 21, 37, 48, 0, time.FixedZone("XYZ", 3*3600))
	if other.Format(s) == s {
		return timeLayout{}, fmt.Errorf("%q is not a time layout: use auto, rfc3339, unix, unix_ms, unix_us, unix_ns, or a Go layout written with the reference time Mon Jan 2 15:04:05 MST 2006 (e.g. \"2006-01-02 15:04:05\")", s)
	}
	return timeLayout{kind: timeGo, goLayout: s, noYear: !strings.Contains(s, "2006") && !strings.Contains(s, "06")}, nil
}

// parse reads s. ref is the record's receive time (for years left out),
// loc the zone of times written without one.
func (l timeLayout) parse(s string, ref time.Time, loc *time.Location) (time.Time, error) {
	switch l.kind {
	case timeRFC3339:
		t, err := time.Parse(time.RFC3339Nano, s)
		return t.UTC(), err
	case timeUnix:
		return epochScaled(s, 1e9)
	case timeUnixMS:
		return epochScaled(s, 1e6)
	case timeUnixUS:
		return epochScaled(s, 1e3)
	case timeUnixNS:
		return epochScaled(s, 1)
	case timeGo:
		t, err := time.ParseInLocation(l.goLayout, s, loc)
		if err != nil {
			return time.Time{}, err
		}
		if l.noYear {
			t = nearestYear(t, ref)
		}
		return t.UTC(), nil
	}
	return parseAuto(s, ref, loc)
}

// epochScaled reads a number of units since the epoch (unit in
// nanoseconds), possibly with a fraction.
func epochScaled(s string, unit float64) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if unit == 1 {
			return time.Unix(0, n).UTC(), nil
		}
		if math.Abs(float64(n)) > math.MaxInt64/unit {
			return time.Time{}, errTime
		}
		return time.Unix(0, n*int64(unit)).UTC(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.Abs(f*unit) > math.MaxInt64 {
		return time.Time{}, errTime
	}
	// Rounded to the microsecond: a float's last digits are noise.
	ns := int64(f * unit)
	return time.Unix(0, ns).Round(time.Microsecond).UTC(), nil
}

// nearestYear gives a time parsed without a year the year that does not
// put it more than a day after ref, as the syslog and CEF parsers do.
func nearestYear(t, ref time.Time) time.Time {
	if ref.IsZero() {
		ref = time.Now()
	}
	y := ref.In(t.Location()).Year()
	mk := func(year int) time.Time {
		return time.Date(year, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	}
	out := mk(y)
	if out.After(ref.Add(24 * time.Hour)) {
		out = mk(y - 1)
	}
	return out
}

// isoLayouts are tried in order by the auto layout for text that starts
// with a date ("2024-03-01..."); layouts without a zone are read in the
// mapping's zone.
var isoLayouts = [...]string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999 Z07:00",
	"2006-01-02 15:04:05.999999999 -0700",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// otherLayouts are tried after CEF's month-first forms.
var otherLayouts = [...]string{
	"2006/01/02 15:04:05.999999999",
	"02/Jan/2006:15:04:05 -0700", // Apache and nginx access logs
	time.RFC1123Z,
	time.RFC1123,
	time.RFC850,
	time.ANSIC,
}

// parseAuto reads the common shapes of log times: epoch numbers told apart
// by magnitude (seconds, milliseconds, microseconds, nanoseconds), RFC 3339
// and its space-separated variants, a bare date, CEF's "MMM dd [yyyy]
// HH:mm:ss[.SSS][ zone]", the access-log form and the RFC 1123 family.
func parseAuto(s string, ref time.Time, loc *time.Location) (time.Time, error) {
	if isNumber(s) {
		return epochAuto(s)
	}
	if len(s) >= 10 && s[4] == '-' {
		for _, layout := range isoLayouts {
			if t, err := time.ParseInLocation(layout, s, loc); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, errTime
	}
	if t, _, err := parsecef.ParseTime(s, ref, loc); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range otherLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errTime
}

func isNumber(s string) bool {
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return s != ""
}

// epochAuto reads seconds, milliseconds, microseconds or nanoseconds since
// the epoch, told apart by magnitude (a date after 1973 in seconds has 10
// digits, in milliseconds 13, ...).
func epochAuto(s string) (time.Time, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return time.Time{}, errTime
	}
	switch {
	case f < 1e11:
		return epochScaled(s, 1e9)
	case f < 1e14:
		return epochScaled(s, 1e6)
	case f < 1e17:
		return epochScaled(s, 1e3)
	default:
		return epochScaled(s, 1)
	}
}

// parseZone reads a `timezone:` value: UTC, Local, an IANA name
// (Asia/Tokyo), or a fixed offset (+09:00, -0500).
func parseZone(s string) (*time.Location, error) {
	switch s {
	case "UTC", "utc", "Z", "GMT":
		return time.UTC, nil
	}
	if len(s) >= 3 && (s[0] == '+' || s[0] == '-') {
		digits := strings.ReplaceAll(s[1:], ":", "")
		if len(digits) == 2 || len(digits) == 4 {
			if n, err := strconv.Atoi(digits); err == nil {
				hh, mm := n, 0
				if len(digits) == 4 {
					hh, mm = n/100, n%100
				}
				if hh <= 23 && mm <= 59 {
					off := hh*3600 + mm*60
					if s[0] == '-' {
						off = -off
					}
					return time.FixedZone(s, off), nil
				}
			}
		}
		return nil, fmt.Errorf("%q is not an offset: write +09:00 or -0500", s)
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q: use UTC, Local, an IANA name such as Asia/Tokyo, or an offset such as +09:00", s)
	}
	return loc, nil
}
