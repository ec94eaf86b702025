// Package fieldmap holds the tables that bind Sigma rules to mamori's data:
// which datasets a rule's logsource (product, service, category) means, and
// which ECS fields hold the Sigma field names the rule uses.
//
// The tables ship embedded (tables/*.yaml, one file per family of
// sources) and a user may load files of the same format over them: a
// logsource listed again takes the later file's datasets, and a table of
// the same name takes the later file's field entries over its own.
package fieldmap

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/mamori-sec/mamori/internal/parse/jsontree"
)

//go:embed tables/*.yaml
var builtinTables embed.FS

// Map is a set of tables. It is immutable once built and safe for
// concurrent use.
type Map struct {
	entries []*entry // in load order; later entries win
	tables  map[string]*table
}

// entry is one logsource line of a table file.
type entry struct {
	product, service, category string // lower case; "" for absent
	targets                    []Target
	inactive                   string
	table                      string
	file                       string
	line                       int
}

// Target is a dataset a logsource's rules run on, with the conditions an
// event of it must meet as well (a service such as sshd is one program's
// lines within linux.syslog).
type Target struct {
	Dataset string
	Where   []Cond
}

// Cond is an equality an event must meet: the field holds one of Values
// (compared ignoring case).
type Cond struct {
	Field  string
	Values []string
}

// table is one family's Sigma → ECS field table.
type table struct {
	name        string
	description string
	exact       map[string]*fieldDef // lower-cased Sigma name
	prefixes    []prefixDef          // longest first
	fallback    []string             // templates for unmapped names
	file        string
}

type fieldDef struct {
	targets []string
	values  map[string]string // lower-cased source value → mamori's value
}

type prefixDef struct {
	prefix  string // lower case, ending in "."
	targets []string
}

// Builtin returns the shipped tables.
func Builtin() (*Map, error) {
	m := &Map{tables: map[string]*table{}}
	names, err := fs.Glob(builtinTables, "tables/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("fieldmap: %w", err)
	}
	sort.Strings(names)
	for _, n := range names {
		data, err := builtinTables.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("fieldmap: %w", err)
		}
		if err := m.add("builtin:"+path.Base(n), data, false); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Load returns the shipped tables with the given files laid over them, in
// order.
func Load(files ...string) (*Map, error) {
	m, err := Builtin()
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("fieldmap: %w", err)
		}
		if err := m.add(f, data, true); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Overlay returns a copy of m with one more file's tables laid over it
// (name names it in errors).
func (m *Map) Overlay(name string, data []byte) (*Map, error) {
	out := &Map{entries: append([]*entry(nil), m.entries...), tables: make(map[string]*table, len(m.tables))}
	for k, t := range m.tables {
		out.tables[k] = t.clone()
	}
	if err := out.add(name, data, true); err != nil {
		return nil, err
	}
	return out, nil
}

// add reads a table file into the map. With overlay, a table that exists
// takes the file's entries over its own; without, defining a table or a
// logsource twice is an error (the shipped files must not conflict).
func (m *Map) add(name string, data []byte, overlay bool) error {
	f, err := parseFile(name, data)
	if err != nil {
		return err
	}
	if old, ok := m.tables[f.table.name]; ok {
		if !overlay {
			return &Error{File: name, Line: 1, Msg: fmt.Sprintf("table %q is defined twice (also in %s)", f.table.name, old.file)}
		}
		old.overlay(f.table)
	} else {
		m.tables[f.table.name] = f.table
	}
	for _, e := range f.entries {
		if !overlay {
			for _, o := range m.entries {
				if o.product == e.product && o.service == e.service && o.category == e.category {
					return &Error{File: name, Line: e.line, Msg: fmt.Sprintf("logsource %s is listed twice (also in %s:%d)", e.describe(), o.file, o.line)}
				}
			}
		}
		m.entries = append(m.entries, e)
	}
	return nil
}

func (t *table) clone() *table {
	c := *t
	c.exact = make(map[string]*fieldDef, len(t.exact))
	for k, v := range t.exact {
		c.exact[k] = v
	}
	c.prefixes = append([]prefixDef(nil), t.prefixes...)
	c.fallback = append([]string(nil), t.fallback...)
	return &c
}

// overlay lays another definition of the table over t.
func (t *table) overlay(o *table) {
	for k, v := range o.exact {
		t.exact[k] = v
	}
	for _, p := range o.prefixes {
		replaced := false
		for i := range t.prefixes {
			if t.prefixes[i].prefix == p.prefix {
				t.prefixes[i], replaced = p, true
			}
		}
		if !replaced {
			t.prefixes = append(t.prefixes, p)
		}
	}
	sortPrefixes(t.prefixes)
	if o.fallback != nil {
		t.fallback = o.fallback
	}
	if o.description != "" {
		t.description = o.description
	}
	t.file = o.file
}

func sortPrefixes(p []prefixDef) {
	sort.SliceStable(p, func(i, j int) bool { return len(p[i].prefix) > len(p[j].prefix) })
}

func (e *entry) describe() string {
	var parts []string
	if e.product != "" {
		parts = append(parts, "product="+e.product)
	}
	if e.service != "" {
		parts = append(parts, "service="+e.service)
	}
	if e.category != "" {
		parts = append(parts, "category="+e.category)
	}
	return strings.Join(parts, " ")
}

// Source is what a Sigma logsource resolves to.
type Source struct {
	// Targets are the datasets the rule runs on; none when Inactive.
	Targets []Target
	// Inactive says why the rule runs on nothing: its logsource names logs
	// mamori does not read.
	Inactive string
	// Table names the field table ("" when the logsource is unknown and
	// fields are looked up as written).
	Table string
	// Fields maps the rule's field names.
	Fields *Mapper
}

// Active reports whether the logsource has datasets to run on.
func (s Source) Active() bool { return len(s.Targets) > 0 }

// Lookup resolves a logsource. Product, service and category must equal
// an entry's (compared ignoring case; absent matches absent). An unknown
// logsource is inactive, with field names as written.
func (m *Map) Lookup(product, service, category string) Source {
	p, s, c := strings.ToLower(product), strings.ToLower(service), strings.ToLower(category)
	for i := len(m.entries) - 1; i >= 0; i-- {
		e := m.entries[i]
		if e.product != p || e.service != s || e.category != c {
			continue
		}
		t := m.tables[e.table]
		src := Source{Targets: e.targets, Inactive: e.inactive, Table: e.table}
		var datasets []string
		for _, tg := range e.targets {
			datasets = append(datasets, tg.Dataset)
		}
		src.Fields = &Mapper{table: t, datasets: datasets}
		return src
	}
	return Source{
		Inactive: "mamori has no dataset for this logsource",
		Fields:   &Mapper{},
	}
}

// Tables lists the tables' names.
func (m *Map) Tables() []string {
	out := make([]string, 0, len(m.tables))
	for k := range m.tables {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Mapper maps one logsource's Sigma field names; it implements
// sigma.FieldMapper.
type Mapper struct {
	table    *table // nil: names as written
	datasets []string
}

// Fields returns the ECS fields that may hold a Sigma field: the table's
// entry for the name (matched ignoring case), else its longest matching
// prefix entry ("requestParameters.*"), else the table's fallback
// templates followed by the name itself.
func (m *Mapper) Fields(name string) []string {
	if m == nil || m.table == nil {
		return []string{name}
	}
	if d, ok := m.table.exact[strings.ToLower(name)]; ok {
		return m.expand(d.targets, name, "")
	}
	if p, ok := m.table.prefix(name); ok {
		return m.expand(p.targets, name, name[len(p.prefix):])
	}
	out := m.expand(m.table.fallback, name, "")
	return appendNew(out, name)
}

// Mapped reports whether the table has an entry (or prefix entry) for the
// name; an unmapped name is looked up through the fallbacks and as written.
func (m *Mapper) Mapped(name string) bool {
	if m == nil || m.table == nil {
		return false
	}
	if _, ok := m.table.exact[strings.ToLower(name)]; ok {
		return true
	}
	_, ok := m.table.prefix(name)
	return ok
}

// prefix finds the longest prefix entry the name starts with (ignoring
// case) and has more after.
func (t *table) prefix(name string) (prefixDef, bool) {
	for _, p := range t.prefixes {
		if len(name) > len(p.prefix) && strings.EqualFold(name[:len(p.prefix)], p.prefix) {
			return p, true
		}
	}
	return prefixDef{}, false
}

// Value translates a value the table knows ("admin.googleapis.com" →
// "admin"); other values are returned as they are.
func (m *Mapper) Value(name, v string) string {
	if m == nil || m.table == nil {
		return v
	}
	d, ok := m.table.exact[strings.ToLower(name)]
	if !ok || d.values == nil {
		return v
	}
	if t, ok := d.values[strings.ToLower(v)]; ok {
		return t
	}
	return v
}

// expand fills templates: {dataset} (each of the logsource's datasets),
// {name} (the Sigma name as written), {snake} (the name, or for prefix
// entries the rest after the prefix, snake-cased segment by segment) and
// "*" (the rest after the prefix, as written).
func (m *Mapper) expand(templates []string, name, rest string) []string {
	var out []string
	snakeOf := name
	if rest != "" {
		snakeOf = rest
	}
	for _, t := range templates {
		t = strings.ReplaceAll(t, "{name}", name)
		if strings.Contains(t, "{snake}") {
			t = strings.ReplaceAll(t, "{snake}", snake(snakeOf))
		}
		if rest != "" {
			t = strings.ReplaceAll(t, "*", rest)
		}
		if strings.Contains(t, "{dataset}") {
			for _, d := range m.datasets {
				out = appendNew(out, strings.ReplaceAll(t, "{dataset}", d))
			}
			continue
		}
		out = appendNew(out, t)
	}
	if len(out) == 0 {
		out = []string{name}
	}
	return out
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// snake snake-cases each dotted segment ("DeviceDetail.isCompliant" →
// "device_detail.is_compliant"), as the JSON datasets name vendor fields.
func snake(name string) string {
	segs := strings.Split(name, ".")
	for i, s := range segs {
		segs[i] = jsontree.SnakeCase(s)
	}
	return strings.Join(segs, ".")
}
