package mapping

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"

	parsekv "github.com/mamori-sec/mamori/internal/parse/kv"
)

// csvFormat reads delimiter-separated values, one record a line.
type csvFormat struct {
	delim byte
	// quote encloses a value that holds the delimiter; a doubled quote
	// inside stands for one. 0 disables quoting.
	quote byte
	// columns are the names given in the mapping; nil when the object's
	// first line names them (header: true).
	columns []string
	// last caches the columns of the most recent header line: an object's
	// records all share one, so the header is split once per object and
	// not once per record.
	last atomic.Pointer[csvHeader]
}

type csvHeader struct {
	line    string
	columns []string
}

var errNoHeader = errors.New("csv: the mapping reads column names from the object's first line (header: true), but the record came without it")

func (c *csvFormat) decode(r *record, body string, header []byte) error {
	columns := c.columns
	if columns == nil {
		if len(header) == 0 {
			return errNoHeader
		}
		columns = c.headerColumns(r.p, string(header))
	}
	i := 0
	for v := range c.split(body) {
		if i < len(columns) {
			r.put(columns[i], v)
		} else if r.p.copyTo != "" && v != "" {
			// A value past the named columns (a newer format version
			// appending fields) is kept under its position.
			r.ev.SetString(r.p.copyTo+"column_"+strconv.Itoa(i+1), v)
		}
		i++
	}
	return nil
}

// headerColumns splits a header line into column names, stripping a
// syslog header in front of it when the mapping expects one.
func (c *csvFormat) headerColumns(p *parser, line string) []string {
	if h := c.last.Load(); h != nil && h.line == line {
		return h.columns
	}
	text := line
	if p.syslog {
		text = stripSyslog(text)
	}
	var cols []string
	for v := range c.split(strings.TrimRight(text, "\r\n")) {
		cols = append(cols, strings.TrimSpace(v))
	}
	c.last.Store(&csvHeader{line: line, columns: cols})
	return cols
}

// split yields the values of one line. A value that starts with the quote
// runs to the closing quote ("" inside is one quote); an unterminated
// quote runs to the end of the line.
func (c *csvFormat) split(s string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for {
			if c.quote != 0 && len(s) > 0 && s[0] == c.quote {
				v, rest, more := c.quoted(s[1:])
				if !yield(v) || !more {
					return
				}
				s = rest
				continue
			}
			i := strings.IndexByte(s, c.delim)
			if i < 0 {
				yield(s)
				return
			}
			if !yield(s[:i]) {
				return
			}
			s = s[i+1:]
		}
	}
}

// quoted reads a quoted value from just after its opening quote: the value,
// what follows its delimiter, and whether another value follows.
func (c *csvFormat) quoted(s string) (v, rest string, more bool) {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, c.quote)
		if i < 0 {
			b.WriteString(s)
			return b.String(), "", false
		}
		b.WriteString(s[:i])
		s = s[i+1:]
		if len(s) > 0 && s[0] == c.quote {
			b.WriteByte(c.quote)
			s = s[1:]
			continue
		}
		// Text between the closing quote and the delimiter is kept.
		j := strings.IndexByte(s, c.delim)
		if j < 0 {
			b.WriteString(s)
			return b.String(), "", false
		}
		b.WriteString(s[:j])
		return b.String(), s[j+1:], true
	}
}

// kvFormat reads key=value pairs. With the default separators (white
// space between pairs, '=' within) it is internal/parse/kv, which knows
// quoting and skips junk; other separators are split literally, with
// double-quoted values unquoted.
type kvFormat struct {
	pairSep  string // "" means white space
	valueSep string
}

var errNoPairs = errors.New("kv: the record holds no key-value pair")

func (k *kvFormat) decode(r *record, body string) error {
	n := 0
	if k.pairSep == "" && k.valueSep == "=" {
		for _, pr := range parsekv.AppendString(nil, body) {
			r.put(pr.Key, pr.Value)
			n++
		}
	} else {
		for body != "" {
			part, rest := k.next(body)
			body = rest
			key, val, ok := strings.Cut(part, k.valueSep)
			key = strings.TrimSpace(key)
			if !ok || key == "" {
				continue
			}
			r.put(key, unquote(strings.TrimSpace(val)))
			n++
		}
	}
	if n == 0 {
		return errNoPairs
	}
	return nil
}

// next cuts the first pair off s: up to the first pair separator that is
// not inside double quotes.
func (k *kvFormat) next(s string) (part, rest string) {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && inQuote:
			i++
		case s[i] == '"':
			inQuote = !inQuote
		case !inQuote && k.pairSep == "" && isSpace(s[i]):
			return s[:i], s[i+1:]
		case !inQuote && k.pairSep != "" && strings.HasPrefix(s[i:], k.pairSep):
			return s[:i], s[i+len(k.pairSep):]
		}
	}
	return s, ""
}

// unquote removes double quotes around a value and undoes \" and \\.
func unquote(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return v
	}
	v = v[1 : len(v)-1]
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && (v[i+1] == '"' || v[i+1] == '\\') {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// regexFormat reads a record with an RE2 pattern's named groups.
type regexFormat struct {
	re *regexp.Regexp
	// names[i] is group i's name, "" for unnamed groups.
	names []string
	// slots[i] is the slot group i fills, or -1 (see resolve): no map
	// lookup per group and record.
	slots []int
}

var errNoMatch = errors.New("the record does not match the mapping's pattern")

// resolve looks up each group's slot once the fields are compiled.
func (x *regexFormat) resolve(slots map[string]int) {
	x.slots = make([]int, len(x.names))
	for i, n := range x.names {
		x.slots[i] = -1
		if s, ok := slots[n]; ok && n != "" {
			x.slots[i] = s
		}
	}
}

func (x *regexFormat) decode(r *record, body string) error {
	loc := x.re.FindStringSubmatchIndex(body)
	if loc == nil {
		return errNoMatch
	}
	for i := 1; i < len(x.names); i++ {
		if x.names[i] == "" || loc[2*i] < 0 {
			continue
		}
		v := body[loc[2*i]:loc[2*i+1]]
		if s := x.slots[i]; s >= 0 {
			if !r.vals[s].ok {
				r.vals[s] = textValue(v)
			}
			continue
		}
		r.put(x.names[i], v)
	}
	return nil
}

// compileRegex compiles a pattern and checks that it names its groups.
func compileRegex(pattern string) (*regexFormat, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression: %w", err)
	}
	names := re.SubexpNames()
	named := false
	for _, n := range names {
		named = named || n != ""
	}
	if !named {
		return nil, errors.New("the pattern has no named group: write (?P<name>...) for each value to map")
	}
	return &regexFormat{re: re, names: names}, nil
}
