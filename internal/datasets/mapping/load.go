package mapping

import (
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mamori-sec/mamori/internal/dataset"
)

// loader reads one file; dataset names the dataset being read, for errors.
type loader struct {
	src     string
	opts    Options
	dataset string
}

// file reads the document: one dataset, or `datasets:` and a list. It
// returns the line of each dataset's name beside it.
func (l *loader) file(doc *yaml.Node) ([]dataset.Dataset, []int, error) {
	root := doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, nil, l.errf(root, "", "file is empty")
		}
		root = root.Content[0]
	}
	root = deref(root)
	top, err := l.pairs(root, "")
	if err != nil {
		return nil, nil, err
	}
	items := []*yaml.Node{root}
	if i := slices.IndexFunc(top, func(p pair) bool { return p.key == "datasets" }); i >= 0 {
		for _, p := range top {
			if p.key != "datasets" {
				return nil, nil, l.errf(p.knode, p.key, "a file with a datasets: list holds nothing else; put this setting inside a dataset")
			}
		}
		if items, err = l.items(top[i].val, "datasets"); err != nil {
			return nil, nil, err
		}
	}
	out := make([]dataset.Dataset, 0, len(items))
	lines := make([]int, 0, len(items))
	seen := map[string]bool{}
	for _, n := range items {
		l.dataset = ""
		d, nameNode, err := l.readDataset(n)
		if err != nil {
			return nil, nil, err
		}
		if seen[d.Name] {
			return nil, nil, l.errf(nameNode, "name", "defined twice in this file")
		}
		seen[d.Name] = true
		out = append(out, d)
		lines = append(lines, nameNode.Line)
	}
	return out, lines, nil
}

// datasetKeys lists the settings of a dataset, for messages.
const datasetKeys = "name, description, keys, lines, format, syslog, timezone, skip, columns, header, delimiter, quote, pair_separator, value_separator, pattern, timestamp, fields, set, copy_unmapped_to"

// formatOptions says which format each format-specific setting belongs to.
var formatOptions = map[string]format{
	"columns": formatCSV, "header": formatCSV, "delimiter": formatCSV, "quote": formatCSV,
	"pair_separator": formatKV, "value_separator": formatKV,
	"pattern": formatRegex,
}

// readDataset compiles one dataset. It returns the name's node for the
// caller's duplicate check.
func (l *loader) readDataset(n *yaml.Node) (dataset.Dataset, *yaml.Node, error) {
	var d dataset.Dataset
	ps, err := l.pairs(n, "")
	if err != nil {
		return d, nil, err
	}
	byKey := make(map[string]pair, len(ps))
	for _, p := range ps {
		if !known(datasetKeys, p.key) {
			return d, nil, l.unknownKey(p, "", datasetKeys)
		}
		byKey[p.key] = p
	}
	nameP, ok := byKey["name"]
	if !ok {
		return d, nil, l.errf(deref(n), "", "name is missing: every dataset needs one (lower case, dots and underscores, e.g. acme.firewall)")
	}
	if d.Name, err = l.text(nameP.val, "name"); err != nil {
		return d, nil, err
	}
	if err := validName(d.Name); err != nil {
		return d, nil, l.errf(nameP.val, "name", "%v", err)
	}
	l.dataset = d.Name
	p := l.newParser(d.Name)
	steps := []func() error{
		func() error { return l.format(p, byKey, deref(n)) },
		func() error { return l.general(p, &d, byKey) },
		func() error { return l.formatSettings(p, byKey, deref(n)) },
		func() error { return l.namespace(p, byKey) },
		func() error { return l.fieldTable(p, byKey) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return d, nil, err
		}
	}
	if len(p.fields) == 0 && len(p.set) == 0 && p.copyTo == "" {
		return d, nil, l.errf(deref(n), "", "the mapping sets nothing: give fields:, set: or copy_unmapped_to:")
	}
	if p.json != nil {
		p.json.mapped = make(map[string]bool, len(p.keys))
		for _, k := range p.keys {
			p.json.mapped[k] = true
		}
	}
	if p.re != nil {
		p.re.resolve(p.slots)
	}
	d.HeaderLine = p.csv != nil && p.csv.columns == nil
	d.Parser = p
	return d, nameP.val, nil
}

// newParser returns an empty compiled mapping with the loader's options.
func (l *loader) newParser(name string) *parser {
	p := &parser{name: name, now: l.opts.Now, loc: l.opts.Location, slots: map[string]int{}}
	if p.now == nil {
		p.now = time.Now
	}
	if p.loc == nil {
		p.loc = time.UTC
	}
	for i := range p.headerSlots {
		p.headerSlots[i] = -1
	}
	for i := range p.cefHd {
		p.cefHd[i] = -1
	}
	for i := range p.leeHd {
		p.leeHd[i] = -1
	}
	return p
}

// format reads `format:` and refuses settings of other formats.
func (l *loader) format(p *parser, byKey map[string]pair, n *yaml.Node) error {
	fp, ok := byKey["format"]
	if !ok {
		return l.errf(n, "", "format is missing: one of %s", validFormats)
	}
	name, err := l.text(fp.val, "format")
	if err != nil {
		return err
	}
	if p.format, ok = formatNames[name]; !ok {
		return l.errf(fp.val, "format", "unknown format %q: one of %s", name, validFormats)
	}
	for key, f := range formatOptions {
		if op, given := byKey[key]; given && f != p.format {
			return l.errf(op.knode, key, "applies to format %s only, not %s", formatName(f), name)
		}
	}
	if p.format == formatSyslog {
		p.syslog = true
	}
	return nil
}

// general reads the settings every format has: description, syslog,
// timezone, skip, keys and lines.
func (l *loader) general(p *parser, d *dataset.Dataset, byKey map[string]pair) error {
	var err error
	d.Description = fmt.Sprintf("custom %s mapping from %s", formatName(p.format), filepath.Base(l.src))
	if dp, ok := byKey["description"]; ok {
		if d.Description, err = l.text(dp.val, "description"); err != nil {
			return err
		}
	}
	if sp, ok := byKey["syslog"]; ok {
		on, err := l.boolean(sp.val, "syslog")
		if err != nil {
			return err
		}
		if !on && p.format == formatSyslog {
			return l.errf(sp.val, "syslog", "format syslog always reads the syslog header; leave syslog: out")
		}
		p.syslog = on
	}
	if tp, ok := byKey["timezone"]; ok {
		if p.loc, err = l.zone(tp.val, "timezone"); err != nil {
			return err
		}
	}
	if sp, ok := byKey["skip"]; ok {
		if p.skip, err = l.strings(sp.val, "skip"); err != nil {
			return err
		}
	}
	if kp, ok := byKey["keys"]; ok {
		if d.Keys, err = l.keyPatterns(kp.val); err != nil {
			return err
		}
	}
	if lp, ok := byKey["lines"]; ok {
		c, err := l.lines(lp.val, p.syslog)
		if err != nil {
			return err
		}
		d.Claim = c.claim
	}
	return nil
}

// namespace reads copy_unmapped_to, and sets where values that do not
// convert are kept: that namespace, else the dataset's name.
func (l *loader) namespace(p *parser, byKey map[string]pair) error {
	ns := p.name
	if cp, ok := byKey["copy_unmapped_to"]; ok {
		s, err := l.text(cp.val, "copy_unmapped_to")
		if err != nil {
			return err
		}
		s = strings.TrimSuffix(s, ".")
		if err := validNamespace(s); err != nil {
			return l.errf(cp.val, "copy_unmapped_to", "%v", err)
		}
		ns = s
		p.copyTo = s + "."
	}
	p.rawNS = ns + "."
	return nil
}

// fieldTable reads timestamp:, fields: and set:.
func (l *loader) fieldTable(p *parser, byKey map[string]pair) error {
	// targets remembers where each field was mapped, to refuse a second.
	targets := map[string]*yaml.Node{}
	if tp, ok := byKey["timestamp"]; ok {
		f, err := l.timestamp(p, tp.val)
		if err != nil {
			return err
		}
		targets[f.to] = tp.knode
		p.fields = append(p.fields, f)
	}
	if fp, ok := byKey["fields"]; ok {
		entries, err := l.items(fp.val, "fields")
		if err != nil {
			return err
		}
		for i, e := range entries {
			path := fmt.Sprintf("fields[%d]", i)
			f, toNode, err := l.field(p, e, path)
			if err != nil {
				return err
			}
			if prev, dup := targets[f.to]; dup {
				return l.errf(toNode, path+".to", "%s is already mapped at line %d; give one entry a list of keys (from: [a, b]) to take the first present", f.to, prev.Line)
			}
			targets[f.to] = toNode
			p.fields = append(p.fields, f)
		}
	}
	if sp, ok := byKey["set"]; ok {
		var err error
		if p.set, err = l.statics(sp.val); err != nil {
			return err
		}
	}
	return nil
}

// formatSettings reads the settings of the chosen format.
func (l *loader) formatSettings(p *parser, byKey map[string]pair, n *yaml.Node) error {
	var err error
	switch p.format {
	case formatJSON:
		p.json = &jsonFormat{}
	case formatCSV:
		c := &csvFormat{delim: ',', quote: '"'}
		cp, hasCols := byKey["columns"]
		hp, hasHeader := byKey["header"]
		header := false
		if hasHeader {
			if header, err = l.boolean(hp.val, "header"); err != nil {
				return err
			}
		}
		switch {
		case hasCols && header:
			return l.errf(hp.knode, "header", "give either columns: or header: true, not both")
		case hasCols:
			if c.columns, err = l.strings(cp.val, "columns"); err != nil {
				return err
			}
			seen := map[string]bool{}
			for i, col := range c.columns {
				if seen[col] {
					return l.errf(deref(cp.val), fmt.Sprintf("columns[%d]", i), "column %q is named twice", col)
				}
				seen[col] = true
			}
		case !header:
			return l.errf(n, "", "format csv needs columns: [names...] or header: true (the object's first line names the columns)")
		}
		if dp, ok := byKey["delimiter"]; ok {
			if c.delim, err = l.char(dp.val, "delimiter", false); err != nil {
				return err
			}
		}
		if qp, ok := byKey["quote"]; ok {
			if c.quote, err = l.char(qp.val, "quote", true); err != nil {
				return err
			}
			if c.quote == c.delim && c.quote != 0 {
				return l.errf(qp.val, "quote", "the quote and the delimiter must differ")
			}
		}
		p.csv = c
	case formatKV:
		k := &kvFormat{valueSep: "="}
		if sp, ok := byKey["pair_separator"]; ok {
			s, err := l.scalar(sp.val, "pair_separator")
			if err != nil {
				return err
			}
			if strings.TrimSpace(s) != "" {
				k.pairSep = s
			}
		}
		if vp, ok := byKey["value_separator"]; ok {
			if k.valueSep, err = l.text(vp.val, "value_separator"); err != nil {
				return err
			}
			if k.valueSep == k.pairSep {
				return l.errf(vp.val, "value_separator", "must differ from pair_separator")
			}
		}
		p.kv = k
	case formatRegex:
		pp, ok := byKey["pattern"]
		if !ok {
			return l.errf(n, "", "format regex needs pattern: with named groups, e.g. '^(?P<src>\\S+) (?P<action>\\w+)'")
		}
		s, err := l.text(pp.val, "pattern")
		if err != nil {
			return err
		}
		if p.re, err = compileRegex(s); err != nil {
			return l.errf(pp.val, "pattern", "%v", err)
		}
	}
	return nil
}

// char reads a one-byte setting; "tab" and "\t" mean a tab. empty allows
// "" (no quoting).
func (l *loader) char(n *yaml.Node, path string, empty bool) (byte, error) {
	s, err := l.scalar(n, path)
	if err != nil {
		return 0, err
	}
	switch {
	case s == "" && empty:
		return 0, nil
	case s == "tab" || s == `\t`:
		return '\t', nil
	case len(s) == 1 && s[0] != '\n' && s[0] != '\r':
		return s[0], nil
	}
	return 0, l.errf(n, path, "want one character (or tab), found %q", s)
}

// zone reads a time zone setting.
func (l *loader) zone(n *yaml.Node, path string) (*time.Location, error) {
	s, err := l.text(n, path)
	if err != nil {
		return nil, err
	}
	loc, err := parseZone(s)
	if err != nil {
		return nil, l.errf(n, path, "%v", err)
	}
	return loc, nil
}

// keyPatterns reads `keys:`.
func (l *loader) keyPatterns(n *yaml.Node) ([]string, error) {
	pats, err := l.strings(n, "keys")
	if err != nil {
		return nil, err
	}
	for i, p := range pats {
		at := fmt.Sprintf("keys[%d]", i)
		literal := false
		for _, seg := range strings.Split(p, "/") {
			if seg == "" {
				return nil, l.errf(n, at, "%q has an empty segment (a leading, trailing or double slash)", p)
			}
			if _, err := path.Match(seg, ""); err != nil {
				return nil, l.errf(n, at, "%q: segment %q is not a valid pattern", p, seg)
			}
			literal = literal || strings.Trim(seg, "*") != ""
		}
		if !literal {
			return nil, l.errf(n, at, "%q matches every key; name at least one folder or file pattern (e.g. **/acme/*.log.gz)", p)
		}
	}
	return pats, nil
}

// lineKeys lists the settings of a `lines:` rule.
const lineKeys = "app, prefix, contains, regexp"

// lines reads `lines:`: one rule, or a list of rules of which any may
// claim a record.
func (l *loader) lines(n *yaml.Node, syslog bool) (*claimer, error) {
	items, err := l.items(n, "lines")
	if err != nil {
		return nil, err
	}
	c := &claimer{syslog: syslog}
	for i, item := range items {
		at := "lines"
		if deref(n).Kind == yaml.SequenceNode {
			at = fmt.Sprintf("lines[%d]", i)
		}
		ps, err := l.pairs(item, at)
		if err != nil {
			return nil, err
		}
		var r lineRule
		for _, p := range ps {
			switch p.key {
			case "app":
				if !syslog {
					return nil, l.errf(p.knode, join(at, p.key), "program names come from a syslog header: set syslog: true")
				}
				if r.apps, err = l.strings(p.val, join(at, p.key)); err != nil {
					return nil, err
				}
			case "prefix", "contains":
				list, err := l.strings(p.val, join(at, p.key))
				if err != nil {
					return nil, err
				}
				bs := make([][]byte, len(list))
				for j, s := range list {
					bs[j] = []byte(s)
				}
				if p.key == "prefix" {
					r.prefixes = bs
				} else {
					r.contains = bs
				}
			case "regexp":
				s, err := l.text(p.val, join(at, p.key))
				if err != nil {
					return nil, err
				}
				if r.re, err = regexp.Compile(s); err != nil {
					return nil, l.errf(p.val, join(at, p.key), "invalid regular expression: %v", err)
				}
			default:
				return nil, l.unknownKey(p, at, lineKeys)
			}
		}
		if len(ps) == 0 {
			return nil, l.errf(item, at, "give at least one of %s", lineKeys)
		}
		c.rules = append(c.rules, r)
	}
	return c, nil
}
