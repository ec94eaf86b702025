package sigma

import (
	"fmt"
	"strings"
)

// Expr is a parsed condition.
type Expr interface {
	// Pos is the expression's byte offset in its condition text.
	Pos() int
	String() string
}

// AndExpr is "X and Y".
type AndExpr struct {
	X, Y Expr
	At   int
}

// OrExpr is "X or Y".
type OrExpr struct {
	X, Y Expr
	At   int
}

// NotExpr is "not X".
type NotExpr struct {
	X  Expr
	At int
}

// RefExpr names one selection.
type RefExpr struct {
	Name string
	At   int
}

// OfExpr is "1 of pattern", "all of pattern", "1 of them", "all of them".
// Names are the selections the pattern matched, in file order.
type OfExpr struct {
	All     bool
	Pattern string // "them" for them
	Names   []string
	At      int
}

// Pos implements Expr.
func (e *AndExpr) Pos() int { return e.At }

// Pos implements Expr.
func (e *OrExpr) Pos() int { return e.At }

// Pos implements Expr.
func (e *NotExpr) Pos() int { return e.At }

// Pos implements Expr.
func (e *RefExpr) Pos() int { return e.At }

// Pos implements Expr.
func (e *OfExpr) Pos() int { return e.At }

func (e *AndExpr) String() string { return "(" + e.X.String() + " and " + e.Y.String() + ")" }
func (e *OrExpr) String() string  { return "(" + e.X.String() + " or " + e.Y.String() + ")" }
func (e *NotExpr) String() string { return "not " + e.X.String() }
func (e *RefExpr) String() string { return e.Name }
func (e *OfExpr) String() string {
	q := "1"
	if e.All {
		q = "all"
	}
	return q + " of " + e.Pattern
}

// CondError is a condition syntax or reference error at a byte offset of
// the condition text.
type CondError struct {
	Pos int
	Msg string
}

func (e *CondError) Error() string { return fmt.Sprintf("at offset %d: %s", e.Pos, e.Msg) }

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokAnd
	tokOr
	tokNot
	tokOf
	tokLParen
	tokRParen
	tokPipe
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of condition"
	case tokLParen:
		return `"("`
	case tokRParen:
		return `")"`
	case tokPipe:
		return `"|"`
	}
	return fmt.Sprintf("%q", t.text)
}

// lexCondition splits a condition into tokens. Words are runs of anything
// but blanks, parentheses and "|"; and, or, not and of are keywords in any
// case.
func lexCondition(s string) []token {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			out = append(out, token{tokLParen, "(", i})
			i++
		case c == ')':
			out = append(out, token{tokRParen, ")", i})
			i++
		case c == '|':
			out = append(out, token{tokPipe, "|", i})
			i++
		default:
			start := i
			for i < len(s) && !strings.ContainsRune(" \t\r\n()|", rune(s[i])) {
				i++
			}
			w := s[start:i]
			k := tokIdent
			switch strings.ToLower(w) {
			case "and":
				k = tokAnd
			case "or":
				k = tokOr
			case "not":
				k = tokNot
			case "of":
				k = tokOf
			}
			out = append(out, token{k, w, start})
		}
	}
	return append(out, token{tokEOF, "", len(s)})
}

// condParser is a recursive-descent parser; precedence from loosest: or,
// and, not, "x of", parentheses.
type condParser struct {
	toks  []token
	i     int
	names []string // the detection's selections, in file order
	known map[string]bool
	depth int
}

// maxCondDepth bounds nesting so that a hostile condition cannot exhaust
// the stack.
const maxCondDepth = 200

// ParseCondition parses a condition over the given selection names.
func ParseCondition(cond string, names []string) (Expr, error) {
	p := &condParser{toks: lexCondition(cond), names: names, known: make(map[string]bool, len(names))}
	for _, n := range names {
		p.known[n] = true
	}
	if p.peek().kind == tokEOF {
		return nil, &CondError{0, "empty condition"}
	}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		if t.kind == tokPipe {
			return nil, &CondError{t.pos, "aggregations (\"| count() ...\") are Sigma v1 syntax that mamori does not evaluate; write a correlation rule instead"}
		}
		return nil, &CondError{t.pos, "unexpected " + t.describe() + ", want and, or or the end"}
	}
	return e, nil
}

func (p *condParser) peek() token { return p.toks[p.i] }

func (p *condParser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *condParser) or() (Expr, error) {
	x, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tokOr {
		t := p.next()
		y, err := p.and()
		if err != nil {
			return nil, err
		}
		x = &OrExpr{X: x, Y: y, At: t.pos}
	}
	return x, nil
}

func (p *condParser) and() (Expr, error) {
	x, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tokAnd {
		t := p.next()
		y, err := p.not()
		if err != nil {
			return nil, err
		}
		x = &AndExpr{X: x, Y: y, At: t.pos}
	}
	return x, nil
}

func (p *condParser) not() (Expr, error) {
	if p.peek().kind == tokNot {
		t := p.next()
		p.depth++
		if p.depth > maxCondDepth {
			return nil, &CondError{t.pos, "condition nested too deeply"}
		}
		x, err := p.not()
		p.depth--
		if err != nil {
			return nil, err
		}
		return &NotExpr{X: x, At: t.pos}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (Expr, error) {
	t := p.next()
	switch t.kind {
	case tokLParen:
		p.depth++
		if p.depth > maxCondDepth {
			return nil, &CondError{t.pos, "condition nested too deeply"}
		}
		x, err := p.or()
		p.depth--
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, &CondError{c.pos, "unexpected " + c.describe() + `, want ")" closing the "(" at offset ` + fmt.Sprint(t.pos)}
		}
		return x, nil
	case tokIdent:
		if p.peek().kind == tokOf {
			return p.of(t)
		}
		if strings.ContainsAny(t.text, "*?") {
			return nil, &CondError{t.pos, fmt.Sprintf("%q: a pattern needs \"1 of\" or \"all of\" before it", t.text)}
		}
		if strings.EqualFold(t.text, "them") {
			return nil, &CondError{t.pos, `"them" needs "1 of" or "all of" before it`}
		}
		if strings.EqualFold(t.text, "near") && !p.known[t.text] {
			return nil, &CondError{t.pos, "the near operator (Sigma v1) is not supported; write a temporal correlation rule"}
		}
		if !p.known[t.text] {
			return nil, &CondError{t.pos, fmt.Sprintf("%q is not a selection of this detection (it has %s)", t.text, listNames(p.names))}
		}
		return &RefExpr{Name: t.text, At: t.pos}, nil
	case tokPipe:
		return nil, &CondError{t.pos, "aggregations (\"| count() ...\") are Sigma v1 syntax that mamori does not evaluate; write a correlation rule instead"}
	}
	return nil, &CondError{t.pos, "unexpected " + t.describe() + ", want a selection name, not, 1 of, all of or \"(\""}
}

// of parses "<quantifier> of <pattern|them>" after its quantifier q.
func (p *condParser) of(q token) (Expr, error) {
	all := false
	switch strings.ToLower(q.text) {
	case "1", "any":
	case "all":
		all = true
	default:
		return nil, &CondError{q.pos, fmt.Sprintf("%q of: Sigma allows only \"1 of\" and \"all of\"", q.text)}
	}
	p.next() // "of"
	t := p.next()
	if t.kind != tokIdent {
		return nil, &CondError{t.pos, "unexpected " + t.describe() + ", want a selection pattern or them after \"of\""}
	}
	e := &OfExpr{All: all, Pattern: t.text, At: q.pos}
	if strings.EqualFold(t.text, "them") {
		e.Pattern = "them"
		for _, n := range p.names {
			// Sigma's convention: identifiers starting with "_" are
			// helpers that "them" leaves out.
			if !strings.HasPrefix(n, "_") {
				e.Names = append(e.Names, n)
			}
		}
	} else {
		for _, n := range p.names {
			if starMatch(t.text, n) {
				e.Names = append(e.Names, n)
			}
		}
	}
	if len(e.Names) == 0 {
		return nil, &CondError{t.pos, fmt.Sprintf("%q matches no selection (the detection has %s)", t.text, listNames(p.names))}
	}
	return e, nil
}

func listNames(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// starMatch matches an identifier against a pattern in which "*" stands
// for any run of characters (the only wildcard of condition patterns).
func starMatch(pat, s string) bool {
	// Greedy matching with backtracking to the last star.
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(pat) && pat[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(pat) && pat[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			mark++
			pi, si = star+1, mark
		default:
			return false
		}
	}
	for pi < len(pat) && pat[pi] == '*' {
		pi++
	}
	return pi == len(pat)
}
