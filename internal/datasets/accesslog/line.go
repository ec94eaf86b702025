package accesslog

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// line is one access log line split into its parts, as written (quotes
// removed, "\"" and "\\" unescaped).
type line struct {
	vhost    string   // vhost_combined's "%v:%p", "" when absent
	clients  []string // the client field, split where it is a list
	ident    string   // "-" when absent
	user     string   // "-" when absent
	time     time.Time
	request  string
	status   string
	bytes    string
	referrer string
	agent    string
	hasAgent bool
	extras   []extra
}

// extra is a field after the agent: a quoted or bare value, or key=value.
type extra struct {
	key, value string
	quoted     bool
}

var errNoTime = errors.New("no [dd/Mon/yyyy:hh:mm:ss zone] timestamp")

// parseLine reads the Common Log Format and the formats built on it:
//
//	[vhost[:port] ]client ident user [time] "request" status bytes ["referrer" "agent"][ extras...]
//
// The client may be a comma-separated list (nginx behind proxies).
func parseLine(s string) (line, error) {
	var l line
	open := strings.Index(s, " [")
	if open < 0 {
		return l, errNoTime
	}
	if err := l.readPrefix(s[:open]); err != nil {
		return l, err
	}
	rest := s[open+2:]
	closeBr := strings.IndexByte(rest, ']')
	if closeBr < 0 {
		return l, errNoTime
	}
	t, err := parseTime(rest[:closeBr])
	if err != nil {
		return l, err
	}
	l.time = t
	rest = strings.TrimLeft(rest[closeBr+1:], " ")
	req, rest, ok := cutQuoted(rest)
	if !ok {
		return l, errors.New("no quoted request after the timestamp")
	}
	l.request = req
	fields := strings.Fields(rest)
	if len(fields) < 2 {
		return l, errors.New("no status and size after the request")
	}
	l.status, l.bytes = fields[0], fields[1]
	// The rest after status and size: "referrer" "agent" and extras.
	rest = strings.TrimLeft(rest, " ")
	rest = strings.TrimLeft(rest[len(l.status):], " ")
	rest = strings.TrimLeft(rest[len(l.bytes):], " ")
	if ref, after, ok := cutQuoted(rest); ok {
		if agent, after2, ok := cutQuoted(strings.TrimLeft(after, " ")); ok {
			l.referrer, l.agent, l.hasAgent = ref, agent, true
			rest = after2
		}
	}
	l.extras = parseExtras(strings.TrimSpace(rest))
	return l, nil
}

// readPrefix reads what comes before the timestamp: "[vhost ]client ident
// user". The client may be "a, b, c".
func (l *line) readPrefix(p string) error {
	tok := strings.Fields(p)
	if len(tok) < 3 {
		return fmt.Errorf("want client, ident and user before the timestamp, found %q", p)
	}
	l.ident, l.user = tok[len(tok)-2], tok[len(tok)-1]
	tok = tok[:len(tok)-2]
	if len(tok) >= 2 && !strings.HasSuffix(tok[0], ",") {
		l.vhost, tok = tok[0], tok[1:]
	}
	for _, t := range tok {
		for _, c := range strings.Split(t, ",") {
			// "-" stands for no value: not a client.
			if c = strings.TrimSpace(c); c != "" && c != "-" {
				l.clients = append(l.clients, c)
			}
		}
	}
	if len(l.clients) == 0 {
		return fmt.Errorf("no client address in %q", p)
	}
	return nil
}

// cutQuoted reads a double-quoted value at the start of s, where a quote
// inside is escaped as \" (Apache; nginx writes \x22), and returns it
// unescaped with the text after the closing quote. A quote counts as
// closing only at the end of the line or before a space, so a stray
// unescaped quote inside a value does not cut it short.
func cutQuoted(s string) (val, rest string, ok bool) {
	if len(s) == 0 || s[0] != '"' {
		return "", s, false
	}
	escaped := false
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			if i+1 == len(s) || s[i+1] == ' ' {
				v := s[1:i]
				if escaped {
					v = unescape(v)
				}
				return v, s[i+1:], true
			}
		}
	}
	return "", s, false
}

// unescape undoes \" and \\; other escapes (\xHH, \n) stay as written.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseExtras splits what follows the agent: quoted values, key=value or
// key="value" pairs, and bare words.
func parseExtras(s string) []extra {
	var out []extra
	for s != "" {
		var e extra
		if s[0] == '"' {
			v, rest, ok := cutQuoted(s)
			if !ok {
				out = append(out, extra{value: s})
				return out
			}
			e, s = extra{value: v, quoted: true}, rest
		} else {
			tok := s
			if i := strings.IndexByte(s, ' '); i >= 0 {
				tok = s[:i]
			}
			if k, v, ok := strings.Cut(tok, "="); ok && k != "" && strings.HasPrefix(v, `"`) {
				// key="value with spaces"
				qv, rest, ok := cutQuoted(s[len(k)+1:])
				if ok {
					e, s = extra{key: k, value: qv, quoted: true}, rest
					out = append(out, e)
					s = strings.TrimLeft(s, " ")
					continue
				}
			}
			s = s[len(tok):]
			if k, v, ok := strings.Cut(tok, "="); ok && k != "" {
				e = extra{key: k, value: v}
			} else {
				e = extra{value: tok}
			}
		}
		out = append(out, e)
		s = strings.TrimLeft(s, " ")
	}
	return out
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// parseTime reads "10/Oct/2000:13:55:36 -0700" (strftime %d/%b/%Y:%H:%M:%S
// %z, what both servers write), also with fractional seconds.
func parseTime(s string) (time.Time, error) {
	bad := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("timestamp %q is not dd/Mon/yyyy:hh:mm:ss ±hhmm", s)
	}
	if len(s) < 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' {
		return bad()
	}
	day, ok1 := digits(s[0:2])
	year, ok2 := digits(s[7:11])
	hour, ok3 := digits(s[12:14])
	minute, ok4 := digits(s[15:17])
	sec, ok5 := digits(s[18:20])
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return bad()
	}
	month := 0
	for i, m := range months {
		if s[3:6] == m {
			month = i + 1
		}
	}
	rest := s[20:]
	nsec := 0
	if rest[0] == '.' {
		i := 1
		scale := 100000000
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			nsec += int(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		rest = rest[i:]
	}
	if len(rest) != 6 || rest[0] != ' ' || (rest[1] != '+' && rest[1] != '-') {
		return bad()
	}
	zh, ok6 := digits(rest[2:4])
	zm, ok7 := digits(rest[4:6])
	if month == 0 || !ok6 || !ok7 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 || zm > 59 {
		return bad()
	}
	offset := zh*3600 + zm*60
	if rest[1] == '-' {
		offset = -offset
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day {
		return bad() // 31/Feb
	}
	return t.Add(-time.Duration(offset) * time.Second), nil
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
