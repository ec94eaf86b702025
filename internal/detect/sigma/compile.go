package sigma

import (
	"fmt"
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// DefaultKeywordFields are where keyword selections search: the event's
// message, or the record as it arrived when the event has no message.
func DefaultKeywordFields() []string {
	return []string{event.FieldMessage, event.FieldOriginal}
}

// CompileOptions say how to bind a rule to mamori's events.
type CompileOptions struct {
	// Fields maps Sigma field names to ECS fields; nil looks fields up
	// under the names the rule uses.
	Fields FieldMapper
	// KeywordFields are where keywords search: the first of them an event
	// has; nil means DefaultKeywordFields().
	KeywordFields []string
	// Placeholders are the values of `expand` placeholders ("%Servers%"
	// → Placeholders["Servers"]). A rule using one that is not here is
	// rejected.
	Placeholders map[string][]string
}

// Matcher is a compiled detection. It is immutable and safe for concurrent
// use.
type Matcher struct {
	root cnode
}

// Scratch holds per-event work shared by every rule an event meets: the
// lower-cased text keyword searches look in. Reset it for each event; it is
// not safe for concurrent use.
type Scratch struct {
	e     *event.Event
	texts []scratchText
}

type scratchText struct {
	field    string
	raw, low string
	present  bool
}

// Reset prepares the scratch for a new event.
func (s *Scratch) Reset(e *event.Event) {
	s.e = e
	s.texts = s.texts[:0]
}

// text returns a keyword field's text and its lower-case form, computed
// once per event.
func (s *Scratch) text(field string) (raw, low string, ok bool) {
	for i := range s.texts {
		if s.texts[i].field == field {
			t := &s.texts[i]
			return t.raw, t.low, t.present
		}
	}
	raw = s.e.String(field)
	t := scratchText{field: field, raw: raw, low: strings.ToLower(raw), present: raw != ""}
	s.texts = append(s.texts, t)
	return t.raw, t.low, t.present
}

// Match reports whether the event matches the detection.
func (m *Matcher) Match(e *event.Event) bool {
	var s Scratch
	s.Reset(e)
	return m.root.eval(&s)
}

// MatchScratch is Match with a scratch already Reset for e, so that many
// rules share its work.
func (m *Matcher) MatchScratch(s *Scratch) bool { return m.root.eval(s) }

// Compile turns a detection rule into a Matcher.
func Compile(r *Rule, opts CompileOptions) (*Matcher, error) {
	if r.Detection == nil {
		return nil, &Error{Prefix: prefix, File: r.File, Line: r.Line, Rule: r.Title, Msg: "not a detection rule"}
	}
	env := compileEnv{fields: opts.Fields, placeholders: opts.Placeholders, keywordFields: opts.KeywordFields}
	if env.fields == nil {
		env.fields = sameNames{}
	}
	if env.keywordFields == nil {
		env.keywordFields = DefaultKeywordFields()
	}
	c := &compiler{env: env, rule: r, sels: map[string]cnode{}}
	for _, name := range r.Detection.Names {
		n, err := c.selection(r.Detection.Selections[name])
		if err != nil {
			return nil, err
		}
		c.sels[name] = n
	}
	root, err := c.expr(r.Detection.Condition)
	if err != nil {
		return nil, err
	}
	return &Matcher{root: root}, nil
}

type compiler struct {
	env  compileEnv
	rule *Rule
	sels map[string]cnode
}

func (c *compiler) errItem(it *Item, err error) error {
	if e, ok := AsError(err); ok {
		cp := *e
		cp.File, cp.Rule = c.rule.File, c.rule.Title
		return &cp
	}
	return &Error{Prefix: prefix, File: c.rule.File, Rule: c.rule.Title, Line: it.Line, Col: it.Col, Msg: err.Error()}
}

func (c *compiler) selection(s *Selection) (cnode, error) {
	var alts []cnode
	for _, alt := range s.Alternatives {
		var items []cnode
		for _, it := range alt {
			b, err := buildItem(it, c.env)
			if err != nil {
				return nil, c.errItem(it, err)
			}
			items = append(items, c.item(b))
		}
		alts = append(alts, andOf(items))
	}
	return orOf(alts), nil
}

func (c *compiler) refs(sigmaField string) []fieldRef {
	names := c.env.fields.Fields(sigmaField)
	out := make([]fieldRef, len(names))
	for i, n := range names {
		out[i] = newFieldRef(n)
	}
	return out
}

func (c *compiler) item(b *builtItem) cnode {
	switch b.kind {
	case itemKeyword:
		return &keywordNode{fields: c.env.keywordFields, pats: b.pats, all: b.all}
	case itemExists:
		return &existsNode{fields: c.refs(b.field), want: b.exists}
	case itemFieldref:
		var others []cnode
		for _, r := range b.refs {
			others = append(others, &fieldrefNode{fields: c.refs(b.field), other: c.refs(r), kind: b.refKind, cased: b.cased})
		}
		n := orOf(others)
		if b.negate {
			return &notNode{x: n}
		}
		return n
	}
	var n cnode = &fieldNode{fields: c.refs(b.field), pats: b.pats, all: b.all, null: b.null}
	if b.negate {
		n = &notNode{x: n}
	}
	return n
}

func (c *compiler) expr(e Expr) (cnode, error) {
	switch x := e.(type) {
	case *AndExpr:
		l, err := c.expr(x.X)
		if err != nil {
			return nil, err
		}
		r, err := c.expr(x.Y)
		if err != nil {
			return nil, err
		}
		return andOf([]cnode{l, r}), nil
	case *OrExpr:
		l, err := c.expr(x.X)
		if err != nil {
			return nil, err
		}
		r, err := c.expr(x.Y)
		if err != nil {
			return nil, err
		}
		return orOf([]cnode{l, r}), nil
	case *NotExpr:
		n, err := c.expr(x.X)
		if err != nil {
			return nil, err
		}
		return &notNode{x: n}, nil
	case *RefExpr:
		return c.sel(x.Name)
	case *OfExpr:
		var kids []cnode
		for _, name := range x.Names {
			n, err := c.sel(name)
			if err != nil {
				return nil, err
			}
			kids = append(kids, n)
		}
		if x.All {
			return andOf(kids), nil
		}
		return orOf(kids), nil
	}
	return nil, fmt.Errorf("sigma: unknown condition expression %T", e)
}

func (c *compiler) sel(name string) (cnode, error) {
	n, ok := c.sels[name]
	if !ok {
		return nil, &Error{Prefix: prefix, File: c.rule.File, Rule: c.rule.Title, Line: c.rule.Line, Msg: fmt.Sprintf("condition names %q, which is not a selection", name)}
	}
	return n, nil
}

// FieldNames lists the Sigma field names a detection uses (fields and the
// fields fieldref names), in order of first use.
func (d *Detection) FieldNames() []string {
	var out []string
	seen := map[string]bool{}
	add := func(f string) {
		if f != "" && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	for _, name := range d.Names {
		for _, alt := range d.Selections[name].Alternatives {
			for _, it := range alt {
				add(it.Field)
				for _, m := range it.Modifiers {
					if strings.EqualFold(m, "fieldref") {
						for _, v := range it.Values {
							add(v.Text)
						}
					}
				}
			}
		}
	}
	return out
}

// HasKeywords reports whether a detection searches the event's text.
func (d *Detection) HasKeywords() bool {
	for _, name := range d.Names {
		for _, alt := range d.Selections[name].Alternatives {
			for _, it := range alt {
				if it.Field == "" {
					return true
				}
			}
		}
	}
	return false
}
