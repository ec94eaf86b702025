package sigma

import "strings"

// spart is one piece of a Sigma string value: literal text, or one of the
// wildcards "*" (any run of characters) and "?" (one character).
type spart struct {
	lit  string
	wild byte // 0 for literal text, '*' or '?'
}

// sstr is a Sigma string value split into literal text and wildcards.
type sstr []spart

// parseWildcards reads a value's wildcards and escapes as Sigma defines
// them: "\*" and "\?" are literal, "\\" is one backslash, and a backslash
// before anything else is itself.
func parseWildcards(s string) sstr {
	var out sstr
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, spart{lit: b.String()})
			b.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
				b.WriteByte(s[i+1])
				i++
				continue
			}
			b.WriteByte('\\')
		case '*', '?':
			flush()
			if c == '*' && len(out) > 0 && out[len(out)-1].wild == '*' {
				continue // "**" is "*"
			}
			out = append(out, spart{wild: c})
		default:
			b.WriteByte(c)
		}
	}
	flush()
	return out
}

// literal is a value with no wildcards.
func literal(s string) sstr {
	if s == "" {
		return nil
	}
	return sstr{{lit: s}}
}

// plain returns the value's text when it has no wildcards.
func (s sstr) plain() (string, bool) {
	var b strings.Builder
	for _, p := range s {
		if p.wild != 0 {
			return "", false
		}
		b.WriteString(p.lit)
	}
	return b.String(), true
}

// withStar adds "*" at the start and/or end unless already there.
func (s sstr) withStar(front, back bool) sstr {
	out := make(sstr, 0, len(s)+2)
	if front && (len(s) == 0 || s[0].wild != '*') {
		out = append(out, spart{wild: '*'})
	}
	out = append(out, s...)
	if back && (len(out) == 0 || out[len(out)-1].wild != '*') {
		out = append(out, spart{wild: '*'})
	}
	return out
}

// String renders the value back in Sigma's notation.
func (s sstr) String() string {
	var b strings.Builder
	for _, p := range s {
		if p.wild != 0 {
			b.WriteByte(p.wild)
			continue
		}
		for i := 0; i < len(p.lit); i++ {
			if c := p.lit[i]; c == '*' || c == '?' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(p.lit[i])
		}
	}
	return b.String()
}
