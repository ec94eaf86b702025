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

// Event is one ECS document. The zero value is an empty event; New sizes
// one for the fields it will get. An Event must not be copied by value:
// its field table and string slabs (box.go) would be shared and
// overwritten.
type Event struct {
	// fields holds the fields in the order they were first set (table.go).
	// A deleted field keeps its slot with a nil value, so that the index
	// stays valid and setting it again reuses the slot.
	fields []field
	// index is an open-addressing hash table over the first maxIndexed
	// fields (table.go): position+1, 0 for an empty slot. Its length is a
	// power of two, at least twice the fields it holds.
	index []uint16
	// more finds the fields after the first maxIndexed, when there are.
	more map[string]int32
	// live is the number of fields with a value.
	live int
	// slab, ints, times and lists hold the values SetString, SetInt,
	// SetTime and SetStrings box in place; arena holds the lists'
	// elements (box.go).
	slab  []string
	ints  []int64
	times []time.Time
	lists [][]string
	arena []string
}

// New returns an empty event with room for n fields, and some more: a
// hint need not be exact (a map made with it had room to spare), and
// outgrowing it copies every field.
func New(n int) *Event {
	e := &Event{}
	e.reserve(n + n/8 + 8)
	return e
}

// Set stores v under the dotted field name. A nil v, an empty string or an
// empty slice deletes the field: ECS documents carry no empty values.
func (e *Event) Set(field string, v any) {
	v = normalize(v)
	if v == nil {
		e.Delete(field)
		return
	}
	e.put(field, v)
}

// SetIfAbsent stores v only when the field has no value yet.
func (e *Event) SetIfAbsent(field string, v any) {
	if e.Has(field) {
		return
	}
	e.Set(field, v)
}

// Get returns the field's value.
func (e *Event) Get(field string) (any, bool) {
	if p := e.lookup(field); p >= 0 {
		if v := e.fields[p].v; v != nil {
			return v, true
		}
	}
	return nil, false
}

// Has reports whether the field is set.
func (e *Event) Has(field string) bool {
	p := e.lookup(field)
	return p >= 0 && e.fields[p].v != nil
}

// String returns the field as text: strings as they are, numbers and
// booleans formatted, times in RFC 3339; "" when absent or not scalar.
func (e *Event) String(field string) string {
	v, ok := e.Get(field)
	if !ok {
		return ""
	}
	return scalarString(v)
}

// Strings returns the field as a list of texts: a scalar gives one element,
// a list gives each scalar element.
func (e *Event) Strings(field string) []string {
	v, ok := e.Get(field)
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
	v, _ := e.Get(FieldTimestamp)
	switch t := v.(type) {
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
func (e *Event) Delete(field string) {
	if p := e.lookup(field); p >= 0 && e.fields[p].v != nil {
		e.fields[p].v = nil
		e.live--
	}
}

// Len is the number of fields set.
func (e *Event) Len() int { return e.live }

// Keys returns the field names in document order (see keyLess).
func (e *Event) Keys() []string {
	keys := make([]string, 0, e.live)
	for i := range e.fields {
		if e.fields[i].v != nil {
			keys = append(keys, e.fields[i].name)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keyLess(keys[i], keys[j]) })
	return keys
}

// Range calls fn for every field in unspecified order. fn may set and
// delete fields; a field it adds may or may not be visited.
func (e *Event) Range(fn func(field string, v any)) {
	for i := 0; i < len(e.fields); i++ {
		if f := e.fields[i]; f.v != nil {
			fn(f.name, f.v)
		}
	}
}

// Append adds values to a list field, skipping values already present.
func (e *Event) Append(field string, values ...string) {
	cur := e.Strings(field)
	n := len(cur)
	for _, v := range values {
		if v == "" || contains(cur, v) {
			continue
		}
		if len(cur) == n {
			// The first new value: copy the list once, with room for
			// the rest, rather than append into a stored list's
			// spare capacity (another holder may own it).
			grown := make([]string, n, n+len(values))
			copy(grown, cur)
			cur = grown
		}
		cur = append(cur, v)
	}
	if len(cur) > 0 {
		e.put(field, cur)
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
//
// The id is the first 16 bytes of SHA-256(key, record, sub) in lower-case
// base32 without padding (26 characters). It runs for every event, so the
// hash input is built on the stack for usual keys and the text is encoded
// lower-case directly: one allocation, the id itself.
func ID(objectKey string, record int64, sub int) string {
	var in [256]byte
	var sum [sha256.Size]byte
	if len(objectKey)+16 <= len(in) {
		b := append(in[:0], objectKey...)
		b = binary.BigEndian.AppendUint64(b, uint64(record))
		b = binary.BigEndian.AppendUint64(b, uint64(sub))
		sum = sha256.Sum256(b)
	} else {
		h := sha256.New()
		h.Write([]byte(objectKey))
		var buf [16]byte
		binary.BigEndian.PutUint64(buf[:8], uint64(record))
		binary.BigEndian.PutUint64(buf[8:], uint64(sub))
		h.Write(buf[:])
		h.Sum(sum[:0])
	}
	var id [26]byte // base32 of 16 bytes without padding
	idEncoding.Encode(id[:], sum[:16])
	return string(id[:])
}

// idEncoding is base32 (RFC 4648) with a lower-case alphabet.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

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
