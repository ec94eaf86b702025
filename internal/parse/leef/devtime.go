package leef

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultDevTimeFormat is the devTime format the LEEF specification gives
// when devTimeFormat is absent.
const DefaultDevTimeFormat = "MMM dd yyyy HH:mm:ss.SSS zzz"

// ParseDevTime reads a devTime value written in format, a Java
// SimpleDateFormat pattern (the devTimeFormat attribute). With no format it
// accepts milliseconds since the epoch, the specification's default
// "MMM dd yyyy HH:mm:ss[.SSS][ zzz]" and RFC 3339. Zone abbreviations other
// than UTC and GMT are ambiguous, so a time that names one is read in loc
// (nil for UTC) and zoned is false.
func ParseDevTime(value, format string, loc *time.Location) (t time.Time, zoned bool, err error) {
	if loc == nil {
		loc = time.UTC
	}
	value = strings.TrimSpace(value)
	if value == "" {
		return t, false, fmt.Errorf("parse leef devTime: empty")
	}
	if format == "" {
		if isDigits(value) {
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil {
				return t, false, fmt.Errorf("parse leef devTime %q: %w", value, err)
			}
			if len(value) >= 12 {
				return time.UnixMilli(n).UTC(), true, nil
			}
			return time.Unix(n, 0).UTC(), true, nil
		}
		if tt, err := time.Parse(time.RFC3339Nano, value); err == nil {
			return tt.UTC(), true, nil
		}
		for _, f := range []string{DefaultDevTimeFormat, "MMM dd yyyy HH:mm:ss"} {
			if t, zoned, err = ParseDevTime(value, f, loc); err == nil {
				return t, zoned, nil
			}
		}
		return t, false, fmt.Errorf("parse leef devTime %q: no devTimeFormat and not a known default", value)
	}
	layout, hasAbbrev, err := Layout(format)
	if err != nil {
		return t, false, err
	}
	t, err = time.ParseInLocation(layout, value, loc)
	if err != nil {
		return t, false, fmt.Errorf("parse leef devTime %q with %q: %w", value, format, err)
	}
	if t.Location() == loc {
		return t, false, nil
	}
	name, offset := t.Zone()
	if hasAbbrev && offset == 0 && name != "UTC" && name != "GMT" {
		// Go invents a zero-offset zone for an abbreviation it does not
		// know; read the wall clock in loc instead.
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
		return t, false, nil
	}
	return t.UTC(), true, nil
}

// Layout translates a Java SimpleDateFormat pattern into a Go time layout.
// hasAbbrev reports a zone-name field (z). Fractional seconds (S) are left
// out: Go reads any fraction after the seconds when parsing.
func Layout(format string) (layout string, hasAbbrev bool, err error) {
	var b strings.Builder
	for i := 0; i < len(format); {
		c := format[i]
		if c == '\'' {
			// Quoted literal; '' is a single quote.
			j := i + 1
			if j < len(format) && format[j] == '\'' {
				b.WriteByte('\'')
				i += 2
				continue
			}
			for j < len(format) && format[j] != '\'' {
				j++
			}
			b.WriteString(format[i+1 : min(j, len(format))])
			i = j + 1
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b.WriteByte(c)
			i++
			continue
		}
		n := 1
		for i+n < len(format) && format[i+n] == c {
			n++
		}
		i += n
		var tok string
		switch c {
		case 'y', 'u':
			tok = "2006"
			if n == 2 {
				tok = "06"
			}
		case 'M', 'L':
			tok = [...]string{"1", "01", "Jan", "January"}[min(n, 4)-1]
		case 'd':
			tok = [...]string{"2", "02"}[min(n, 2)-1]
		case 'H', 'k':
			tok = "15"
		case 'h', 'K':
			tok = [...]string{"3", "03"}[min(n, 2)-1]
		case 'm':
			tok = [...]string{"4", "04"}[min(n, 2)-1]
		case 's':
			tok = [...]string{"5", "05"}[min(n, 2)-1]
		case 'S':
			out := b.String()
			if strings.HasSuffix(out, ".") || strings.HasSuffix(out, ",") {
				b.Reset()
				b.WriteString(out[:len(out)-1])
			}
			continue
		case 'a':
			tok = "PM"
		case 'E':
			tok = "Mon"
			if n >= 4 {
				tok = "Monday"
			}
		case 'z':
			tok, hasAbbrev = "MST", true
		case 'Z':
			tok = "-0700"
		case 'X':
			tok = [...]string{"Z07", "Z0700", "Z07:00"}[min(n, 3)-1]
		default:
			return "", false, fmt.Errorf("parse leef devTimeFormat %q: pattern letter %q not supported", format, c)
		}
		b.WriteString(tok)
	}
	return b.String(), hasAbbrev, nil
}

func isDigits(s string) bool {
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
