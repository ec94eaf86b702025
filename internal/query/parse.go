package query

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// SyntaxError reports where and why a query cannot be used. Pos is a byte
// offset into the query, for a console to place a marker.
type SyntaxError struct {
	Pos      int    // byte offset of the problem
	Found    string // what is there: "end of query", "')'", "'abc'"
	Expected string // what would have been valid there
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("expected %s at %d, found %s", e.Expected, e.Pos, e.Found)
}

// existsField is the pseudo-field of _exists_:field.
const existsField = "_exists_"

// maxDepth bounds nesting (parentheses, NOT chains) so that a hostile query
// cannot exhaust the stack.
const maxDepth = 100

// Parse parses a query in Lucene syntax (see docs/query.md). The empty
// query matches everything. Values are checked against the types of the
// promoted fields (a port must be a number), so a tree that Parse returns
// always compiles.
func Parse(q string) (Node, error) {
	if i := invalidUTF8(q); i >= 0 {
		return nil, &SyntaxError{Pos: i, Found: fmt.Sprintf("the byte 0x%02x", q[i]), Expected: "UTF-8 text"}
	}
	p := &parser{src: q}
	p.skipSpace()
	if p.eof() {
		return MatchAll{}, nil
	}
	n, err := p.parseOr("")
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		return nil, p.errAt(p.pos, "an operator or the end of the query")
	}
	if err := validate(n); err != nil {
		return nil, err
	}
	return n, nil
}

// invalidUTF8 returns the offset of the first byte that is not valid
// UTF-8, or -1. DuckDB takes only valid UTF-8 text as an argument.
func invalidUTF8(s string) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

type parser struct {
	src   string
	pos   int
	depth int
}

type opKind int

const (
	opNone opKind = iota
	opAnd
	opOr
	opNot
)

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// isDelim reports whether c ends an operator word such as AND.
func isDelim(c byte) bool { return isSpace(c) || c == '(' || c == ')' || c == '"' }

// peekOp reports the binary or NOT operator at the current position.
func (p *parser) peekOp() (opKind, int) {
	s := p.src[p.pos:]
	switch {
	case strings.HasPrefix(s, "&&"):
		return opAnd, 2
	case strings.HasPrefix(s, "||"):
		return opOr, 2
	case hasWord(s, "AND"):
		return opAnd, 3
	case hasWord(s, "OR"):
		return opOr, 2
	case hasWord(s, "NOT"):
		return opNot, 3
	}
	return opNone, 0
}

func hasWord(s, w string) bool {
	return strings.HasPrefix(s, w) && (len(s) == len(w) || isDelim(s[len(w)]))
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > maxDepth {
		return &SyntaxError{Pos: pos, Found: "more nesting", Expected: fmt.Sprintf("at most %d levels of nesting", maxDepth)}
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// parseOr parses OR-separated clauses. field is the field of an enclosing
// field group (field:(a OR b)), or "".
func (p *parser) parseOr(field string) (Node, error) {
	first, err := p.parseAnd(field)
	if err != nil {
		return nil, err
	}
	nodes := []Node{first}
	if or, ok := first.(*Or); ok {
		nodes = or.Nodes
	}
	for {
		p.skipSpace()
		if p.eof() {
			break
		}
		op, n := p.peekOp()
		if op != opOr {
			break
		}
		opText := p.src[p.pos : p.pos+n]
		p.pos += n
		p.skipSpace()
		if p.eof() || p.src[p.pos] == ')' {
			return nil, p.errAt(p.pos, expectClause(field)+" after '"+opText+"'")
		}
		if op, _ := p.peekOp(); op == opAnd || op == opOr {
			return nil, p.errAt(p.pos, expectClause(field)+" after '"+opText+"'")
		}
		next, err := p.parseAnd(field)
		if err != nil {
			return nil, err
		}
		if or, ok := next.(*Or); ok {
			nodes = append(nodes, or.Nodes...) // a OR (b OR c) is a OR b OR c
		} else {
			nodes = append(nodes, next)
		}
	}
	if len(nodes) == 1 {
		return nodes[0], nil
	}
	return &Or{Nodes: nodes}, nil
}

// parseAnd parses clauses joined by AND, &&, or nothing (implicit AND), up
// to an OR, a ')' or the end.
func (p *parser) parseAnd(field string) (Node, error) {
	first, err := p.parseUnary(field, "")
	if err != nil {
		return nil, err
	}
	nodes := []Node{first}
	if and, ok := first.(*And); ok {
		nodes = and.Nodes
	}
	for {
		p.skipSpace()
		if p.eof() || p.src[p.pos] == ')' {
			break
		}
		ctx := ""
		switch op, n := p.peekOp(); op {
		case opOr:
			return andOf(nodes), nil
		case opAnd:
			ctx = " after '" + p.src[p.pos:p.pos+n] + "'"
			p.pos += n
		}
		next, err := p.parseUnary(field, ctx)
		if err != nil {
			return nil, err
		}
		if and, ok := next.(*And); ok {
			nodes = append(nodes, and.Nodes...)
		} else {
			nodes = append(nodes, next)
		}
	}
	return andOf(nodes), nil
}

func andOf(nodes []Node) Node {
	if len(nodes) == 1 {
		return nodes[0]
	}
	return &And{Nodes: nodes}
}

// parseUnary parses NOT, !, - and + prefixes and then a primary clause.
// ctx says what came before, for error messages (" after 'AND'").
func (p *parser) parseUnary(field, ctx string) (Node, error) {
	p.skipSpace()
	if err := p.enter(p.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	if p.eof() {
		return nil, p.errAt(p.pos, expectClause(field)+ctx)
	}
	switch c := p.src[p.pos]; {
	case c == '-' || c == '!':
		p.pos++
		return p.parseNot(field, "'"+string(c)+"'")
	case c == '+':
		p.pos++
		return p.parseUnary(field, " after '+'")
	}
	switch op, n := p.peekOp(); op {
	case opNot:
		opText := p.src[p.pos : p.pos+n]
		p.pos += n
		return p.parseNot(field, "'"+opText+"'")
	case opAnd, opOr:
		return nil, p.errAt(p.pos, expectClause(field)+ctx)
	}
	return p.parsePrimary(field, ctx)
}

func (p *parser) parseNot(field, op string) (Node, error) {
	n, err := p.parseUnary(field, " after "+op)
	if err != nil {
		return nil, err
	}
	return &Not{Node: n}, nil
}

func expectClause(field string) string {
	if field == "" {
		return "a search term"
	}
	return "a value for '" + field + "'"
}

// parsePrimary parses a parenthesised query or one clause.
func (p *parser) parsePrimary(field, ctx string) (Node, error) {
	start := p.pos
	switch p.src[p.pos] {
	case '(':
		return p.parseGroup(field)
	case ')':
		return nil, p.errAt(p.pos, expectClause(field)+ctx)
	case '"':
		text, err := p.readPhrase()
		if err != nil {
			return nil, err
		}
		if field != "" {
			return &Term{Field: field, Value: text, Phrase: true, Pos: start}, nil
		}
		if !p.eof() && p.src[p.pos] == ':' { // "quoted field":value
			p.pos++
			return p.parseFieldValue(text, start)
		}
		return &Term{Value: text, Phrase: true, Pos: start}, nil
	}
	if field != "" {
		return p.parseValue(field, start)
	}
	if ip, ok := p.bareIP(); ok {
		return &Term{Value: ip, Pos: start}, nil
	}
	w, err := p.readWord(modeClause)
	if err != nil {
		return nil, err
	}
	if !p.eof() && p.src[p.pos] == ':' {
		if w.text == "" {
			return nil, p.errAt(start, "a search term")
		}
		if w.wild {
			return nil, &SyntaxError{Pos: start, Found: quote(p.src[start:p.pos]), Expected: "a field name without wildcards"}
		}
		p.pos++
		if w.text == existsField && !w.escaped {
			return p.parseExists(start)
		}
		return p.parseFieldValue(w.text, start)
	}
	return leaf("", w, start), nil
}

// parseGroup parses "( query )"; field is set inside a field group.
func (p *parser) parseGroup(field string) (Node, error) {
	open := p.pos
	p.pos++
	if err := p.enter(open); err != nil {
		return nil, err
	}
	defer p.leave()
	n, err := p.parseOr(field)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() || p.src[p.pos] != ')' {
		return nil, p.errAt(p.pos, "')' to close '('")
	}
	p.pos++
	return n, nil
}

// bareIP reads an unquoted IPv6 address or prefix used as a keyword, which
// would otherwise read as "field:value" because of its colons.
func (p *parser) bareIP() (string, bool) {
	end := p.pos
	for end < len(p.src) && !isDelim(p.src[end]) {
		end++
	}
	s := p.src[p.pos:end]
	if strings.IndexByte(s, ':') < 0 || !isBareIPv6(s) {
		return "", false
	}
	p.pos = end
	return s, true
}

// parseFieldValue parses what follows "field:".
func (p *parser) parseFieldValue(field string, start int) (Node, error) {
	p.skipSpace()
	if !p.eof() && p.src[p.pos] == '(' {
		return p.parseGroup(field)
	}
	return p.parseValue(field, start)
}

// parseValue parses one value of field: a phrase, a word, a range or a
// comparison.
func (p *parser) parseValue(field string, start int) (Node, error) {
	p.skipSpace()
	expected := "a value after '" + field + ":'"
	if p.eof() {
		return nil, p.errAt(p.pos, expected)
	}
	if op, _ := p.peekOp(); op != opNone {
		return nil, p.errAt(p.pos, expected)
	}
	switch p.src[p.pos] {
	case ')', '(':
		return nil, p.errAt(p.pos, expected)
	case '"':
		text, err := p.readPhrase()
		if err != nil {
			return nil, err
		}
		return &Term{Field: field, Value: text, Phrase: true, Pos: start}, nil
	case '[', '{':
		return p.parseRange(field, start)
	case '>', '<':
		return p.parseComparison(field, start)
	}
	w, err := p.readWord(modeValue)
	if err != nil {
		return nil, err
	}
	return leaf(field, w, start), nil
}

// leaf turns a word into a Term, a Wildcard, an Exists (field:*) or, for a
// bare "*", MatchAll.
func leaf(field string, w word, start int) Node {
	if !w.wild {
		return &Term{Field: field, Value: w.text, Pos: start}
	}
	if strings.Trim(w.glob, "*") == "" {
		if field == "" {
			return MatchAll{}
		}
		return &Exists{Field: field, Pos: start}
	}
	return &Wildcard{Field: field, Pattern: w.glob, Pos: start}
}

func (p *parser) parseExists(start int) (Node, error) {
	p.skipSpace()
	expected := "a field name after '" + existsField + ":'"
	if p.eof() || p.src[p.pos] == '(' || p.src[p.pos] == ')' {
		return nil, p.errAt(p.pos, expected)
	}
	var name string
	if p.src[p.pos] == '"' {
		text, err := p.readPhrase()
		if err != nil {
			return nil, err
		}
		name = text
	} else {
		at := p.pos
		w, err := p.readWord(modeValue)
		if err != nil {
			return nil, err
		}
		if w.wild {
			return nil, &SyntaxError{Pos: at, Found: quote(p.src[at:p.pos]), Expected: "a field name without wildcards"}
		}
		name = w.text
	}
	return &Exists{Field: name, Pos: start}, nil
}

// parseRange parses [lo TO hi], {lo TO hi} and the mixed forms.
func (p *parser) parseRange(field string, start int) (Node, error) {
	open := p.pos
	r := &Range{Field: field, Pos: start}
	r.Lo.Inclusive = p.src[p.pos] == '['
	p.pos++
	var err error
	if r.Lo, err = p.readBound(r.Lo.Inclusive, "a range start after '"+p.src[open:open+1]+"'"); err != nil {
		return nil, err
	}
	p.skipSpace()
	if !hasRangeTO(p.src[p.pos:]) {
		return nil, p.errAt(p.pos, "'TO' in the range")
	}
	p.pos += 2
	if r.Hi, err = p.readBound(false, "a range end after 'TO'"); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() || (p.src[p.pos] != ']' && p.src[p.pos] != '}') {
		return nil, p.errAt(p.pos, "']' or '}' to close the range")
	}
	r.Hi.Inclusive = p.src[p.pos] == ']'
	p.pos++
	normalizeOpen(r)
	return r, nil
}

// normalizeOpen marks open ends inclusive: the bracket of an open end means
// nothing, and one spelling keeps rendering stable.
func normalizeOpen(r *Range) {
	if r.Lo.Open {
		r.Lo.Inclusive = true
	}
	if r.Hi.Open {
		r.Hi.Inclusive = true
	}
}

// hasRangeTO reports whether s starts with the TO of a range.
func hasRangeTO(s string) bool {
	return strings.HasPrefix(s, "TO") && (len(s) == 2 || isDelim(s[2]) || s[2] == ']' || s[2] == '}')
}

func (p *parser) readBound(inclusive bool, expected string) (Bound, error) {
	p.skipSpace()
	if p.eof() {
		return Bound{}, p.errAt(p.pos, expected)
	}
	switch c := p.src[p.pos]; {
	case c == '"':
		text, err := p.readPhrase()
		return Bound{Value: text, Inclusive: inclusive}, err
	case c == ']' || c == '}' || c == '(' || c == ')' || hasRangeTO(p.src[p.pos:]):
		return Bound{}, p.errAt(p.pos, expected)
	}
	at := p.pos
	w, err := p.readWord(modeRange)
	if err != nil {
		return Bound{}, err
	}
	if w.wild {
		if w.glob == "*" {
			return Bound{Open: true, Inclusive: inclusive}, nil
		}
		return Bound{}, &SyntaxError{Pos: at, Found: quote(p.src[at:p.pos]), Expected: "a range value without wildcards"}
	}
	return Bound{Value: w.text, Inclusive: inclusive}, nil
}

// parseComparison parses >=v, >v, <=v and <v as one-sided ranges.
func (p *parser) parseComparison(field string, start int) (Node, error) {
	op := p.src[p.pos : p.pos+1]
	p.pos++
	inclusive := !p.eof() && p.src[p.pos] == '='
	if inclusive {
		op += "="
		p.pos++
	}
	p.skipSpace()
	expected := "a value after '" + op + "'"
	if p.eof() {
		return nil, p.errAt(p.pos, expected)
	}
	var b Bound
	switch c := p.src[p.pos]; c {
	case '(', ')', '[', ']', '{', '}':
		return nil, p.errAt(p.pos, expected)
	case '"':
		text, err := p.readPhrase()
		if err != nil {
			return nil, err
		}
		b = Bound{Value: text, Inclusive: inclusive}
	default:
		at := p.pos
		w, err := p.readWord(modeValue)
		if err != nil {
			return nil, err
		}
		if w.wild {
			return nil, &SyntaxError{Pos: at, Found: quote(p.src[at:p.pos]), Expected: expected + " without wildcards"}
		}
		b = Bound{Value: w.text, Inclusive: inclusive}
	}
	r := &Range{Field: field, Pos: start}
	if op[0] == '>' {
		r.Lo, r.Hi = b, Bound{Open: true}
	} else {
		r.Lo, r.Hi = Bound{Open: true}, b
	}
	normalizeOpen(r)
	return r, nil
}

// readPhrase reads a double-quoted string; a backslash escapes the next
// character. Phrases hold no wildcards.
func (p *parser) readPhrase() (string, error) {
	open := p.pos
	p.pos++
	var b strings.Builder
	from := p.pos
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case '\\':
			if p.pos+1 >= len(p.src) {
				p.pos = len(p.src)
				return "", p.errAt(p.pos, "'\"' to close the phrase")
			}
			b.WriteString(p.src[from:p.pos])
			b.WriteByte(p.src[p.pos+1])
			p.pos += 2
			from = p.pos
			continue
		case '"':
			b.WriteString(p.src[from:p.pos])
			p.pos++
			if b.Len() == 0 {
				return "", &SyntaxError{Pos: open, Found: "an empty phrase", Expected: "some text between the quotes"}
			}
			return b.String(), nil
		}
		p.pos++
	}
	return "", p.errAt(p.pos, "'\"' to close the phrase")
}

type wordMode int

const (
	modeClause wordMode = iota // a keyword or field name: ':' ends it
	modeValue                  // after "field:": colons belong to the value
	modeRange                  // a range bound: ']' and '}' end it
)

// word is an unquoted word as read.
type word struct {
	text    string // escapes resolved, wildcards kept as typed
	glob    string // the glob form: wildcards bare, literal * ? \ escaped
	wild    bool   // has an unescaped * or ?
	escaped bool   // had a backslash escape
}

func (p *parser) readWord(mode wordMode) (word, error) {
	start := p.pos
	var w word
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if isDelim(c) || (c == ':' && mode == modeClause) || ((c == ']' || c == '}') && mode == modeRange) {
			break
		}
		switch c {
		case '\\':
			if p.pos+1 >= len(p.src) {
				return w, p.errAt(p.pos+1, "a character after '\\'")
			}
			w.escaped = true
			p.pos += 2
			continue
		case '*', '?':
			w.wild = true
		}
		p.pos++
	}
	raw := p.src[start:p.pos]
	if !w.escaped {
		w.text, w.glob = raw, raw
		return w, nil
	}
	var text, glob strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\\' {
			i++
			c = raw[i]
			text.WriteByte(c)
			if c == '*' || c == '?' || c == '\\' {
				glob.WriteByte('\\')
			}
			glob.WriteByte(c)
			continue
		}
		text.WriteByte(c)
		glob.WriteByte(c)
	}
	w.text, w.glob = text.String(), glob.String()
	return w, nil
}

// errAt builds a SyntaxError at pos, describing what is found there.
func (p *parser) errAt(pos int, expected string) *SyntaxError {
	return &SyntaxError{Pos: pos, Found: p.describe(pos), Expected: expected}
}

// describe names the token at pos for an error message.
func (p *parser) describe(pos int) string {
	if pos >= len(p.src) {
		return "end of query"
	}
	s := p.src[pos:]
	switch s[0] {
	case '(', ')', '[', ']', '{', '}', '"', ':':
		return quote(s[:1])
	}
	end := 0
	for end < len(s) && !isDelim(s[end]) {
		end++
	}
	if end == 0 {
		end = 1
	}
	return quote(s[:end])
}

// quote quotes a piece of the query for a message, shortened when long.
func quote(s string) string {
	const max = 24
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return "'" + s + "'"
}
