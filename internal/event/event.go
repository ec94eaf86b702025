// Package event holds mamori's one event model: an Elastic Common Schema
// document kept as flat, dotted field names ("source.ip") mapped to values.
//
// Flat keys make parsers and rules simple (one map lookup per field) and are
// turned into nested ECS JSON only when the document is written out.
//
// Values are one of: string, int64, float64, bool, time.Time, []string, or,
// for vendor data that has no flat shape, []any whose elements are scalars or
// map[string]any. Setters normalise other Go integer and float types.
package event

import (
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"crypto/sha256"
)

// Well-known field names used across packages.
const (
	FieldTimestamp = "@timestamp"
	FieldID        = "event.id"
	FieldDataset   = "event.dataset"
	FieldOriginal  = "event.original"
	FieldIngested  = "event.ingested"
	FieldCreated   = "event.created"
	FieldMessage   = "message"
	FieldError     = "error.message"
	FieldKind      = "event.kind"
)

// Event is one ECS document. The zero value is not usable; call New. An
// Event must not be copied by value: its string slabs (box.go) would be
// shared and overwritten.
type Event struct {
	m map[string]any
	// slab holds the string headers SetString's values point to (box.go).
	slab []string
}

// New returns an empty event with room for n fields.
func New(n int) *Event {
	if n < 8 {
		n = 8
	}
	return &Event{m: make(map[string]any, n)}
}

// Set stores v under the dotted field name. A nil v, an empty string or an
// empty slice deletes the field: ECS documents carry no empty values.
func (e *Event) Set(field string, v any) {
	v = normalize(v)
	if v == nil {
		delete(e.m, field)
		return
	}
	e.m[field] = v
}

// SetIfAbsent stores v only when the field has no value yet.
func (e *Event) SetIfAbsent(field string, v any) {
	if _, ok := e.m[field]; ok {
		return
	}
	e.Set(field, v)
}

// Get returns the field's value.
func (e *Event) Get(field string) (any, bool) {
	v, ok := e.m[field]
	return v, ok
}

// Has reports whether the field is set.
func (e *Event) Has(field string) bool {
	_, ok := e.m[field]
	return ok
}

// String returns the field as text: strings as they are, numbers and
// booleans formatted, times in RFC 3339; "" when absent or not scalar.
func (e *Event) String(field string) string {
	v, ok := e.m[field]
	if !ok {
		return ""
	}
	return scalarString(v)
}

// Strings returns the field as a list of texts: a scalar gives one element,
// a list gives each scalar element.
func (e *Event) Strings(field string) []string {
	v, ok := e.m[field]
	if !ok {
		return nil
	}
	switch x := v.(type) {
	case []string:
		return x
	case []any:
		out := make([]string, 0, len(x))
		for _, el := range x {
			if s := scalarString(el); s != "" {
				out = append(out, s)
			}
		}
		return out
	default:
		if s := scalarString(v); s != "" {
			return []string{s}
		}
		return nil
	}
}

// Time returns @timestamp, or the zero time when unset.
func (e *Event) Time() time.Time {
	switch t := e.m[FieldTimestamp].(type) {
	case time.Time:
		return t
	case string:
		if p, err := time.Parse(time.RFC3339Nano, t); err == nil {
			return p
		}
	}
	return time.Time{}
}

// Delete removes a field.
func (e *Event) Delete(field string) { delete(e.m, field) }

// Len is the number of fields set.
func (e *Event) Len() int { return len(e.m) }

// Keys returns the field names in document order (see keyLess).
func (e *Event) Keys() []string {
	keys := make([]string, 0, len(e.m))
	for k := range e.m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keyLess(keys[i], keys[j]) })
	return keys
}

// Range calls fn for every field in unspecified order.
func (e *Event) Range(fn func(field string, v any)) {
	for k, v := range e.m {
		fn(k, v)
	}
}

// Append adds values to a list field, skipping values already present.
func (e *Event) Append(field string, values ...string) {
	cur := e.Strings(field)
	for _, v := range values {
		if v == "" || contains(cur, v) {
			continue
		}
		cur = append(cur, v)
	}
	if len(cur) > 0 {
		e.m[field] = cur
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ID derives a deterministic event id from where the event was read: the
// archive object's key, the record's position in it and, for records that
// yield several events, the event's position in the record. Re-processing
// the same object therefore yields the same ids.
func ID(objectKey string, record int64, sub int) string {
	h := sha256.New()
	h.Write([]byte(objectKey))
	var buf [16]byte
	binary.BigEndian.PutUint64(buf[:8], uint64(record))
	binary.BigEndian.PutUint64(buf[8:], uint64(sub))
	h.Write(buf[:])
	sum := h.Sum(nil)
	return strings.ToLower(idEncoding.EncodeToString(sum[:16]))
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func normalize(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
		return v // v already holds x: boxing it again would allocate
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return v
	case uint:
		return uint64ToValue(uint64(x))
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return uint64ToValue(x)
	case float32:
		return normalizeFloat(float64(x))
	case float64:
		return normalizeFloat(x)
	case bool:
		return v
	case time.Time:
		if x.IsZero() {
			return nil
		}
		if x.Location() == time.UTC {
			return v
		}
		return x.UTC()
	case []string:
		if len(x) == 0 {
			return nil
		}
		return v
	case []any:
		if len(x) == 0 {
			return nil
		}
		return v
	case map[string]any:
		// Objects are flattened by SetObject; a bare map is kept as a
		// one-element list so that the flat model stays consistent.
		if len(x) == 0 {
			return nil
		}
		return []any{x}
	case fmt.Stringer:
		return normalize(x.String())
	default:
		return fmt.Sprint(x)
	}
}

func uint64ToValue(u uint64) any {
	if u > math.MaxInt64 {
		return float64(u)
	}
	return int64(u)
}

func normalizeFloat(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return f
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return fmt.Sprint(x)
	case float64:
		return formatFloat(x)
	case bool:
		if x {
			return "true"
		}
		return "false"
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	default:
		return ""
	}
}

// keyLess orders dotted names segment by segment, so that every field of an
// object sorts together ("a.b" and "a.c" before "a_b").
func keyLess(a, b string) bool {
	n := len(a)
	if len(b) < n {
		n = len(b)
	}
	for i := 0; i < n; i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if ca == '.' {
			return true
		}
		if cb == '.' {
			return false
		}
		return ca < cb
	}
	return len(a) < len(b)
}
