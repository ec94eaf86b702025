package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"gopkg.in/yaml.v3"

	"github.com/mamori-sec/mamori/internal/detect/ruleerr"
)

// node is a YAML value with its position, copied out of yaml.v3's tree so
// that documents can be merged (`action: global`) and read without caring
// about aliases. Mapping keys keep their order.
type node struct {
	kind  nodeKind
	value string // scalars
	tag   string // scalars: "!!str", "!!int", "!!null", ...
	line  int
	col   int
	keys  []*node // mappings: the key nodes (scalars)
	vals  []*node // mappings: the values, in the same order
	items []*node // sequences
}

type nodeKind int

const (
	scalarNode nodeKind = iota
	mappingNode
	sequenceNode
)

// Limits that keep a hostile file (an alias bomb, deep nesting) from
// exhausting memory; real rules are far below them.
const (
	maxNodes = 200_000
	maxDepth = 64
)

type converter struct {
	file  string
	count int
}

// convert copies a yaml.v3 node tree, resolving aliases.
func (c *converter) convert(n *yaml.Node, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, errorAt(c.file, n.Line, n.Column, "nesting deeper than %d levels", maxDepth)
	}
	c.count++
	if c.count > maxNodes {
		return nil, errorAt(c.file, n.Line, n.Column, "document too large (more than %d values, aliases expanded)", maxNodes)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.convert(n.Content[0], depth+1)
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, errorAt(c.file, n.Line, n.Column, "alias to nothing")
		}
		out, err := c.convert(n.Alias, depth+1)
		if err != nil {
			return nil, err
		}
		if out != nil {
			// Report problems where the alias is used.
			cp := *out
			cp.line, cp.col = n.Line, n.Column
			out = &cp
		}
		return out, nil
	case yaml.ScalarNode:
		return &node{kind: scalarNode, value: n.Value, tag: n.ShortTag(), line: n.Line, col: n.Column}, nil
	case yaml.SequenceNode:
		out := &node{kind: sequenceNode, line: n.Line, col: n.Column, items: make([]*node, 0, len(n.Content))}
		for _, it := range n.Content {
			v, err := c.convert(it, depth+1)
			if err != nil {
				return nil, err
			}
			if v == nil {
				continue
			}
			out.items = append(out.items, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := &node{kind: mappingNode, line: n.Line, col: n.Column}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, err := c.convert(n.Content[i], depth+1)
			if err != nil {
				return nil, err
			}
			if k == nil || k.kind != scalarNode {
				return nil, errorAt(c.file, n.Content[i].Line, n.Content[i].Column, "mapping keys must be plain text")
			}
			if k.tag == "!!merge" {
				// "<<: *anchor" merges the anchored mapping's keys.
				v, err := c.convert(n.Content[i+1], depth+1)
				if err != nil {
					return nil, err
				}
				if v == nil || v.kind != mappingNode {
					return nil, errorAt(c.file, k.line, k.col, "a merge key (<<) needs a mapping")
				}
				for j, mk := range v.keys {
					if out.get(mk.value) == nil {
						out.keys = append(out.keys, mk)
						out.vals = append(out.vals, v.vals[j])
					}
				}
				continue
			}
			if out.get(k.value) != nil {
				return nil, errorAt(c.file, k.line, k.col, "key %q given twice", k.value)
			}
			v, err := c.convert(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			if v == nil {
				v = &node{kind: scalarNode, tag: "!!null", line: k.line, col: k.col}
			}
			out.keys = append(out.keys, k)
			out.vals = append(out.vals, v)
		}
		return out, nil
	}
	return nil, errorAt(c.file, n.Line, n.Column, "unexpected YAML node")
}

// get returns a mapping's value for key, nil when absent.
func (n *node) get(key string) *node {
	if n == nil || n.kind != mappingNode {
		return nil
	}
	for i, k := range n.keys {
		if k.value == key {
			return n.vals[i]
		}
	}
	return nil
}

func (n *node) isNull() bool {
	return n == nil || (n.kind == scalarNode && n.tag == "!!null")
}

// describe names a node's type for messages.
func (n *node) describe() string {
	switch {
	case n == nil:
		return "nothing"
	case n.kind == mappingNode:
		return "a mapping"
	case n.kind == sequenceNode:
		return "a list"
	case n.tag == "!!null":
		return "null"
	default:
		v := n.value
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return fmt.Sprintf("%q", v)
	}
}

// merge returns base with over's keys laid on top: mappings merge key by
// key, anything else in over replaces what base had (Sigma collections'
// `action: global` and `repeat`).
func merge(base, over *node) *node {
	if base == nil {
		return over
	}
	if over == nil {
		return base
	}
	if base.kind != mappingNode || over.kind != mappingNode {
		return over
	}
	out := &node{kind: mappingNode, line: over.line, col: over.col}
	for i, k := range base.keys {
		if ov := over.get(k.value); ov != nil {
			out.keys = append(out.keys, k)
			out.vals = append(out.vals, merge(base.vals[i], ov))
			continue
		}
		out.keys = append(out.keys, k)
		out.vals = append(out.vals, base.vals[i])
	}
	for i, k := range over.keys {
		if base.get(k.value) == nil {
			out.keys = append(out.keys, k)
			out.vals = append(out.vals, over.vals[i])
		}
	}
	return out
}

// without returns a mapping without the given key.
func (n *node) without(key string) *node {
	if n == nil || n.kind != mappingNode {
		return n
	}
	out := &node{kind: mappingNode, line: n.line, col: n.col}
	for i, k := range n.keys {
		if k.value != key {
			out.keys = append(out.keys, k)
			out.vals = append(out.vals, n.vals[i])
		}
	}
	return out
}

// text reads a scalar as a string.
func (p *parser) text(n *node, what string) (string, error) {
	if n == nil || n.kind != scalarNode || n.tag == "!!null" {
		return "", p.errAt(n, "%s: want text, found %s", what, n.describe())
	}
	return n.value, nil
}

// optText reads an optional scalar; a missing or null value is "".
func (p *parser) optText(n *node, what string) (string, error) {
	if n.isNull() {
		return "", nil
	}
	return p.text(n, what)
}

// textList reads a scalar or a list of scalars.
func (p *parser) textList(n *node, what string) ([]string, error) {
	if n.isNull() {
		return nil, nil
	}
	if n.kind == scalarNode {
		return []string{n.value}, nil
	}
	if n.kind != sequenceNode {
		return nil, p.errAt(n, "%s: want a list of texts, found %s", what, n.describe())
	}
	out := make([]string, 0, len(n.items))
	for _, it := range n.items {
		if it.isNull() {
			continue
		}
		if it.kind != scalarNode {
			return nil, p.errAt(it, "%s: want text, found %s", what, it.describe())
		}
		out = append(out, it.value)
	}
	return out, nil
}

// decodeDocuments splits a file into its YAML documents.
func decodeDocuments(file string, data []byte) ([]*node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	c := &converter{file: file}
	var docs []*node
	for {
		var y yaml.Node
		err := dec.Decode(&y)
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return docs, ruleerr.FromYAML(prefix, file, err)
		}
		n, err := c.convert(&y, 0)
		if err != nil {
			return docs, err
		}
		docs = append(docs, n)
	}
	return docs, nil
}
