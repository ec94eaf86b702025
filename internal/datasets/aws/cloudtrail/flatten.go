package cloudtrail

import "github.com/mamori-sec/mamori/internal/event"

// flatten stores every leaf of the JSON object raw under prefix with
// dotted names, the way Elasticsearch's flattened type indexes an object:
// a leaf reached through arrays becomes a list of every value at that
// path, so that {"items":[{"id":"a"},{"id":"b"}]} is prefix.items.id =
// [a b] and each value is queryable by field. raw has been validated by
// the record's scan.
func flatten(ev *event.Event, prefix, raw string) {
	f := flattener{ev: ev, sc: scanner{s: raw}}
	f.value(prefix, false)
	for field, vals := range f.lists {
		ev.Set(field, listValue(vals))
	}
}

type flattener struct {
	ev    *event.Event
	sc    scanner
	lists map[string][]any
}

func (f *flattener) value(path string, inList bool) {
	switch f.sc.peek() {
	case '{':
		f.sc.object(func(k string) { f.value(path+"."+k, inList) })
	case '[':
		f.sc.array(func() { f.value(path, true) })
	default:
		v := f.sc.scalar()
		if v == nil || v == "" {
			return
		}
		if !inList {
			f.ev.Set(path, v)
			return
		}
		if f.lists == nil {
			f.lists = map[string][]any{}
		}
		f.lists[path] = append(f.lists[path], v)
	}
}

// listValue is []string when every value is text, else []any of scalars.
func listValue(vals []any) any {
	strs := make([]string, 0, len(vals))
	for _, v := range vals {
		s, ok := v.(string)
		if !ok {
			return vals
		}
		strs = append(strs, s)
	}
	return strs
}
