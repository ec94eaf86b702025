package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// jsonFormat reads one JSON object per record. Source keys are dotted
// paths into it: "user.name" is {"user":{"name":...}} or a key written
// "user.name"; "answers.0.data" indexes an array.
type jsonFormat struct {
	// paths[slot] are the path's segments; nil for slots that are not
	// read from the object (a syslog header's parts).
	paths [][]string
	// mapped holds the paths the fields read: copying unmapped keys skips
	// them (and everything under them).
	mapped map[string]bool
}

var errNotObject = errors.New("the record is not a JSON object")

func (j *jsonFormat) decode(r *record, body string) error {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("json: %w", err)
	}
	if rest := strings.TrimSpace(body[dec.InputOffset():]); rest != "" {
		return fmt.Errorf("json: %d bytes after the object", len(rest))
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return errNotObject
	}
	for slot, path := range j.paths {
		if path == nil {
			continue
		}
		if x, found := lookup(obj, path); found {
			r.vals[slot] = jsonValue(x)
		}
	}
	if r.p.copyTo != "" {
		j.copyUnmapped(r, "", obj)
	}
	return nil
}

func jsonValue(x any) value {
	switch v := x.(type) {
	case nil:
		return value{}
	case string:
		return textValue(v)
	}
	return value{j: x, ok: true}
}

// lookup walks a path. At each object it takes the next segment as a key,
// or else the next segments joined with dots (a key such as "user.name"
// written as one); at each array the segment is an index.
func lookup(v any, segs []string) (any, bool) {
	for len(segs) > 0 {
		switch x := v.(type) {
		case map[string]any:
			found := false
			key := segs[0]
			for n := 1; n <= len(segs); n++ {
				if n > 1 {
					key += "." + segs[n-1]
				}
				if c, ok := x[key]; ok {
					v, segs, found = c, segs[n:], true
					break
				}
			}
			if !found {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(segs[0])
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v, segs = x[i], segs[1:]
		default:
			return nil, false
		}
	}
	return v, true
}

// copyUnmapped keeps every value the fields do not read under the copy
// namespace, objects flattened to dotted names, arrays as lists.
func (j *jsonFormat) copyUnmapped(r *record, prefix string, obj map[string]any) {
	for k, v := range obj {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		if j.mapped[path] {
			continue
		}
		switch x := v.(type) {
		case map[string]any:
			j.copyUnmapped(r, path, x)
		case []any:
			r.ev.Set(r.p.copyTo+fieldKey(path), event.FromJSONArray(x))
		default:
			r.ev.Set(r.p.copyTo+fieldKey(path), event.FromJSONScalar(x))
		}
	}
}
