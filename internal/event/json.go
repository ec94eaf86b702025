package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MarshalJSON writes the event as a nested ECS document with keys in a
// stable order, so that the same event always gives the same bytes.
func (e *Event) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(64 * e.live)
	if err := e.AppendJSON(&buf, nil); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// AppendJSON writes the nested document to buf, leaving out the fields for
// which skip returns true (skip may be nil).
func (e *Event) AppendJSON(buf *bytes.Buffer, skip func(field string) bool) error {
	keys := e.Keys()
	// A field that is both a value and a parent ("a" and "a.b") cannot nest:
	// its children are written under dotted names beside it.
	leaf := make(map[string]bool, len(keys))
	for _, k := range keys {
		leaf[k] = true
	}
	var open []string // path of the objects currently open
	buf.WriteByte('{')
	first := []bool{true}
	for _, k := range keys {
		if skip != nil && skip(k) {
			continue
		}
		segs := splitKey(k, leaf)
		parents := segs[:len(segs)-1]
		common := 0
		for common < len(open) && common < len(parents) && open[common] == parents[common] {
			common++
		}
		for len(open) > common {
			buf.WriteByte('}')
			open = open[:len(open)-1]
			first = first[:len(first)-1]
		}
		for _, p := range parents[common:] {
			writeSep(buf, first)
			writeString(buf, p)
			buf.WriteString(":{")
			open = append(open, p)
			first = append(first, true)
		}
		writeSep(buf, first)
		writeString(buf, segs[len(segs)-1])
		buf.WriteByte(':')
		v, _ := e.Get(k)
		if err := writeValue(buf, v); err != nil {
			return fmt.Errorf("field %s: %w", k, err)
		}
	}
	for range open {
		buf.WriteByte('}')
	}
	buf.WriteByte('}')
	return nil
}

func writeSep(buf *bytes.Buffer, first []bool) {
	if first[len(first)-1] {
		first[len(first)-1] = false
		return
	}
	buf.WriteByte(',')
}

// splitKey splits a dotted name into object path segments, keeping the tail
// dotted below a prefix that is itself a value.
func splitKey(k string, leaf map[string]bool) []string {
	segs := strings.Split(k, ".")
	for i := 1; i < len(segs); i++ {
		if leaf[strings.Join(segs[:i], ".")] {
			return append(segs[:i-1:i-1], strings.Join(segs[i-1:], "."))
		}
	}
	return segs
}

func writeValue(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case string:
		writeString(buf, x)
	case int64:
		buf.WriteString(strconv.FormatInt(x, 10))
	case float64:
		buf.WriteString(formatFloat(x))
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case time.Time:
		writeString(buf, x.UTC().Format(time.RFC3339Nano))
	case []string:
		buf.WriteByte('[')
		for i, s := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, s)
		}
		buf.WriteByte(']')
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	return nil
}

func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

const hexDigits = "0123456789abcdef"

// writeString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does, so any raw log line can be stored.
func writeString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf.WriteString(s[start:i])
			switch c {
			case '"':
				buf.WriteString(`\"`)
			case '\\':
				buf.WriteString(`\\`)
			case '\n':
				buf.WriteString(`\n`)
			case '\r':
				buf.WriteString(`\r`)
			case '\t':
				buf.WriteString(`\t`)
			default:
				buf.WriteString(`\u00`)
				buf.WriteByte(hexDigits[c>>4])
				buf.WriteByte(hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf.WriteString(s[start:i])
			buf.WriteString(`\ufffd`)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 break JavaScript consumers of the JSON.
		if r == '\u2028' || r == '\u2029' {
			buf.WriteString(s[start:i])
			buf.WriteString(`\u202`)
			buf.WriteByte(hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf.WriteString(s[start:])
	buf.WriteByte('"')
}

// UnmarshalJSON reads a nested (or partly dotted) JSON object into flat
// fields. Numbers become int64 when integral, otherwise float64; arrays of
// scalars become []string when all elements are strings, else []any.
func (e *Event) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return fmt.Errorf("decode event: %w", err)
	}
	e.reserve(len(obj) * 2)
	e.SetObject("", obj)
	if v, _ := e.Get(FieldTimestamp); v != nil {
		if ts, ok := v.(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
				e.put(FieldTimestamp, t.UTC())
			}
		}
	}
	return nil
}

// SetObject flattens a decoded JSON object into fields under prefix
// ("" for the root). Empty objects, empty strings and nulls are dropped.
func (e *Event) SetObject(prefix string, obj map[string]any) {
	for k, v := range obj {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		switch x := v.(type) {
		case map[string]any:
			e.SetObject(name, x)
		case []any:
			e.Set(name, FromJSONArray(x))
		default:
			e.Set(name, FromJSONScalar(x))
		}
	}
}

// FromJSONScalar converts a decoded JSON scalar to an event value.
func FromJSONScalar(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
		return x
	default:
		return v
	}
}

// FromJSONArray converts a decoded JSON array to an event value: []string
// when every element is a string, otherwise []any with numbers converted.
func FromJSONArray(a []any) any {
	allStrings := true
	for _, el := range a {
		if _, ok := el.(string); !ok {
			allStrings = false
			break
		}
	}
	if allStrings {
		out := make([]string, len(a))
		for i, el := range a {
			out[i] = el.(string)
		}
		return out
	}
	out := make([]any, len(a))
	for i, el := range a {
		out[i] = convertNested(el)
	}
	return out
}

func convertNested(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, el := range x {
			m[k] = convertNested(el)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			out[i] = convertNested(el)
		}
		return out
	default:
		return FromJSONScalar(v)
	}
}
