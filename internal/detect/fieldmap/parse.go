package fieldmap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is a problem in a table file.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("fieldmap: %s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("fieldmap: %s: %s", e.File, e.Msg)
}

// file is one parsed table file.
type file struct {
	table   *table
	entries []*entry
}

type reader struct {
	name   string
	visits int // nodes visited resolving aliases, bounded against alias bombs
}

// maxVisits bounds the nodes a file may hold once aliases are expanded.
const maxVisits = 100_000

func (r *reader) errf(n *yaml.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: r.name, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// parseFile reads a table file:
//
//	table: aws_cloudtrail
//	description: ...
//	logsources:
//	  - {product: aws, service: cloudtrail, datasets: [aws.cloudtrail]}
//	  - {product: linux, service: sshd, datasets: [{name: linux.syslog, where: {process.name: [sshd]}}]}
//	  - {product: linux, category: process_creation, inactive: why}
//	fields:
//	  eventName: event.action
//	  errorCode: [error.code, aws.cloudtrail.error_code]
//	  eventService: {fields: event.provider, values: {admin.googleapis.com: admin}}
//	  requestParameters.*: aws.cloudtrail.flattened.request_parameters.*
//	fallback: ["{dataset}.{snake}"]
func parseFile(name string, data []byte) (*file, error) {
	r := &reader{name: name}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Msg: "empty file"}
		}
		return nil, &Error{File: name, Msg: "YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &Error{File: name, Msg: "one table a file: found a second YAML document"}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if err := r.resolveAliases(root, 0); err != nil {
		return nil, err
	}
	if root.Kind != yaml.MappingNode {
		return nil, r.errf(root, "a table file is a mapping (table, description, logsources, fields, fallback)")
	}
	f := &file{table: &table{exact: map[string]*fieldDef{}, file: name}}
	var ls *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "table":
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				return nil, r.errf(v, "table: want a name")
			}
			f.table.name = v.Value
		case "description":
			if v.Kind != yaml.ScalarNode {
				return nil, r.errf(v, "description: want text")
			}
			f.table.description = v.Value
		case "logsources":
			ls = v
		case "fields":
			if err := r.fields(f.table, v); err != nil {
				return nil, err
			}
		case "fallback":
			list, err := r.texts(v, "fallback")
			if err != nil {
				return nil, err
			}
			f.table.fallback = list
		default:
			return nil, r.errf(k, "unknown key %q (want table, description, logsources, fields, fallback)", k.Value)
		}
	}
	if f.table.name == "" {
		return nil, r.errf(root, "the file names no table")
	}
	if ls != nil {
		entries, err := r.logsources(ls, f.table.name)
		if err != nil {
			return nil, err
		}
		f.entries = entries
	}
	sortPrefixes(f.table.prefixes)
	return f, nil
}

func (r *reader) texts(n *yaml.Node, what string) ([]string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Value == "" {
			return nil, r.errf(n, "%s: empty", what)
		}
		return []string{n.Value}, nil
	case yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		for _, it := range n.Content {
			if it.Kind != yaml.ScalarNode || it.Value == "" {
				return nil, r.errf(it, "%s: want text", what)
			}
			out = append(out, it.Value)
		}
		if len(out) == 0 {
			return nil, r.errf(n, "%s: empty list", what)
		}
		return out, nil
	}
	return nil, r.errf(n, "%s: want text or a list of texts", what)
}

func (r *reader) fields(t *table, n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return r.errf(n, "fields: want Sigma name: ECS field(s)")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			return r.errf(k, "fields: want a Sigma field name as key")
		}
		def := &fieldDef{}
		switch v.Kind {
		case yaml.MappingNode:
			for j := 0; j+1 < len(v.Content); j += 2 {
				vk, vv := v.Content[j], v.Content[j+1]
				switch vk.Value {
				case "fields":
					list, err := r.texts(vv, k.Value+": fields")
					if err != nil {
						return err
					}
					def.targets = list
				case "values":
					if vv.Kind != yaml.MappingNode {
						return r.errf(vv, "%s: values: want source value: mamori value", k.Value)
					}
					def.values = map[string]string{}
					for x := 0; x+1 < len(vv.Content); x += 2 {
						from, to := vv.Content[x], vv.Content[x+1]
						if from.Kind != yaml.ScalarNode || to.Kind != yaml.ScalarNode {
							return r.errf(from, "%s: values: want text: text", k.Value)
						}
						def.values[strings.ToLower(from.Value)] = to.Value
					}
				default:
					return r.errf(vk, "%s: unknown key %q (want fields, values)", k.Value, vk.Value)
				}
			}
			if len(def.targets) == 0 {
				return r.errf(v, "%s: names no fields", k.Value)
			}
		default:
			list, err := r.texts(v, k.Value)
			if err != nil {
				return err
			}
			def.targets = list
		}
		lower := strings.ToLower(k.Value)
		if strings.HasSuffix(lower, ".*") {
			if def.values != nil {
				return r.errf(k, "%s: a prefix entry cannot translate values", k.Value)
			}
			p := strings.TrimSuffix(lower, "*")
			for _, q := range t.prefixes {
				if q.prefix == p {
					return r.errf(k, "%s is listed twice", k.Value)
				}
			}
			t.prefixes = append(t.prefixes, prefixDef{prefix: p, targets: def.targets})
			continue
		}
		if strings.Contains(lower, "*") {
			return r.errf(k, "%s: only a trailing .* may be a pattern", k.Value)
		}
		if _, dup := t.exact[lower]; dup {
			return r.errf(k, "%s is listed twice (names are compared ignoring case)", k.Value)
		}
		t.exact[lower] = def
	}
	return nil
}

func (r *reader) logsources(n *yaml.Node, tableName string) ([]*entry, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, r.errf(n, "logsources: want a list")
	}
	var out []*entry
	for _, it := range n.Content {
		if it.Kind != yaml.MappingNode {
			return nil, r.errf(it, "logsources: want {product, service, category, datasets | inactive}")
		}
		e := &entry{table: tableName, file: r.name, line: it.Line}
		var hasDatasets bool
		for i := 0; i+1 < len(it.Content); i += 2 {
			k, v := it.Content[i], it.Content[i+1]
			switch k.Value {
			case "product", "service", "category", "inactive":
				if v.Kind != yaml.ScalarNode {
					return nil, r.errf(v, "%s: want text", k.Value)
				}
				switch k.Value {
				case "product":
					e.product = strings.ToLower(v.Value)
				case "service":
					e.service = strings.ToLower(v.Value)
				case "category":
					e.category = strings.ToLower(v.Value)
				case "inactive":
					e.inactive = v.Value
				}
			case "datasets":
				hasDatasets = true
				targets, err := r.targets(v)
				if err != nil {
					return nil, err
				}
				e.targets = targets
			default:
				return nil, r.errf(k, "logsources: unknown key %q (want product, service, category, datasets, inactive)", k.Value)
			}
		}
		switch {
		case e.product == "" && e.service == "" && e.category == "":
			return nil, r.errf(it, "a logsource needs a product, service or category")
		case hasDatasets == (e.inactive != ""):
			return nil, r.errf(it, "a logsource has either datasets or inactive: a reason")
		}
		out = append(out, e)
	}
	return out, nil
}

func (r *reader) targets(n *yaml.Node) ([]Target, error) {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return nil, r.errf(n, "datasets: want a list of dataset names or {name, where}")
	}
	var out []Target
	for _, it := range n.Content {
		switch it.Kind {
		case yaml.ScalarNode:
			if it.Value == "" || strings.ContainsAny(it.Value, " \t") {
				return nil, r.errf(it, "datasets: %q is not a dataset name", it.Value)
			}
			out = append(out, Target{Dataset: it.Value})
		case yaml.MappingNode:
			t := Target{}
			for i := 0; i+1 < len(it.Content); i += 2 {
				k, v := it.Content[i], it.Content[i+1]
				switch k.Value {
				case "name":
					t.Dataset = v.Value
				case "where":
					if v.Kind != yaml.MappingNode {
						return nil, r.errf(v, "where: want field: value(s)")
					}
					for j := 0; j+1 < len(v.Content); j += 2 {
						vals, err := r.texts(v.Content[j+1], "where "+v.Content[j].Value)
						if err != nil {
							return nil, err
						}
						t.Where = append(t.Where, Cond{Field: v.Content[j].Value, Values: vals})
					}
					sort.SliceStable(t.Where, func(a, b int) bool { return t.Where[a].Field < t.Where[b].Field })
				default:
					return nil, r.errf(k, "datasets: unknown key %q (want name, where)", k.Value)
				}
			}
			if t.Dataset == "" {
				return nil, r.errf(it, "datasets: an entry has no name")
			}
			out = append(out, t)
		default:
			return nil, r.errf(it, "datasets: want a dataset name or {name, where}")
		}
	}
	return out, nil
}

// resolveAliases replaces alias nodes by what they name, so that the
// readers see plain values (a table may share a values list through an
// anchor).
func (r *reader) resolveAliases(n *yaml.Node, depth int) error {
	if depth > 32 {
		return r.errf(n, "nested too deeply")
	}
	r.visits++
	if r.visits > maxVisits {
		return r.errf(n, "too large once aliases are expanded")
	}
	for i, c := range n.Content {
		for hops := 0; c.Kind == yaml.AliasNode; hops++ {
			if c.Alias == nil || hops > 32 {
				return r.errf(c, "alias to nothing")
			}
			c = c.Alias
		}
		n.Content[i] = c
		if err := r.resolveAliases(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}
