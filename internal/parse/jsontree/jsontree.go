// Package jsontree parses a JSON document into a read-only tree of values
// that point into one string copy of the input.
//
// The API datasets (Google Workspace, Microsoft Entra ID) read records of a
// few kilobytes with dozens of keys each. encoding/json into map[string]any
// spends most of its time allocating maps, interfaces and one string per
// key and value; here the input is copied to a string once, every key and
// every string value without escapes is a substring of it, and the nodes sit
// in one slice without pointers, sized before parsing. Lookups are linear
// in an object's members, which is faster than hashing for the small
// objects these logs carry.
package jsontree

import (
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is the type of a JSON value.
type Kind uint8

// Kinds of values. Invalid is the kind of a missing value (the result of
// Get on a key that is not there).
const (
	Invalid Kind = iota
	Null
	Bool
	Number
	String
	Object
	Array
)

// maxDepth bounds nesting so that a hostile record cannot exhaust the stack.
const maxDepth = 256

// node is one value. It holds no pointers, so a tree is one allocation
// the garbage collector need not scan: texts are offsets into the source,
// or, for strings with escapes, indexes into the tree's decoded strings.
type node struct {
	kind  Kind
	truth bool  // Bool's value
	esc   uint8 // escKey, escText: the span indexes decoded, not src
	key   span  // member name, when the parent is an object
	text  span  // String's value, Number's literal
	child int32 // first child (Object, Array); 0 means none
	next  int32 // next sibling; 0 means none (the root is no one's sibling)
}

type span struct{ off, n int32 }

const (
	escKey uint8 = 1 << iota
	escText
)

type tree struct {
	src     string
	nodes   []node
	decoded []string
}

func (t *tree) str(sp span, escaped bool) string {
	if escaped {
		return t.decoded[sp.off]
	}
	return t.src[sp.off : sp.off+sp.n]
}

func (t *tree) key(i int32) string  { n := &t.nodes[i]; return t.str(n.key, n.esc&escKey != 0) }
func (t *tree) text(i int32) string { n := &t.nodes[i]; return t.str(n.text, n.esc&escText != 0) }

// Value is one value of a parsed document. The zero Value is a missing
// value: every accessor on it reports absence.
type Value struct {
	t *tree
	i int32
}

// Parse parses one JSON document (surrounding white space and a leading
// byte-order mark allowed) and returns its root value.
func Parse(data []byte) (Value, error) {
	return ParseString(string(data))
}

// ParseString is Parse on a string; values share its memory.
func ParseString(s string) (Value, error) {
	s = strings.TrimPrefix(s, "\ufeff")
	if len(s) > maxLen {
		return Value{}, ErrTooLong
	}
	// Every value but the root follows a ',' or opens a container, so
	// this bounds the node count and the slice never grows.
	n := strings.Count(s, ",") + strings.Count(s, "{") + strings.Count(s, "[") + 2
	p := parser{t: &tree{src: s, nodes: make([]node, 0, n)}}
	p.skipSpace()
	if _, err := p.value(0); err != nil {
		return Value{}, err
	}
	p.skipSpace()
	if p.pos < len(s) {
		return Value{}, fmt.Errorf("json: unexpected %q after the document at offset %d", s[p.pos], p.pos)
	}
	return Value{t: p.t}, nil
}

// maxLen keeps offsets within int32.
const maxLen = 1<<31 - 1

// ErrTooLong is returned for documents of 2 GiB or more.
var ErrTooLong = errors.New("json: document too long")

// ErrDepth is returned for documents nested deeper than the parser allows.
var ErrDepth = errors.New("json: document nested too deeply")

type parser struct {
	t   *tree
	pos int
}

func (p *parser) skipSpace() {
	s := p.t.src
	for p.pos < len(s) {
		switch s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("json: "+format+" at offset %d", append(args, p.pos)...)
}

// value parses the value at p.pos (white space already skipped) and
// returns its node index.
func (p *parser) value(depth int) (int32, error) {
	if depth > maxDepth {
		return 0, ErrDepth
	}
	s := p.t.src
	if p.pos >= len(s) {
		return 0, p.errorf("unexpected end of input")
	}
	idx := int32(len(p.t.nodes))
	switch c := s[p.pos]; {
	case c == '{':
		p.t.nodes = append(p.t.nodes, node{kind: Object})
		return idx, p.object(idx, depth)
	case c == '[':
		p.t.nodes = append(p.t.nodes, node{kind: Array})
		return idx, p.array(idx, depth)
	case c == '"':
		sp, esc, err := p.str()
		if err != nil {
			return 0, err
		}
		n := node{kind: String, text: sp}
		if esc {
			n.esc = escText
		}
		p.t.nodes = append(p.t.nodes, n)
	case c == '-' || c >= '0' && c <= '9':
		sp, err := p.number()
		if err != nil {
			return 0, err
		}
		p.t.nodes = append(p.t.nodes, node{kind: Number, text: sp})
	case strings.HasPrefix(s[p.pos:], "true"):
		p.pos += 4
		p.t.nodes = append(p.t.nodes, node{kind: Bool, truth: true})
	case strings.HasPrefix(s[p.pos:], "false"):
		p.pos += 5
		p.t.nodes = append(p.t.nodes, node{kind: Bool})
	case strings.HasPrefix(s[p.pos:], "null"):
		p.pos += 4
		p.t.nodes = append(p.t.nodes, node{kind: Null})
	default:
		return 0, p.errorf("unexpected %q", c)
	}
	return idx, nil
}

func (p *parser) object(idx int32, depth int) error {
	s := p.t.src
	p.pos++ // '{'
	p.skipSpace()
	if p.pos < len(s) && s[p.pos] == '}' {
		p.pos++
		return nil
	}
	var prev int32
	for {
		if p.pos >= len(s) || s[p.pos] != '"' {
			return p.errorf("expected a member name")
		}
		key, esc, err := p.str()
		if err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(s) || s[p.pos] != ':' {
			return p.errorf("expected ':' after a member name")
		}
		p.pos++
		p.skipSpace()
		child, err := p.value(depth + 1)
		if err != nil {
			return err
		}
		p.t.nodes[child].key = key
		if esc {
			p.t.nodes[child].esc |= escKey
		}
		p.link(idx, prev, child)
		prev = child
		p.skipSpace()
		if p.pos >= len(s) {
			return p.errorf("unterminated object")
		}
		switch s[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
		case '}':
			p.pos++
			return nil
		default:
			return p.errorf("expected ',' or '}' in an object")
		}
	}
}

func (p *parser) array(idx int32, depth int) error {
	s := p.t.src
	p.pos++ // '['
	p.skipSpace()
	if p.pos < len(s) && s[p.pos] == ']' {
		p.pos++
		return nil
	}
	var prev int32
	for {
		child, err := p.value(depth + 1)
		if err != nil {
			return err
		}
		p.link(idx, prev, child)
		prev = child
		p.skipSpace()
		if p.pos >= len(s) {
			return p.errorf("unterminated array")
		}
		switch s[p.pos] {
		case ',':
			p.pos++
			p.skipSpace()
		case ']':
			p.pos++
			return nil
		default:
			return p.errorf("expected ',' or ']' in an array")
		}
	}
}

// link appends child to parent's children; prev is the last child so far
// (0 when none: index 0 is the root, which is never a child).
func (p *parser) link(parent, prev, child int32) {
	if prev == 0 {
		p.t.nodes[parent].child = child
	} else {
		p.t.nodes[prev].next = child
	}
}

// str parses a string at p.pos (on its opening quote). Without escapes
// the result spans the source; with them it indexes the decoded strings
// and esc is true.
func (p *parser) str() (sp span, esc bool, err error) {
	s := p.t.src
	p.pos++ // opening quote
	start := p.pos
	for p.pos < len(s) {
		c := s[p.pos]
		switch {
		case c == '"':
			sp = span{off: int32(start), n: int32(p.pos - start)}
			p.pos++
			return sp, false, nil
		case c == '\\':
			d, err := p.escaped(start)
			if err != nil {
				return span{}, false, err
			}
			p.t.decoded = append(p.t.decoded, d)
			return span{off: int32(len(p.t.decoded) - 1)}, true, nil
		case c < 0x20:
			return span{}, false, p.errorf("control character in a string")
		}
		p.pos++
	}
	return span{}, false, p.errorf("unterminated string")
}

// escaped decodes a string that holds escapes; p.pos is on the first
// backslash and start is where the string's text began.
func (p *parser) escaped(start int) (string, error) {
	s := p.t.src
	var b strings.Builder
	b.Grow(p.pos - start + 16)
	b.WriteString(s[start:p.pos])
	for p.pos < len(s) {
		c := s[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c < 0x20:
			return "", p.errorf("control character in a string")
		case c != '\\':
			b.WriteByte(c)
			p.pos++
			continue
		}
		if p.pos+1 >= len(s) {
			break
		}
		e := s[p.pos+1]
		p.pos += 2
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, err := p.hex4()
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(r) {
				r = p.lowSurrogate(r)
			}
			b.WriteRune(r)
		default:
			return "", p.errorf("invalid escape \\%c", e)
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *parser) hex4() (rune, error) {
	s := p.t.src
	if p.pos+4 > len(s) {
		return 0, p.errorf("short \\u escape")
	}
	n, err := strconv.ParseUint(s[p.pos:p.pos+4], 16, 32)
	if err != nil {
		return 0, p.errorf("invalid \\u escape")
	}
	p.pos += 4
	return rune(n), nil
}

// lowSurrogate completes a UTF-16 surrogate pair whose high half is hi; a
// lone half becomes U+FFFD, as encoding/json does.
func (p *parser) lowSurrogate(hi rune) rune {
	s := p.t.src
	if p.pos+6 <= len(s) && s[p.pos] == '\\' && s[p.pos+1] == 'u' {
		if lo, err := strconv.ParseUint(s[p.pos+2:p.pos+6], 16, 32); err == nil {
			if r := utf16.DecodeRune(hi, rune(lo)); r != utf8.RuneError {
				p.pos += 6
				return r
			}
		}
	}
	return utf8.RuneError
}

// number scans a JSON number literal.
func (p *parser) number() (span, error) {
	s := p.t.src
	start := p.pos
	if s[p.pos] == '-' {
		p.pos++
	}
	switch {
	case p.pos < len(s) && s[p.pos] == '0':
		p.pos++
	case p.pos < len(s) && s[p.pos] >= '1' && s[p.pos] <= '9':
		p.digits()
	default:
		return span{}, p.errorf("invalid number")
	}
	if p.pos < len(s) && s[p.pos] == '.' {
		p.pos++
		if !p.digits() {
			return span{}, p.errorf("invalid number")
		}
	}
	if p.pos < len(s) && (s[p.pos] == 'e' || s[p.pos] == 'E') {
		p.pos++
		if p.pos < len(s) && (s[p.pos] == '+' || s[p.pos] == '-') {
			p.pos++
		}
		if !p.digits() {
			return span{}, p.errorf("invalid number")
		}
	}
	return span{off: int32(start), n: int32(p.pos - start)}, nil
}

// digits skips one or more decimal digits, reporting whether there was one.
func (p *parser) digits() bool {
	s := p.t.src
	start := p.pos
	for p.pos < len(s) && s[p.pos] >= '0' && s[p.pos] <= '9' {
		p.pos++
	}
	return p.pos > start
}

// Kind returns the value's kind; Invalid for a missing value.
func (v Value) Kind() Kind {
	if v.t == nil {
		return Invalid
	}
	return v.t.nodes[v.i].kind
}

// Exists reports whether the value is present (JSON null counts).
func (v Value) Exists() bool { return v.t != nil }

// IsNull reports a missing value or JSON null.
func (v Value) IsNull() bool { k := v.Kind(); return k == Invalid || k == Null }

// Get returns the first member named key of an object; a missing value
// when v is no object or has no such member.
func (v Value) Get(key string) Value {
	if v.Kind() != Object {
		return Value{}
	}
	for c := v.t.nodes[v.i].child; c != 0; c = v.t.nodes[c].next {
		if v.t.key(c) == key {
			return Value{t: v.t, i: c}
		}
	}
	return Value{}
}

// Path follows Get through nested objects.
func (v Value) Path(keys ...string) Value {
	for _, k := range keys {
		v = v.Get(k)
	}
	return v
}

// Members iterates over an object's members in document order.
func (v Value) Members() iter.Seq2[string, Value] {
	return func(yield func(string, Value) bool) {
		if v.Kind() != Object {
			return
		}
		for c := v.t.nodes[v.i].child; c != 0; c = v.t.nodes[c].next {
			if !yield(v.t.key(c), Value{t: v.t, i: c}) {
				return
			}
		}
	}
}

// Elements iterates over an array's elements in order.
func (v Value) Elements() iter.Seq[Value] {
	return func(yield func(Value) bool) {
		if v.Kind() != Array {
			return
		}
		for c := v.t.nodes[v.i].child; c != 0; c = v.t.nodes[c].next {
			if !yield(Value{t: v.t, i: c}) {
				return
			}
		}
	}
}

// Len is the number of members of an object or elements of an array.
func (v Value) Len() int {
	k := v.Kind()
	if k != Object && k != Array {
		return 0
	}
	n := 0
	for c := v.t.nodes[v.i].child; c != 0; c = v.t.nodes[c].next {
		n++
	}
	return n
}

// Str returns a string's value; "" for any other kind.
func (v Value) Str() string {
	if v.Kind() != String {
		return ""
	}
	return v.t.text(v.i)
}

// Text returns a scalar as text: a string's value, a number's literal,
// "true" or "false"; "" for null, objects, arrays and missing values.
func (v Value) Text() string {
	switch v.Kind() {
	case String, Number:
		return v.t.text(v.i)
	case Bool:
		if v.t.nodes[v.i].truth {
			return "true"
		}
		return "false"
	}
	return ""
}

// Int returns an integral number, or a string holding one (APIs write
// 64-bit integers as strings), as an int64.
func (v Value) Int() (int64, bool) {
	switch v.Kind() {
	case Number, String:
		n, err := strconv.ParseInt(strings.TrimSpace(v.t.text(v.i)), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// Float returns a number, or a string holding one, as a float64.
func (v Value) Float() (float64, bool) {
	switch v.Kind() {
	case Number, String:
		f, err := strconv.ParseFloat(strings.TrimSpace(v.t.text(v.i)), 64)
		return f, err == nil
	}
	return 0, false
}

// Bool returns a boolean, or a string "true"/"false", as a bool.
func (v Value) Bool() (value, ok bool) {
	switch v.Kind() {
	case Bool:
		return v.t.nodes[v.i].truth, true
	case String:
		switch v.t.text(v.i) {
		case "true", "True", "TRUE":
			return true, true
		case "false", "False", "FALSE":
			return false, true
		}
	}
	return false, false
}

// Any converts the value to the event model's types: strings, int64 for
// integral numbers (float64 otherwise), bool, []string for arrays of
// strings, []any for other arrays and map[string]any for objects, nil for
// null. Objects leave out members that are null or empty strings, as
// events carry no empty values. key renames object members on the way
// (nil keeps them).
func (v Value) Any(key func(string) string) any {
	switch v.Kind() {
	case String:
		return v.Str()
	case Number:
		if n, ok := v.Int(); ok {
			return n
		}
		f, _ := v.Float()
		return f
	case Bool:
		b, _ := v.Bool()
		return b
	case Array:
		return v.anyArray(key)
	case Object:
		m := make(map[string]any, v.Len())
		for k, el := range v.Members() {
			if x := el.Any(key); x != nil && x != "" {
				if key != nil {
					k = key(k)
				}
				m[k] = x
			}
		}
		return m
	}
	return nil
}

func (v Value) anyArray(key func(string) string) any {
	n, allStrings := 0, true
	for el := range v.Elements() {
		n++
		if el.Kind() != String {
			allStrings = false
		}
	}
	if allStrings {
		out := make([]string, 0, n)
		for el := range v.Elements() {
			out = append(out, el.Str())
		}
		return out
	}
	out := make([]any, 0, n)
	for el := range v.Elements() {
		if x := el.Any(key); x != nil {
			out = append(out, x)
		}
	}
	return out
}
