package sigma

import (
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// FieldMapper says where a rule's Sigma field names live in mamori's
// events.
type FieldMapper interface {
	// Fields returns the ECS fields that may hold the Sigma field; a value
	// in any of them matches. It never returns an empty list.
	Fields(sigmaField string) []string
	// Value translates a value of the Sigma field, as the source writes
	// it, into the form mamori's events hold (a service name
	// "admin.googleapis.com" that the dataset calls "admin"); it returns v
	// when the table has no translation.
	Value(sigmaField, v string) string
}

// sameNames is the FieldMapper used without a table: every field is
// looked up under the name the rule uses.
type sameNames struct{}

func (sameNames) Fields(f string) []string { return []string{f} }
func (sameNames) Value(_, v string) string { return v }

// fieldRef reads one ECS field of an event. A name that is not a field of
// its own may reach into a list of objects ("dns.answers.data" into
// dns.answers' elements), as Elasticsearch indexes arrays of objects.
type fieldRef struct {
	name   string
	splits []fieldSplit
}

// fieldSplit is one way to read the name as a list field and a path inside
// its elements.
type fieldSplit struct {
	prefix string
	rest   []string
}

func newFieldRef(name string) fieldRef {
	f := fieldRef{name: name}
	segs := strings.Split(name, ".")
	// Longest list field first; a list field has at least two segments
	// (ECS object arrays live under a namespace), which also bounds the
	// lookups an absent field costs.
	for i := len(segs) - 1; i >= 2; i-- {
		f.splits = append(f.splits, fieldSplit{prefix: strings.Join(segs[:i], "."), rest: segs[i:]})
	}
	return f
}

// get returns the field's value: the event's own, or the list of values
// found inside a list of objects.
func (f *fieldRef) get(e *event.Event) (any, bool) {
	if v, ok := e.Get(f.name); ok {
		return v, true
	}
	for _, sp := range f.splits {
		v, ok := e.Get(sp.prefix)
		if !ok {
			continue
		}
		list, ok := v.([]any)
		if !ok {
			continue
		}
		var leaves []any
		for _, el := range list {
			leaves = collectPath(el, sp.rest, leaves)
		}
		if len(leaves) > 0 {
			return leaves, true
		}
	}
	return nil, false
}

// collectPath appends the scalars found at path inside v, descending
// through objects (whose keys may themselves hold dots) and lists.
func collectPath(v any, path []string, out []any) []any {
	if len(path) == 0 {
		switch x := v.(type) {
		case []any:
			for _, el := range x {
				out = collectPath(el, nil, out)
			}
		case []string:
			for _, s := range x {
				out = append(out, s)
			}
		case nil:
		default:
			out = append(out, v)
		}
		return out
	}
	switch x := v.(type) {
	case []any:
		for _, el := range x {
			out = collectPath(el, path, out)
		}
	case map[string]any:
		key := path[0]
		for i := 1; ; i++ {
			if child, ok := x[key]; ok {
				out = collectPath(child, path[i:], out)
			}
			if i >= len(path) {
				break
			}
			key += "." + path[i]
		}
	}
	return out
}
