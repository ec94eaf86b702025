package query

import (
	"encoding/binary"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// parseNumber accepts plain decimal numbers (-12, 3.5, 1e3), not the hex,
// inf or NaN forms strconv also knows.
func parseNumber(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	digits := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digits = true
		case c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E':
		default:
			return 0, false
		}
	}
	if !digits {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// numberArg passes integral numbers as int64, so that an INTEGER column is
// compared without a cast and its zone maps still prune.
func numberArg(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f)
	}
	return f
}

// storedNumber reads a stored value as DuckDB's TRY_CAST(x AS DOUBLE) does
// for the forms mamori writes.
func storedNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil
}

// parseTime reads a time value; day is true for a bare date (2024-05-01),
// which stands for the whole UTC day.
func parseTime(s string) (t time.Time, day bool, ok bool) {
	if len(s) == len("2006-01-02") {
		t, err := time.Parse(time.DateOnly, s)
		return t, true, err == nil
	}
	if len(s) < len("2006-01-02T15:04") || s[4] != '-' {
		return time.Time{}, false, false
	}
	// A time without a zone is UTC.
	layouts := [...]string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04Z07:00",
		"2006-01-02T15:04",
	}
	for _, layout := range layouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Microsecond), false, true
		}
	}
	return time.Time{}, false, false
}

// storedTime reads a stored text value as a time, like TRY_CAST(x AS
// TIMESTAMPTZ) does for the RFC 3339 text mamori writes.
func storedTime(s string) (time.Time, bool) {
	t, _, ok := parseTime(strings.TrimSpace(s))
	return t, ok
}

// canonicalIP returns the address in the form the store keeps (netip's,
// with IPv4-mapped IPv6 unmapped, as event.FillRelated does).
func canonicalIP(s string) (string, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", false
	}
	return a.Unmap().String(), true
}

// parseCIDR reads a prefix such as 10.0.0.0/8, masking host bits and
// turning an IPv4-mapped IPv6 prefix into its IPv4 form.
func parseCIDR(s string) (netip.Prefix, bool) {
	if strings.IndexByte(s, '/') < 0 {
		return netip.Prefix{}, false
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}

// inPrefix reports whether the text s is an address inside p.
func inPrefix(s string, p netip.Prefix) bool {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	return p.Contains(a.Unmap().WithZone(""))
}

// prefixLead is text that every canonical address in p starts with, or "".
// For an IPv4 prefix on an octet boundary it is also sufficient (exact is
// true): 10.0.0.0/8 holds exactly the canonical IPv4 texts starting "10.".
func prefixLead(p netip.Prefix) (lead string, exact bool) {
	a, bits := p.Addr(), p.Bits()
	if a.Is4() {
		octets := a.As4()
		n := bits / 8
		if n == 0 || n == 4 {
			return "", false
		}
		var b strings.Builder
		for i := range n {
			b.WriteString(strconv.Itoa(int(octets[i])))
			b.WriteByte('.')
		}
		return b.String(), bits%8 == 0
	}
	// Canonical IPv6 text writes leading non-zero groups in full; a zero
	// group may start a "::", so stop before the first one.
	words := a.As16()
	n := min(bits/16, 7)
	var b strings.Builder
	for i := range n {
		w := uint16(words[2*i])<<8 | uint16(words[2*i+1])
		if w == 0 {
			break
		}
		b.WriteString(strconv.FormatUint(uint64(w), 16))
		b.WriteByte(':')
	}
	return b.String(), false
}

// globToLike turns a glob (* ? and \-escapes) into a LIKE pattern for
// ESCAPE '\'.
func globToLike(glob string) string {
	var b strings.Builder
	b.Grow(len(glob) + 4)
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; c {
		case '*':
			b.WriteByte('%')
		case '?':
			b.WriteByte('_')
		case '\\':
			if i+1 < len(glob) {
				i++
				c = glob[i]
			}
			writeLikeLiteral(&b, c)
		default:
			writeLikeLiteral(&b, c)
		}
	}
	return b.String()
}

func writeLikeLiteral(b *strings.Builder, c byte) {
	if c == '%' || c == '_' || c == '\\' {
		b.WriteByte('\\')
	}
	b.WriteByte(c)
}

// globMatch matches s against a glob, rune by rune as DuckDB's LIKE does.
func globMatch(glob, s string) bool {
	// Iterative matcher with one backtrack point for the last '*'.
	gi, si := 0, 0
	starG, starS := -1, 0
	for si < len(s) {
		if gi < len(glob) {
			switch c := glob[gi]; c {
			case '*':
				starG, starS = gi, si
				gi++
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(s[si:])
				gi++
				si += n
				continue
			default:
				lit, gn := globLiteral(glob, gi)
				if s[si] == lit {
					gi += gn
					si++
					continue
				}
			}
		}
		if starG < 0 {
			return false
		}
		// Let the last '*' swallow one more rune and retry.
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		gi, si = starG+1, starS
	}
	for gi < len(glob) && glob[gi] == '*' {
		gi++
	}
	return gi == len(glob)
}

// globLiteral returns the literal byte at glob[i] and how many glob bytes
// it takes (2 for an escape).
func globLiteral(glob string, i int) (byte, int) {
	if glob[i] == '\\' && i+1 < len(glob) {
		return glob[i+1], 2
	}
	return glob[i], 1
}

// globLongestLiteral returns the longest run of literal text in a glob.
func globLongestLiteral(glob string) string {
	var best, cur strings.Builder
	flush := func() {
		if cur.Len() > best.Len() {
			best.Reset()
			best.WriteString(cur.String())
		}
		cur.Reset()
	}
	for i := 0; i < len(glob); i++ {
		c := glob[i]
		if c == '*' || c == '?' {
			flush()
			continue
		}
		lit, n := globLiteral(glob, i)
		cur.WriteByte(lit)
		i += n - 1
	}
	flush()
	return best.String()
}

// docSafe reports whether s appears verbatim in the doc column's JSON text
// whenever a doc value contains it: true when JSON writers leave all of its
// characters unescaped (event.AppendJSON escapes '"', '\', control
// characters and U+2028/9; encoding/json also '<', '>', '&').
func docSafe(s string) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == '"' || r == '\\' || r == '<' || r == '>' || r == '&' || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}

// ipv4Range is the first and last address of an IPv4 prefix as numbers.
func ipv4Range(p netip.Prefix) (lo, hi uint32) {
	b := p.Masked().Addr().As4()
	lo = binary.BigEndian.Uint32(b[:])
	return lo, lo | uint32(1<<(32-p.Bits())-1)
}
