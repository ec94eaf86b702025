package mapping

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// The file is read as a yaml.Node tree rather than decoded into structs:
// every setting then has its line for error messages, unknown keys are
// caught by the reader that knows which keys are valid, and a value's
// YAML type (a list where a string belongs) is reported precisely.

// pair is one key and value of a YAML mapping.
type pair struct {
	key   string
	knode *yaml.Node
	val   *yaml.Node
}

// maxAliasDepth bounds alias chains (an alias of an alias ...).
const maxAliasDepth = 16

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxAliasDepth; i++ {
		n = n.Alias
	}
	return n
}

// kindName names a node's YAML type for messages.
func kindName(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing (null)"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

// errf reports a problem at node n; path locates it within the dataset.
func (l *loader) errf(n *yaml.Node, path, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{Source: l.src, Line: line, Dataset: l.dataset, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// pairs returns the entries of a mapping node; duplicate keys are errors.
func (l *loader) pairs(n *yaml.Node, path string) ([]pair, error) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, l.errf(n, path, "want a mapping (key: value lines), found %s", kindName(n))
	}
	out := make([]pair, 0, len(n.Content)/2)
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode {
			return nil, l.errf(k, path, "keys must be plain text, found %s", kindName(k))
		}
		if seen[k.Value] {
			return nil, l.errf(k, join(path, k.Value), "given twice")
		}
		seen[k.Value] = true
		out = append(out, pair{key: k.Value, knode: k, val: v})
	}
	return out, nil
}

// scalar returns a scalar's text; a null, list or mapping is an error.
func (l *loader) scalar(n *yaml.Node, path string) (string, error) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", l.errf(n, path, "want a value, found %s", kindName(n))
	}
	return n.Value, nil
}

// text is scalar for settings that must not be empty.
func (l *loader) text(n *yaml.Node, path string) (string, error) {
	s, err := l.scalar(n, path)
	if err == nil && strings.TrimSpace(s) == "" {
		err = l.errf(n, path, "must not be empty")
	}
	return s, err
}

// boolean reads true or false.
func (l *loader) boolean(n *yaml.Node, path string) (bool, error) {
	s, err := l.scalar(n, path)
	if err != nil {
		return false, err
	}
	switch s {
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	}
	return false, l.errf(n, path, "want true or false, found %q", s)
}

// strings reads one value or a list of values. Each must be non-empty.
func (l *loader) strings(n *yaml.Node, path string) ([]string, error) {
	n = deref(n)
	if n != nil && n.Kind == yaml.ScalarNode {
		s, err := l.text(n, path)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil, l.errf(n, path, "want a value or a list of values, found %s", kindName(n))
	}
	if len(n.Content) == 0 {
		return nil, l.errf(n, path, "the list is empty")
	}
	out := make([]string, 0, len(n.Content))
	for i, el := range n.Content {
		s, err := l.text(el, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// items returns the elements of a list, or the node itself when it is a
// single mapping (a list of one written without the dash).
func (l *loader) items(n *yaml.Node, path string) ([]*yaml.Node, error) {
	n = deref(n)
	switch {
	case n != nil && n.Kind == yaml.SequenceNode:
		if len(n.Content) == 0 {
			return nil, l.errf(n, path, "the list is empty")
		}
		return n.Content, nil
	case n != nil && n.Kind == yaml.MappingNode:
		return []*yaml.Node{n}, nil
	}
	return nil, l.errf(n, path, "want a list, found %s", kindName(n))
}

// unknownKey reports a key that the reader of this level does not know.
func (l *loader) unknownKey(p pair, path string, valid string) error {
	return l.errf(p.knode, join(path, p.key), "unknown setting; valid here: %s", valid)
}

// join appends a key to a dotted path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
