package query

import (
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/store"
)

// Columns of the full table layout (docs/architecture.md) that are not
// promoted columns: Compile uses them, CompileFilter does not.
const (
	docColumn      = "doc"      // every other field, as nested ECS JSON
	messageColumn  = "message"  // message
	originalColumn = "original" // event.original
)

// kind is how a field is stored and therefore compared.
type kind int

const (
	kindDoc      kind = iota // a field of the doc column's nested JSON
	kindText                 // a promoted VARCHAR column
	kindIP                   // a promoted VARCHAR column of canonical IPs
	kindInt                  // a promoted integer column
	kindTime                 // a promoted TIMESTAMP column
	kindTextList             // a promoted VARCHAR[] column
	kindIPList               // a promoted VARCHAR[] column of canonical IPs
)

// target is where a field's values live.
type target struct {
	field  string
	column string // SQL column name, from store.Columns or the constants above; "" for kindDoc
	kind   kind
	ip     bool // values are IP addresses, so CIDRs apply
	// promoted is false for message, event.original and doc fields:
	// CompileFilter cannot see them.
	promoted bool
	// v4 is the column holding an IP column's IPv4 addresses as numbers
	// (store.Column.V4), or "".
	v4 string
}

func (t target) list() bool { return t.kind == kindTextList || t.kind == kindIPList }

// resolve finds a field's column, or its place in the doc column. Only names
// from the fixed store.Columns table and the constants above ever become
// SQL text.
func resolve(field string) target {
	for _, c := range store.Columns {
		if c.Field != field {
			continue
		}
		t := target{field: field, column: c.Name, promoted: true, v4: c.V4}
		switch c.Type {
		case store.IP:
			t.kind, t.ip = kindIP, true
		case store.Int:
			t.kind = kindInt
		case store.Time:
			t.kind = kindTime
		case store.TextList:
			t.kind = kindTextList
		case store.IPList:
			t.kind, t.ip = kindIPList, true
		default:
			t.kind = kindText
		}
		return t
	}
	switch field {
	case event.FieldMessage:
		return target{field: field, column: messageColumn, kind: kindText}
	case event.FieldOriginal:
		return target{field: field, column: originalColumn, kind: kindText}
	}
	return target{field: field, kind: kindDoc, ip: isIPFieldName(field)}
}

// isIPFieldName follows ECS naming (and event.FillRelated): source.ip,
// host.ip, observer.ips, ... hold addresses.
func isIPFieldName(field string) bool {
	last := field[strings.LastIndexByte(field, '.')+1:]
	return last == "ip" || last == "ips"
}

// checkField reports why a field name cannot be queried, or "".
func checkField(field string) string {
	if field == "" {
		return "a field name"
	}
	if field == existsField {
		return "a field name other than " + existsField
	}
	for seg := range strings.SplitSeq(field, ".") {
		// DuckDB reads a quoted "*" path segment as a wildcard.
		if seg == "" || seg == "*" {
			return "a field name made of non-empty dot-separated parts"
		}
	}
	return ""
}

// jsonPath builds the DuckDB JSON path of a field in the nested doc, every
// segment quoted: source.nat.ip -> $."source"."nat"."ip". It is passed as a
// query argument, never spliced into SQL.
func jsonPath(field string) string {
	var b strings.Builder
	b.Grow(len(field) + 8)
	b.WriteByte('$')
	for seg := range strings.SplitSeq(field, ".") {
		b.WriteString(`."`)
		for i := 0; i < len(seg); i++ {
			if seg[i] == '"' || seg[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(seg[i])
		}
		b.WriteByte('"')
	}
	return b.String()
}
