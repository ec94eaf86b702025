// Package query is mamori's search language: Lucene syntax as analysts know
// it from Graylog and Kibana. Parse turns a query into a tree; Compile turns
// the tree into parameterised SQL on the events table (CompileFilter when
// the table has only the promoted columns); Match and Matcher evaluate it on
// an in-memory event with the same meaning. See docs/query.md.
package query

import (
	"net/netip"
	"strings"
)

// Node is a parsed query. Its String method renders it back as a normalised
// query that parses to the same tree.
type Node interface {
	String() string
	write(b *strings.Builder, nested bool)
}

// MatchAll matches every event: the empty query and "*".
type MatchAll struct{}

// And matches when every one of Nodes matches.
type And struct{ Nodes []Node }

// Or matches when any one of Nodes matches.
type Or struct{ Nodes []Node }

// Not matches when Node does not. An absent field never makes a NOT drop an
// event: NOT user.name:alice matches events without a user.name.
type Not struct{ Node Node }

// Term matches a value exactly. With Field empty it is a keyword: a
// case-insensitive search of the event's text (see keyword.go).
type Term struct {
	Field  string // "" for a keyword
	Value  string // escapes resolved; '*' and '?' here are literal
	Phrase bool   // written in double quotes (affects rendering only)
	Pos    int    // byte offset of the clause in the query
}

// Wildcard matches a glob: '*' is any run of characters, '?' one character,
// and a backslash makes the next character literal.
type Wildcard struct {
	Field   string // "" for a keyword
	Pattern string
	Pos     int
}

// Exists matches events that have the field (_exists_:f, or f:*).
type Exists struct {
	Field string
	Pos   int
}

// Range matches values between two bounds; either bound may be open.
type Range struct {
	Field  string
	Lo, Hi Bound
	Pos    int
}

// Bound is one end of a Range.
type Bound struct {
	Value     string // escapes resolved; unused when Open
	Open      bool   // written as *
	Inclusive bool   // [ or ], rather than { or }
}

func (MatchAll) String() string { return render(MatchAll{}) }
func (n *And) String() string   { return render(n) }
func (n *Or) String() string    { return render(n) }
func (n *Not) String() string   { return render(n) }
func (n *Term) String() string  { return render(n) }

func (n *Wildcard) String() string { return render(n) }
func (n *Exists) String() string   { return render(n) }
func (n *Range) String() string    { return render(n) }

func render(n Node) string {
	var b strings.Builder
	n.write(&b, false)
	return b.String()
}

func (MatchAll) write(b *strings.Builder, _ bool) { b.WriteByte('*') }

func (n *And) write(b *strings.Builder, nested bool) { writeList(b, n.Nodes, " AND ", nested) }
func (n *Or) write(b *strings.Builder, nested bool)  { writeList(b, n.Nodes, " OR ", nested) }

func writeList(b *strings.Builder, nodes []Node, op string, nested bool) {
	if nested {
		b.WriteByte('(')
	}
	for i, c := range nodes {
		if i > 0 {
			b.WriteString(op)
		}
		c.write(b, true)
	}
	if nested {
		b.WriteByte(')')
	}
}

func (n *Not) write(b *strings.Builder, _ bool) {
	b.WriteString("NOT ")
	n.Node.write(b, true)
}

func (n *Term) write(b *strings.Builder, _ bool) {
	if n.Field == "" {
		switch {
		case n.Phrase:
			writePhrase(b, n.Value)
		case isBareIPv6(n.Value):
			b.WriteString(n.Value) // the lexer reads an IPv6 keyword whole
		default:
			writeWord(b, n.Value, true, false)
		}
		return
	}
	if n.Phrase {
		writeField(b, n.Field)
		writePhrase(b, n.Value)
		return
	}
	var t strings.Builder
	writeField(&t, n.Field)
	writeWord(&t, n.Value, false, false)
	if isBareIPv6(t.String()) {
		// "a:b::" would read back as the IPv6 keyword a:b::.
		b.WriteByte('\\')
	}
	b.WriteString(t.String())
}

func (n *Wildcard) write(b *strings.Builder, _ bool) {
	if n.Field != "" {
		writeField(b, n.Field)
	}
	writeGlob(b, n.Pattern, n.Field == "")
}

func (n *Exists) write(b *strings.Builder, _ bool) {
	b.WriteString(existsField + ":")
	writeWord(b, n.Field, true, false)
}

func (n *Range) write(b *strings.Builder, _ bool) {
	writeField(b, n.Field)
	if n.Lo.Inclusive {
		b.WriteByte('[')
	} else {
		b.WriteByte('{')
	}
	writeBound(b, n.Lo)
	b.WriteString(" TO ")
	writeBound(b, n.Hi)
	if n.Hi.Inclusive {
		b.WriteByte(']')
	} else {
		b.WriteByte('}')
	}
}

func writeBound(b *strings.Builder, bd Bound) {
	if bd.Open {
		b.WriteByte('*')
		return
	}
	writeWord(b, bd.Value, false, true)
}

func writeField(b *strings.Builder, f string) {
	writeWord(b, f, true, false)
	b.WriteByte(':')
}

func writePhrase(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

// writeWord writes literal text as an unquoted word, escaping every
// character the lexer would otherwise read as syntax. clause is true where
// the word starts a clause (a keyword or field name), in which a ':' ends
// the word.
func writeWord(b *strings.Builder, s string, clause, inRange bool) {
	if isOperatorWord(s) || (inRange && s == "TO") {
		b.WriteByte('\\') // "\AND" is the word AND, not the operator
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if needsEscape(c, i == 0, clause) {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
}

// writeGlob writes a wildcard pattern: its wildcards as they are, its
// escaped characters as escapes, every other character as in writeWord.
func writeGlob(b *strings.Builder, p string, clause bool) {
	if isOperatorWord(p) {
		b.WriteByte('\\')
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			i++
			b.WriteByte('\\')
			b.WriteByte(p[i])
		case c == '*' || c == '?':
			b.WriteByte(c)
		default:
			if needsEscape(c, i == 0, clause) {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
	}
}

func needsEscape(c byte, first, clause bool) bool {
	switch c {
	case '\\', '"', '(', ')', '[', ']', '{', '}', '*', '?':
		return true
	case ':':
		return clause
	case '&', '|':
		return first
	case '-', '+', '!':
		return first && clause
	case '<', '>':
		return first && !clause
	}
	return isSpace(c)
}

func isOperatorWord(s string) bool {
	return s == "AND" || s == "OR" || s == "NOT" || s == "TO"
}

// isBareIPv6 reports whether a keyword is an IPv6 address or prefix that the
// lexer reads whole although it contains colons.
func isBareIPv6(s string) bool {
	if !strings.Contains(s, ":") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if needsEscape(s[i], i == 0, false) {
			return false
		}
	}
	return looksLikeIP(s)
}

func looksLikeIP(s string) bool {
	if strings.IndexByte(s, '/') >= 0 {
		_, err := netip.ParsePrefix(s)
		return err == nil
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}
