package sigma

import (
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// pattern tests one value of an event field.
type pattern interface {
	matchString(s string) bool
	matchInt(v int64) bool
	matchFloat(v float64) bool
	matchTime(t time.Time) bool
	String() string
}

// matchValue tests a field's value, as the event holds it, against p: a
// list matches when any of its elements does, and an object (an element of
// a list of objects) when any value inside it does, as a search of the
// object's text would find it.
func matchValue(p pattern, v any) bool {
	return matchDepth(p, v, 0)
}

// maxObjectDepth bounds the descent into nested objects.
const maxObjectDepth = 16

func matchDepth(p pattern, v any, depth int) bool {
	switch x := v.(type) {
	case string:
		return p.matchString(x)
	case int64:
		return p.matchInt(x)
	case float64:
		return p.matchFloat(x)
	case bool:
		if x {
			return p.matchString("true")
		}
		return p.matchString("false")
	case time.Time:
		return p.matchTime(x)
	case []string:
		for _, s := range x {
			if p.matchString(s) {
				return true
			}
		}
	case []any:
		if depth >= maxObjectDepth {
			return false
		}
		for _, el := range x {
			if matchDepth(p, el, depth+1) {
				return true
			}
		}
	case map[string]any:
		if depth >= maxObjectDepth {
			return false
		}
		for _, el := range x {
			if matchDepth(p, el, depth+1) {
				return true
			}
		}
	}
	return false
}

type strKind int

const (
	strExact strKind = iota
	strPrefix
	strSuffix
	strContains
	strGlob
	strAny // "*": any value
)

// strPattern is a Sigma string value: exact, a prefix, a suffix, a
// substring, or a general wildcard pattern; case-insensitive unless cased.
type strPattern struct {
	kind  strKind
	lit   string // lower-cased unless cased
	glob  *glob  // strGlob
	cased bool
	// ascii says lit (and every token) is ASCII, so values can be folded
	// byte by byte.
	ascii bool
	// A value written as a number also equals event numbers.
	isInt   bool
	intVal  int64
	isFloat bool
	fltVal  float64
	text    string // as written, for String
}

func newStrPattern(s sstr, cased bool) *strPattern {
	p := &strPattern{cased: cased, text: s.String()}
	norm := func(x string) string {
		if cased {
			return x
		}
		return strings.ToLower(x)
	}
	n := len(s)
	switch {
	case n == 0:
		p.kind = strExact
	case n == 1 && s[0].wild == '*':
		p.kind = strAny
	case n == 1 && s[0].wild == 0:
		p.kind, p.lit = strExact, norm(s[0].lit)
	case n == 2 && s[0].wild == 0 && s[1].wild == '*':
		p.kind, p.lit = strPrefix, norm(s[0].lit)
	case n == 2 && s[0].wild == '*' && s[1].wild == 0:
		p.kind, p.lit = strSuffix, norm(s[1].lit)
	case n == 3 && s[0].wild == '*' && s[1].wild == 0 && s[2].wild == '*':
		p.kind, p.lit = strContains, norm(s[1].lit)
	default:
		p.kind = strGlob
		toks := make([]globTok, 0, len(s))
		for _, part := range s {
			toks = append(toks, globTok{lit: norm(part.lit), wild: part.wild})
		}
		p.glob = newGlob(toks)
	}
	p.ascii = isASCII(p.lit)
	if p.glob != nil {
		for _, seg := range p.glob.segs {
			for _, t := range seg {
				p.ascii = p.ascii && isASCII(t.lit)
			}
		}
	}
	if p.kind == strExact {
		if i, err := strconv.ParseInt(p.lit, 10, 64); err == nil && strconv.FormatInt(i, 10) == p.lit {
			p.isInt, p.intVal = true, i
		}
		if f, err := strconv.ParseFloat(p.lit, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			p.isFloat, p.fltVal = true, f
		}
	}
	return p
}

func (p *strPattern) String() string { return p.text }

func (p *strPattern) matchString(s string) bool {
	switch {
	case p.cased:
		return p.matchExactCase(s)
	case p.ascii:
		switch p.kind {
		case strExact:
			return eqFold(s, p.lit)
		case strPrefix:
			return hasPrefixFold(s, p.lit)
		case strSuffix:
			return hasSuffixFold(s, p.lit)
		case strContains:
			return indexFold(s, p.lit) >= 0
		case strAny:
			return true
		}
		return p.glob.match(s, true)
	}
	return p.matchExactCase(strings.ToLower(s))
}

// matchLower tests text that is already lower-cased (keyword search keeps
// the event's text lower-cased once for every rule); raw is the original.
func (p *strPattern) matchLower(raw, low string) bool {
	if p.cased {
		return p.matchExactCase(raw)
	}
	return p.matchExactCase(low)
}

// matchExactCase compares bytes as they are.
func (p *strPattern) matchExactCase(s string) bool {
	switch p.kind {
	case strExact:
		return s == p.lit
	case strPrefix:
		return strings.HasPrefix(s, p.lit)
	case strSuffix:
		return strings.HasSuffix(s, p.lit)
	case strContains:
		return strings.Contains(s, p.lit)
	case strAny:
		return true
	}
	return p.glob.match(s, false)
}

func (p *strPattern) matchInt(v int64) bool {
	switch {
	case p.isInt:
		return v == p.intVal
	case p.isFloat:
		return float64(v) == p.fltVal
	case p.kind == strExact:
		return false // a number never equals a non-numeric text
	case p.kind == strAny:
		return true
	}
	var buf [24]byte
	return p.matchString(string(strconv.AppendInt(buf[:0], v, 10)))
}

func (p *strPattern) matchFloat(v float64) bool {
	switch {
	case p.isFloat:
		return v == p.fltVal
	case p.kind == strExact:
		return false
	case p.kind == strAny:
		return true
	}
	return p.matchString(strconv.FormatFloat(v, 'f', -1, 64))
}

func (p *strPattern) matchTime(t time.Time) bool {
	if p.kind == strAny {
		return true
	}
	return p.matchString(t.UTC().Format(time.RFC3339Nano))
}

// rePattern is a `re` value: an RE2 search (not anchored), case-sensitive
// unless the rule says re|i.
type rePattern struct {
	re   *regexp.Regexp
	text string
}

func (p *rePattern) String() string            { return "/" + p.text + "/" }
func (p *rePattern) matchString(s string) bool { return p.re.MatchString(s) }
func (p *rePattern) matchInt(v int64) bool     { return p.re.MatchString(strconv.FormatInt(v, 10)) }
func (p *rePattern) matchFloat(v float64) bool {
	return p.re.MatchString(strconv.FormatFloat(v, 'f', -1, 64))
}
func (p *rePattern) matchTime(t time.Time) bool {
	return p.re.MatchString(t.UTC().Format(time.RFC3339Nano))
}
func (p *cidrPattern) String() string             { return p.prefix.String() }
func (p *cidrPattern) matchInt(int64) bool        { return false }
func (p *cidrPattern) matchFloat(float64) bool    { return false }
func (p *cidrPattern) matchTime(time.Time) bool   { return false }
func (p *cmpPattern) matchTime(t time.Time) bool  { return false }
func (p *cmpPattern) matchInt(v int64) bool       { return p.test(float64(v)) }
func (p *cmpPattern) matchFloat(v float64) bool   { return p.test(v) }
func (p *cmpPattern) String() string              { return p.op + " " + strconv.FormatFloat(p.n, 'f', -1, 64) }
func (p *timePattern) String() string             { return p.part + " " + p.inner.String() }
func (p *timePattern) matchInt(int64) bool        { return false }
func (p *timePattern) matchFloat(float64) bool    { return false }
func (p *timePattern) matchTime(t time.Time) bool { return p.inner.matchInt(timePart(t, p.part)) }

// cidrPattern is a `cidr` value: the field holds an address in the range.
type cidrPattern struct {
	prefix netip.Prefix
}

func (p *cidrPattern) matchString(s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	return p.prefix.Contains(a.Unmap())
}

// cmpPattern is lt, lte, gt or gte: the field holds a number (or a text
// that is one) compared with n.
type cmpPattern struct {
	op string
	n  float64
}

func (p *cmpPattern) test(v float64) bool {
	switch p.op {
	case "lt":
		return v < p.n
	case "lte":
		return v <= p.n
	case "gt":
		return v > p.n
	}
	return v >= p.n
}

func (p *cmpPattern) matchString(s string) bool {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil && p.test(f)
}

// timePattern is a time modifier (minute, hour, day, week, month, year):
// the field holds a time whose part is compared by inner.
type timePattern struct {
	part  string
	inner pattern
}

func (p *timePattern) matchString(s string) bool {
	t, err := time.Parse(time.RFC3339Nano, s)
	return err == nil && p.matchTime(t)
}

// timePart extracts a time modifier's number, in UTC.
func timePart(t time.Time, part string) int64 {
	t = t.UTC()
	switch part {
	case "minute":
		return int64(t.Minute())
	case "hour":
		return int64(t.Hour())
	case "day":
		return int64(t.Day())
	case "week":
		_, w := t.ISOWeek()
		return int64(w)
	case "month":
		return int64(t.Month())
	}
	return int64(t.Year())
}
