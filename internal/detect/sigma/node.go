package sigma

import (
	"strconv"
	"strings"
	"time"
)

// cnode is a compiled condition or selection.
type cnode interface {
	eval(s *Scratch) bool
}

type andNode []cnode

func (n andNode) eval(s *Scratch) bool {
	for _, k := range n {
		if !k.eval(s) {
			return false
		}
	}
	return true
}

type orNode []cnode

func (n orNode) eval(s *Scratch) bool {
	for _, k := range n {
		if k.eval(s) {
			return true
		}
	}
	return false
}

// andOf and orOf flatten nested lists of the same operator and drop
// one-element wrappers.
func andOf(kids []cnode) cnode {
	var out andNode
	for _, k := range kids {
		if a, ok := k.(andNode); ok {
			out = append(out, a...)
			continue
		}
		out = append(out, k)
	}
	if len(out) == 1 {
		return out[0]
	}
	return out
}

func orOf(kids []cnode) cnode {
	var out orNode
	for _, k := range kids {
		if o, ok := k.(orNode); ok {
			out = append(out, o...)
			continue
		}
		out = append(out, k)
	}
	if len(out) == 1 {
		return out[0]
	}
	return out
}

type notNode struct{ x cnode }

func (n *notNode) eval(s *Scratch) bool { return !n.x.eval(s) }

// fieldNode tests a field (held by any of several ECS fields) against
// values: any of them, or all with `all`. null matches an absent field.
type fieldNode struct {
	fields []fieldRef
	pats   []pattern
	all    bool
	null   bool
}

func (n *fieldNode) eval(s *Scratch) bool {
	if n.all {
		for _, p := range n.pats {
			if !n.anyField(s, p) {
				return false
			}
		}
		return true
	}
	present := false
	for i := range n.fields {
		v, ok := n.fields[i].get(s.e)
		if !ok {
			continue
		}
		present = true
		for _, p := range n.pats {
			if matchValue(p, v) {
				return true
			}
		}
	}
	return n.null && !present
}

func (n *fieldNode) anyField(s *Scratch, p pattern) bool {
	for i := range n.fields {
		if v, ok := n.fields[i].get(s.e); ok && matchValue(p, v) {
			return true
		}
	}
	return false
}

// existsNode is `field|exists: true/false`.
type existsNode struct {
	fields []fieldRef
	want   bool
}

func (n *existsNode) eval(s *Scratch) bool {
	for i := range n.fields {
		if _, ok := n.fields[i].get(s.e); ok {
			return n.want
		}
	}
	return !n.want
}

// keywordNode searches the event's text.
type keywordNode struct {
	fields []string
	pats   []pattern
	all    bool
}

func (n *keywordNode) eval(s *Scratch) bool {
	if n.all {
		for _, p := range n.pats {
			if !n.found(s, p) {
				return false
			}
		}
		return true
	}
	for _, p := range n.pats {
		if n.found(s, p) {
			return true
		}
	}
	return false
}

// found searches the event's text: the first of the keyword fields the
// event has (its message, else the record as it arrived).
func (n *keywordNode) found(s *Scratch, p pattern) bool {
	for _, f := range n.fields {
		raw, low, ok := s.text(f)
		if !ok {
			continue
		}
		if sp, isStr := p.(*strPattern); isStr {
			return sp.matchLower(raw, low)
		}
		return p.matchString(raw)
	}
	return false
}

// fieldrefNode compares a field with another field of the same event.
type fieldrefNode struct {
	fields, other []fieldRef
	kind          strKind
	cased         bool
}

func (n *fieldrefNode) eval(s *Scratch) bool {
	for i := range n.fields {
		a, ok := n.fields[i].get(s.e)
		if !ok {
			continue
		}
		for j := range n.other {
			b, ok := n.other[j].get(s.e)
			if !ok {
				continue
			}
			if n.compare(a, b) {
				return true
			}
		}
	}
	return false
}

// compare tests every text of a against every text of b.
func (n *fieldrefNode) compare(a, b any) bool {
	as, bs := scalarTexts(a), scalarTexts(b)
	for _, x := range as {
		for _, y := range bs {
			if !n.cased {
				x, y = strings.ToLower(x), strings.ToLower(y)
			}
			var ok bool
			switch n.kind {
			case strPrefix:
				ok = len(x) >= len(y) && x[:len(y)] == y
			case strSuffix:
				ok = len(x) >= len(y) && x[len(x)-len(y):] == y
			case strContains:
				ok = strings.Contains(x, y)
			default:
				ok = x == y
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// scalarTexts renders a field value's scalars as texts (fieldref compares
// texts; it is rare enough not to need an allocation-free path).
func scalarTexts(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case int64:
		return []string{strconv.FormatInt(x, 10)}
	case float64:
		return []string{strconv.FormatFloat(x, 'f', -1, 64)}
	case bool:
		return []string{strconv.FormatBool(x)}
	case time.Time:
		return []string{x.UTC().Format(time.RFC3339Nano)}
	case []string:
		return x
	case []any:
		var out []string
		for _, el := range x {
			switch el.(type) {
			case []any, map[string]any:
				continue
			}
			out = append(out, scalarTexts(el)...)
		}
		return out
	}
	return nil
}
