package native

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/mamori-sec/mamori/internal/detect/ruleerr"
	"github.com/mamori-sec/mamori/internal/detect/sigma"
)

// MaxFileSize bounds a rule file: real rules are a few KiB.
const MaxFileSize = 1 << 20

// Parse reads the rules of one file: each YAML document is a rule. It
// returns every rule it could read and, joined, an *Error for each
// document it could not, naming file, line and problem. Every rule it
// returns passes Check.
func Parse(file string, data []byte) ([]*Rule, error) {
	if len(data) > MaxFileSize {
		return nil, &Error{Prefix: prefix, File: file, Msg: fmt.Sprintf("file larger than %d bytes", MaxFileSize)}
	}
	if !utf8.Valid(data) {
		return nil, &Error{Prefix: prefix, File: file, Msg: "not UTF-8 text"}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var rules []*Rule
	var errs []error
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// The decoder cannot resynchronise after a syntax error.
			errs = append(errs, ruleerr.FromYAML(prefix, file, err))
			break
		}
		if len(doc.Content) == 0 {
			continue
		}
		r, err := readRule(file, doc.Content[0])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rules = append(rules, r)
	}
	if len(rules) == 0 && len(errs) == 0 {
		errs = append(errs, &Error{Prefix: prefix, File: file, Msg: "no rule in the file"})
	}
	return rules, errors.Join(errs...)
}

// reader reads one rule document, remembering the rule's id for errors.
type reader struct {
	file string
	id   string
}

func (p *reader) errAt(n *yaml.Node, format string, args ...any) *Error {
	e := &Error{Prefix: prefix, File: p.file, Rule: p.id, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	return e
}

// ruleKeys lists the keys a rule may have, in the order they are read.
var ruleKeys = []string{
	"id", "title", "description", "author", "references", "tags", "falsepositives",
	"datasets", "query", "threshold", "group_by", "window", "severity", "min_severity", "summary",
}

func readRule(file string, doc *yaml.Node) (*Rule, error) {
	p := &reader{file: file}
	if doc.Kind != yaml.MappingNode {
		return nil, p.errAt(doc, "a rule document must be a mapping, found %s", describe(doc))
	}
	// The id first, so that every other error names the rule.
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if k, v := doc.Content[i], doc.Content[i+1]; k.Value == "id" && v.Kind == yaml.ScalarNode && v.ShortTag() != "!!null" {
			p.id = v.Value
			break
		}
	}
	keys := map[string]*yaml.Node{}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, p.errAt(k, "a key must be text, found %s", describe(k))
		}
		if _, dup := keys[k.Value]; dup {
			return nil, p.errAt(k, "%s is given twice", k.Value)
		}
		if !knownKey(k.Value) {
			return nil, p.errAt(k, "unknown key %q (a native rule has %s)", k.Value, strings.Join(ruleKeys, ", "))
		}
		keys[k.Value] = v
	}
	if n := keys["id"]; n != nil {
		if _, err := p.text(n, "id"); err != nil {
			return nil, err
		}
	}
	r := &Rule{File: file, Line: doc.Line, ID: p.id, Threshold: 1, Severity: Severity{Level: sigma.LevelMedium}}
	if r.ID == "" {
		return nil, p.errAt(doc, "the rule has no id")
	}
	if err := checkID(r.ID); err != nil {
		return nil, p.errAt(keys["id"], "id %q: %v", r.ID, err)
	}
	var err error
	for _, t := range []struct {
		key      string
		dst      *string
		required bool
	}{
		{"title", &r.Title, true}, {"query", &r.Query, true},
		{"description", &r.Description, false}, {"author", &r.Author, false}, {"summary", &r.Summary, false},
	} {
		n := keys[t.key]
		if n == nil {
			if t.required {
				return nil, p.errAt(doc, "the rule has no %s", t.key)
			}
			continue
		}
		if *t.dst, err = p.text(n, t.key); err != nil {
			return nil, err
		}
		if t.required && strings.TrimSpace(*t.dst) == "" {
			return nil, p.errAt(n, "%s is empty", t.key)
		}
	}
	for _, l := range []struct {
		key string
		dst *[]string
	}{
		{"references", &r.References}, {"tags", &r.Tags}, {"falsepositives", &r.Falsepositives},
		{"datasets", &r.Datasets}, {"group_by", &r.GroupBy},
	} {
		if *l.dst, err = p.textList(keys[l.key], l.key); err != nil {
			return nil, err
		}
	}
	if n := keys["threshold"]; n != nil {
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			return nil, p.errAt(n, "threshold must be a whole number, found %s", describe(n))
		}
		v, err := strconv.Atoi(n.Value)
		if err != nil || v < 1 || v > MaxThreshold {
			return nil, p.errAt(n, "threshold %s: want 1 to %d", n.Value, MaxThreshold)
		}
		r.Threshold = v
	}
	if n := keys["window"]; n != nil {
		s, err := p.text(n, "window")
		if err != nil {
			return nil, err
		}
		if r.Window, err = parseWindow(s); err != nil {
			return nil, p.errAt(n, "window %q: %v", s, err)
		}
	}
	if n := keys["severity"]; n != nil {
		if r.Severity, err = p.severity(n); err != nil {
			return nil, err
		}
	}
	if n := keys["min_severity"]; n != nil {
		if r.MinSeverity, err = p.level(n, "min_severity"); err != nil {
			return nil, err
		}
	}
	// Check the whole rule (query, templates, window with threshold) and
	// place each problem at the key it is about.
	if _, err := compileRule(r); err != nil {
		if ne, ok := AsError(err); ok {
			if v := keys[ne.Key]; v != nil {
				ne.Line, ne.Col = v.Line, v.Column
			}
		}
		return nil, err
	}
	return r, nil
}

func knownKey(k string) bool {
	for _, x := range ruleKeys {
		if x == k {
			return true
		}
	}
	return false
}

// checkID keeps ids usable as alert keys and folder names.
func checkID(id string) error {
	if len(id) > 200 {
		return errors.New("longer than 200 characters")
	}
	for _, c := range id {
		if !(c == '-' || c == '_' || c == '.' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return fmt.Errorf("only letters, digits and - _ . : (found %q)", c)
		}
	}
	if id == "." || id == ".." {
		return errors.New("not a name")
	}
	return nil
}

func (p *reader) text(n *yaml.Node, key string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return "", p.errAt(n, "%s must be text, found %s", key, describe(n))
	}
	return n.Value, nil
}

func (p *reader) textList(n *yaml.Node, key string) ([]string, error) {
	if n == nil || n.ShortTag() == "!!null" {
		return nil, nil
	}
	if n.Kind == yaml.ScalarNode {
		if n.Value == "" {
			return nil, p.errAt(n, "%s is empty", key)
		}
		return []string{n.Value}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errAt(n, "%s must be a list of texts, found %s", key, describe(n))
	}
	out := make([]string, 0, len(n.Content))
	for _, it := range n.Content {
		s, err := p.text(it, key)
		if err != nil {
			return nil, err
		}
		if s == "" {
			return nil, p.errAt(it, "%s holds an empty value", key)
		}
		out = append(out, s)
	}
	return out, nil
}

func (p *reader) level(n *yaml.Node, key string) (sigma.Level, error) {
	s, err := p.text(n, key)
	if err != nil {
		return "", err
	}
	l := sigma.Level(strings.ToLower(s))
	if l.Rank() < 0 {
		return "", p.errAt(n, "%s %q is not one of informational, low, medium, high, critical", key, s)
	}
	return l, nil
}

// severity reads `severity: high`, or a mapping that reads it from the
// event:
//
//	severity:
//	  field: log.level              # or fields: [a, b]: the first present
//	  values: {critical: critical}  # the field's text → level
//	  at_least: {9: critical, 7: high}  # numeric bounds
//	  default: medium               # otherwise (medium if not given)
func (p *reader) severity(n *yaml.Node) (Severity, error) {
	if n.Kind == yaml.ScalarNode {
		l, err := p.level(n, "severity")
		return Severity{Level: l}, err
	}
	if n.Kind != yaml.MappingNode {
		return Severity{}, p.errAt(n, "severity must be a level or a mapping (field, values, at_least, default), found %s", describe(n))
	}
	s := Severity{Level: sigma.LevelMedium}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			return s, p.errAt(k, "severity: %s is given twice", k.Value)
		}
		seen[k.Value] = true
		var err error
		switch k.Value {
		case "field":
			var f string
			if f, err = p.text(v, "severity field"); err == nil {
				s.Fields = append(s.Fields, f)
			}
		case "fields":
			var fs []string
			if fs, err = p.textList(v, "severity fields"); err == nil {
				s.Fields = append(s.Fields, fs...)
			}
		case "default":
			s.Level, err = p.level(v, "severity default")
		case "values":
			s.Values, err = p.severityValues(v)
		case "at_least":
			s.AtLeast, err = p.severityBounds(v)
		default:
			return s, p.errAt(k, "severity: unknown key %q (field, fields, values, at_least, default)", k.Value)
		}
		if err != nil {
			return s, err
		}
	}
	if len(s.Fields) == 0 {
		return s, p.errAt(n, "severity: a mapping needs field (or fields) to read the level from")
	}
	if len(s.Values) == 0 && len(s.AtLeast) == 0 {
		return s, p.errAt(n, "severity: a mapping needs values or at_least to turn the field into a level")
	}
	return s, nil
}

func (p *reader) severityValues(n *yaml.Node) (map[string]sigma.Level, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errAt(n, "severity values must be a mapping of values to levels, found %s", describe(n))
	}
	out := map[string]sigma.Level{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key, err := p.text(k, "severity value")
		if err != nil {
			return nil, err
		}
		l, err := p.level(v, "severity for "+strconv.Quote(key))
		if err != nil {
			return nil, err
		}
		out[strings.ToLower(key)] = l
	}
	return out, nil
}

func (p *reader) severityBounds(n *yaml.Node) ([]Bound, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errAt(n, "severity at_least must be a mapping of numbers to levels, found %s", describe(n))
	}
	var out []Bound
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f, err := strconv.ParseFloat(k.Value, 64)
		if k.Kind != yaml.ScalarNode || err != nil || f != f {
			return nil, p.errAt(k, "severity at_least: %q is not a number", k.Value)
		}
		l, err := p.level(v, "severity at_least "+k.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, Bound{Min: f, Level: l})
	}
	// Highest bound first, so the first bound reached is the level.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Min > out[j-1].Min; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// parseWindow reads a duration as Go writes it (90s, 10m, 1h30m) or in
// days (2d), as Sigma timespans do.
func parseWindow(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "d") {
		n, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || n <= 0 {
			return 0, errors.New("want a duration such as 90s, 10m, 1h or 2d")
		}
		if n > int(MaxWindow/(24*time.Hour)) {
			return 0, fmt.Errorf("longer than %s", formatDuration(MaxWindow))
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New("want a duration such as 90s, 10m, 1h or 2d")
	}
	return d, nil
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "a document"
}

// IsNative reports whether a rule file holds native rules rather than
// Sigma rules: its first document is a mapping with a query key and
// neither detection nor correlation. A loader that reads both kinds from
// one directory uses it to pick the parser.
func IsNative(data []byte) bool {
	if len(data) > MaxFileSize || !utf8.Valid(data) {
		return false
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil || len(doc.Content) == 0 {
		return false
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return false
	}
	hasQuery := false
	for i := 0; i+1 < len(m.Content); i += 2 {
		switch m.Content[i].Value {
		case "query":
			hasQuery = true
		case "detection", "correlation", "logsource":
			return false
		}
	}
	return hasQuery
}
