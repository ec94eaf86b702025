package sigma

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxFileSize bounds a rule file: real rules are a few KiB.
const MaxFileSize = 4 << 20

// Parse reads the rules of one file: each YAML document is a rule, a
// correlation, or (Sigma v1 collections) an `action: global`, `reset` or
// `repeat` document. It returns every rule it could read and, joined, an
// *Error for each document it could not; file names the file in errors.
//
// Parse checks each detection fully (modifiers, values, regular
// expressions, condition) with field names as written; Compile binds the
// fields.
func Parse(file string, data []byte) ([]*Rule, error) {
	if len(data) > MaxFileSize {
		return nil, errorAt(file, 0, 0, "file larger than %d bytes", MaxFileSize)
	}
	if !utf8.Valid(data) {
		return nil, errorAt(file, 0, 0, "not UTF-8 text")
	}
	docs, err := decodeDocuments(file, data)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	var rules []*Rule
	var global, prev *node
	for _, doc := range docs {
		if doc == nil {
			continue
		}
		p := &parser{file: file}
		if doc.kind != mappingNode {
			errs = append(errs, p.errAt(doc, "a rule document must be a mapping, found %s", doc.describe()))
			continue
		}
		full := doc
		if a := doc.get("action"); a != nil {
			action, err := p.text(a, "action")
			if err != nil {
				errs = append(errs, err)
				continue
			}
			switch action {
			case "global":
				global = merge(global, doc.without("action"))
				continue
			case "reset":
				global = nil
				continue
			case "repeat":
				if prev == nil {
					errs = append(errs, p.errAt(a, "action: repeat with no rule before it to repeat"))
					continue
				}
				full = merge(prev, doc.without("action"))
			default:
				errs = append(errs, p.errAt(a, "unknown action %q (Sigma collections know global, reset and repeat)", action))
				continue
			}
		} else {
			full = merge(global, doc)
		}
		prev = full
		r, err := p.readRule(full)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rules = append(rules, r)
	}
	if len(rules) == 0 && len(errs) == 0 {
		errs = append(errs, errorAt(file, 0, 0, "no rule in the file"))
	}
	return rules, errors.Join(errs...)
}

// parser reads one document.
type parser struct {
	file  string
	title string // the rule's title, once known, for messages
}

func (p *parser) errAt(n *node, format string, args ...any) *Error {
	e := &Error{Prefix: prefix, File: p.file, Rule: p.title, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.line, n.col
	}
	return e
}

var validStatus = map[string]bool{"stable": true, "test": true, "experimental": true, "deprecated": true, "unsupported": true}

func (p *parser) readRule(doc *node) (*Rule, error) {
	r := &Rule{File: p.file, Line: doc.line}
	var err error
	tn := doc.get("title")
	if tn == nil {
		return nil, p.errAt(doc, "the rule has no title")
	}
	if r.Title, err = p.text(tn, "title"); err != nil {
		return nil, err
	}
	p.title = r.Title
	texts := []struct {
		key string
		dst *string
	}{
		{"id", &r.ID}, {"name", &r.Name}, {"description", &r.Description}, {"author", &r.Author},
		{"license", &r.License}, {"date", &r.Date}, {"modified", &r.Modified}, {"taxonomy", &r.Taxonomy},
	}
	for _, t := range texts {
		if *t.dst, err = p.optText(doc.get(t.key), t.key); err != nil {
			return nil, err
		}
	}
	lists := []struct {
		key string
		dst *[]string
	}{
		{"references", &r.References}, {"tags", &r.Tags}, {"falsepositives", &r.Falsepositives},
		{"fields", &r.Fields}, {"scope", &r.Scope},
	}
	for _, l := range lists {
		if *l.dst, err = p.textList(doc.get(l.key), l.key); err != nil {
			return nil, err
		}
	}
	if n := doc.get("status"); !n.isNull() {
		s, err := p.text(n, "status")
		if err != nil {
			return nil, err
		}
		if !validStatus[strings.ToLower(s)] {
			return nil, p.errAt(n, "status %q is not one of stable, test, experimental, deprecated, unsupported", s)
		}
		r.Status = Status(strings.ToLower(s))
	}
	if n := doc.get("level"); !n.isNull() {
		s, err := p.text(n, "level")
		if err != nil {
			return nil, err
		}
		r.Level = Level(strings.ToLower(s))
		if r.Level.Rank() < 0 {
			return nil, p.errAt(n, "level %q is not one of informational, low, medium, high, critical", s)
		}
	}
	if r.Related, err = p.related(doc.get("related")); err != nil {
		return nil, err
	}
	if tx := strings.ToLower(r.Taxonomy); tx != "" && tx != "sigma" {
		return nil, p.errAt(doc.get("taxonomy"), "taxonomy %q: mamori maps Sigma's own field names only", r.Taxonomy)
	}
	det, corr := doc.get("detection"), doc.get("correlation")
	switch {
	case det != nil && corr != nil:
		return nil, p.errAt(corr, "a document is either a detection rule or a correlation rule, not both")
	case corr != nil:
		if r.Correlation, err = p.correlation(corr); err != nil {
			return nil, err
		}
		return r, nil
	case det == nil:
		if doc.get("filter") != nil {
			return nil, p.errAt(doc.get("filter"), "Sigma filter documents are not supported: edit the rules' conditions instead")
		}
		return nil, p.errAt(doc, "the rule has no detection (nor correlation)")
	}
	ls := doc.get("logsource")
	if ls == nil {
		return nil, p.errAt(doc, "the rule has no logsource")
	}
	if r.Logsource, err = p.logsource(ls); err != nil {
		return nil, err
	}
	if r.Detection, err = p.detection(det); err != nil {
		return nil, err
	}
	return r, nil
}

func (p *parser) related(n *node) ([]Related, error) {
	if n.isNull() {
		return nil, nil
	}
	if n.kind != sequenceNode {
		return nil, p.errAt(n, "related: want a list of {id, type}, found %s", n.describe())
	}
	var out []Related
	for _, it := range n.items {
		if it.kind != mappingNode {
			return nil, p.errAt(it, "related: want {id, type}, found %s", it.describe())
		}
		id, err := p.optText(it.get("id"), "related id")
		if err != nil {
			return nil, err
		}
		typ, err := p.optText(it.get("type"), "related type")
		if err != nil {
			return nil, err
		}
		out = append(out, Related{ID: id, Type: typ})
	}
	return out, nil
}

func (p *parser) logsource(n *node) (Logsource, error) {
	var ls Logsource
	if n.kind != mappingNode {
		return ls, p.errAt(n, "logsource: want a mapping (product, service, category), found %s", n.describe())
	}
	var err error
	for _, f := range []struct {
		key string
		dst *string
	}{{"product", &ls.Product}, {"service", &ls.Service}, {"category", &ls.Category}, {"definition", &ls.Definition}} {
		if *f.dst, err = p.optText(n.get(f.key), "logsource "+f.key); err != nil {
			return ls, err
		}
	}
	if ls.Product == "" && ls.Service == "" && ls.Category == "" {
		return ls, p.errAt(n, "logsource names no product, service or category")
	}
	return ls, nil
}

func (p *parser) detection(n *node) (*Detection, error) {
	if n.kind != mappingNode {
		return nil, p.errAt(n, "detection: want a mapping of selections and a condition, found %s", n.describe())
	}
	d := &Detection{Selections: map[string]*Selection{}}
	var condNode *node
	for i, k := range n.keys {
		v := n.vals[i]
		switch k.value {
		case "condition":
			condNode = v
			continue
		case "timeframe":
			tf, err := p.text(v, "timeframe")
			if err != nil {
				return nil, err
			}
			d.Timeframe = tf
			continue
		}
		sel, err := p.selection(k, v)
		if err != nil {
			return nil, err
		}
		d.Selections[k.value] = sel
		d.Names = append(d.Names, k.value)
	}
	if condNode == nil {
		return nil, p.errAt(n, "detection has no condition")
	}
	if len(d.Names) == 0 {
		return nil, p.errAt(n, "detection has no selection")
	}
	var conds []*node
	switch {
	case condNode.kind == scalarNode && !condNode.isNull():
		conds = []*node{condNode}
	case condNode.kind == sequenceNode && len(condNode.items) > 0:
		conds = condNode.items
	default:
		return nil, p.errAt(condNode, "condition: want text or a list of texts, found %s", condNode.describe())
	}
	for _, c := range conds {
		text, err := p.text(c, "condition")
		if err != nil {
			return nil, err
		}
		e, err := ParseCondition(text, d.Names)
		if err != nil {
			var ce *CondError
			if errors.As(err, &ce) {
				// Columns point into the condition for plain one-line
				// scalars; quoted ones are one column off.
				return nil, &Error{Prefix: prefix, File: p.file, Rule: p.title, Line: c.line, Col: c.col + ce.Pos,
					Msg: fmt.Sprintf("condition %q: %s", text, ce.Msg)}
			}
			return nil, p.errAt(c, "condition %q: %v", text, err)
		}
		d.Conditions = append(d.Conditions, text)
		if d.Condition == nil {
			d.Condition = e
		} else {
			d.Condition = &OrExpr{X: d.Condition, Y: e}
		}
	}
	// Check every item as Compile will, with field names as written, so
	// that errors carry the item's position at load time.
	for _, name := range d.Names {
		for _, alt := range d.Selections[name].Alternatives {
			for _, it := range alt {
				if _, err := buildItem(it, compileEnv{placeholdersLenient: true}); err != nil {
					return nil, p.itemErr(it, err)
				}
			}
		}
	}
	return d, nil
}

func (p *parser) itemErr(it *Item, err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e.File == "" {
			e.File, e.Rule = p.file, p.title
		}
		return e
	}
	return &Error{Prefix: prefix, File: p.file, Rule: p.title, Line: it.Line, Col: it.Col, Msg: err.Error()}
}

func (p *parser) selection(k, v *node) (*Selection, error) {
	s := &Selection{Name: k.value, Line: k.line, Col: k.col}
	if strings.ContainsAny(k.value, " ()|") || k.value == "" {
		return nil, p.errAt(k, "selection name %q: names cannot hold blanks, parentheses or |", k.value)
	}
	switch {
	case v.isNull():
		return nil, p.errAt(k, "selection %q is empty", k.value)
	case v.kind == mappingNode:
		items, err := p.items(v)
		if err != nil {
			return nil, err
		}
		s.Alternatives = [][]*Item{items}
	case v.kind == sequenceNode:
		if len(v.items) == 0 {
			return nil, p.errAt(v, "selection %q is an empty list", k.value)
		}
		var kw *Item
		for _, it := range v.items {
			switch {
			case it.kind == mappingNode:
				items, err := p.items(it)
				if err != nil {
					return nil, err
				}
				s.Alternatives = append(s.Alternatives, items)
			case it.kind == scalarNode && !it.isNull():
				if kw == nil {
					kw = &Item{Line: it.line, Col: it.col}
					s.Alternatives = append(s.Alternatives, []*Item{kw})
				}
				kw.Values = append(kw.Values, scalarValue(it))
			default:
				return nil, p.errAt(it, "selection %q: a list holds values or mappings, found %s", k.value, it.describe())
			}
		}
	default:
		s.Alternatives = [][]*Item{{{Values: []Value{scalarValue(v)}, Line: v.line, Col: v.col}}}
	}
	return s, nil
}

// items reads a mapping of `field|modifiers: values`.
func (p *parser) items(n *node) ([]*Item, error) {
	if len(n.keys) == 0 {
		return nil, p.errAt(n, "empty mapping in a selection")
	}
	out := make([]*Item, 0, len(n.keys))
	for i, k := range n.keys {
		parts := strings.Split(k.value, "|")
		it := &Item{Field: parts[0], Line: k.line, Col: k.col}
		for _, m := range parts[1:] {
			if m == "" {
				return nil, p.errAt(k, "%q: empty modifier", k.value)
			}
			it.Modifiers = append(it.Modifiers, m)
		}
		v := n.vals[i]
		switch {
		case v.kind == mappingNode:
			return nil, p.errAt(v, "%q: a field's value is a value or a list of values, found a mapping", k.value)
		case v.kind == sequenceNode:
			if len(v.items) == 0 {
				return nil, p.errAt(v, "%q: empty list of values", k.value)
			}
			for _, x := range v.items {
				if x.kind != scalarNode {
					return nil, p.errAt(x, "%q: a list of values holds plain values, found %s", k.value, x.describe())
				}
				it.Values = append(it.Values, scalarValue(x))
			}
		default:
			it.Values = []Value{scalarValue(v)}
		}
		out = append(out, it)
	}
	return out, nil
}

func scalarValue(n *node) Value {
	v := Value{Text: n.value, Line: n.line, Col: n.col}
	switch n.tag {
	case "!!null":
		v.Kind, v.Text = KindNull, ""
	case "!!int":
		v.Kind = KindInt
	case "!!float":
		v.Kind = KindFloat
	case "!!bool":
		v.Kind = KindBool
	default:
		v.Kind = KindString
	}
	return v
}
