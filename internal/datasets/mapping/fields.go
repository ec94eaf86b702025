package mapping

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	parsecef "github.com/mamori-sec/mamori/internal/parse/cef"
)

// fieldKeys lists the settings of a `fields:` entry.
const fieldKeys = "from, to, type, layout, timezone, separator, map, default"

// field reads one `fields:` entry; it returns the node of `to` for the
// duplicate check.
func (l *loader) field(p *parser, n *yaml.Node, at string) (field, *yaml.Node, error) {
	var f field
	ps, err := l.pairs(n, at)
	if err != nil {
		return f, nil, err
	}
	byKey := make(map[string]pair, len(ps))
	for _, pr := range ps {
		if !known(fieldKeys, pr.key) {
			return f, nil, l.unknownKey(pr, at, fieldKeys)
		}
		byKey[pr.key] = pr
	}
	toP, ok := byKey["to"]
	if !ok {
		return f, nil, l.errf(deref(n), at, "to is missing: name the ECS field this entry sets")
	}
	if f.to, err = l.text(toP.val, at+".to"); err != nil {
		return f, nil, err
	}
	if err := validTarget(f.to); err != nil {
		return f, nil, l.errf(toP.val, at+".to", "%v", err)
	}
	fromP, ok := byKey["from"]
	if !ok {
		return f, nil, l.errf(deref(n), at, "from is missing: name the source key (or a list of keys, the first present wins)")
	}
	if f.from, err = l.sources(p, fromP.val, at+".from"); err != nil {
		return f, nil, err
	}
	f.conv.typ = typeString
	if tp, ok := byKey["type"]; ok {
		s, err := l.text(tp.val, at+".type")
		if err != nil {
			return f, nil, err
		}
		if f.conv.typ, ok = typeNames[s]; !ok {
			return f, nil, l.errf(tp.val, at+".type", "unknown type %q: one of %s", s, validTypes)
		}
	}
	if f.to == "@timestamp" && f.conv.typ != typeTime {
		return f, nil, l.errf(toP.val, at+".to", "@timestamp must be read as type: time (or use the timestamp: shortcut)")
	}
	if err := l.timeSettings(p, &f.conv, byKey, at); err != nil {
		return f, nil, err
	}
	if sp, ok := byKey["separator"]; ok {
		if f.conv.typ != typeList {
			return f, nil, l.errf(sp.knode, at+".separator", "applies to type: list only")
		}
		if f.conv.sep, err = l.scalar(sp.val, at+".separator"); err != nil {
			return f, nil, err
		}
		if f.conv.sep == "" {
			return f, nil, l.errf(sp.val, at+".separator", "must not be empty")
		}
	} else if f.conv.typ == typeList {
		f.conv.sep = ","
	}
	if mp, ok := byKey["map"]; ok {
		tps, err := l.pairs(mp.val, at+".map")
		if err != nil {
			return f, nil, err
		}
		f.conv.table = make(map[string]string, len(tps))
		for _, tp := range tps {
			v, err := l.scalar(tp.val, at+".map."+tp.key)
			if err != nil {
				return f, nil, err
			}
			f.conv.table[tp.key] = v
		}
	}
	if dp, ok := byKey["default"]; ok {
		if f.conv.table == nil {
			return f, nil, l.errf(dp.knode, at+".default", "default is the value for keys the map: does not list; give a map:")
		}
		if f.conv.def, err = l.scalar(dp.val, at+".default"); err != nil {
			return f, nil, err
		}
		f.conv.hasDefault = true
	}
	return f, toP.val, nil
}

// timeSettings reads layout: and timezone:, which only a time has.
func (l *loader) timeSettings(p *parser, c *converter, byKey map[string]pair, at string) error {
	c.loc = p.loc
	lp, hasLayout := byKey["layout"]
	zp, hasZone := byKey["timezone"]
	if c.typ != typeTime {
		for _, pr := range []struct {
			given bool
			p     pair
		}{{hasLayout, lp}, {hasZone, zp}} {
			if pr.given {
				return l.errf(pr.p.knode, join(at, pr.p.key), "applies to type: time only")
			}
		}
		return nil
	}
	var err error
	if hasLayout {
		s, err := l.text(lp.val, join(at, "layout"))
		if err != nil {
			return err
		}
		if c.layout, err = compileLayout(s); err != nil {
			return l.errf(lp.val, join(at, "layout"), "%v", err)
		}
	}
	if hasZone {
		if c.loc, err = l.zone(zp.val, join(at, "timezone")); err != nil {
			return err
		}
	}
	return nil
}

// timestampKeys lists the settings of the `timestamp:` shortcut.
const timestampKeys = "from, layout, timezone"

// timestamp reads the shortcut for a time field to @timestamp: a source
// key, or {from, layout, timezone}.
func (l *loader) timestamp(p *parser, n *yaml.Node) (field, error) {
	f := field{to: "@timestamp", conv: converter{typ: typeTime, loc: p.loc}}
	var err error
	if deref(n) != nil && deref(n).Kind == yaml.MappingNode {
		ps, err := l.pairs(n, "timestamp")
		if err != nil {
			return f, err
		}
		byKey := map[string]pair{}
		for _, pr := range ps {
			if !known(timestampKeys, pr.key) {
				return f, l.unknownKey(pr, "timestamp", timestampKeys)
			}
			byKey[pr.key] = pr
		}
		fp, ok := byKey["from"]
		if !ok {
			return f, l.errf(deref(n), "timestamp", "from is missing: name the source key of the event's time")
		}
		if f.from, err = l.sources(p, fp.val, "timestamp.from"); err != nil {
			return f, err
		}
		return f, l.timeSettings(p, &f.conv, byKey, "timestamp")
	}
	f.from, err = l.sources(p, n, "timestamp")
	return f, err
}

// sources reads `from:`: one source key or a list of them, and gives each
// its slot.
func (l *loader) sources(p *parser, n *yaml.Node, at string) ([]int, error) {
	keys, err := l.strings(n, at)
	if err != nil {
		return nil, err
	}
	slots := make([]int, 0, len(keys))
	for _, k := range keys {
		slot, err := p.slot(k)
		if err != nil {
			return nil, l.errf(n, at, "%v", err)
		}
		slots = append(slots, slot)
	}
	return slots, nil
}

// slot returns the slot of a source key, allocating it on first use, and
// checks that the format can offer the key.
func (p *parser) slot(key string) (int, error) {
	header := -1
	if p.syslog {
		header = slices.Index(syslogKeys[:], key)
	}
	if header < 0 {
		var err error
		if key, err = p.checkKey(key); err != nil {
			return 0, err
		}
	}
	if s, ok := p.slots[key]; ok {
		return s, nil
	}
	s := len(p.keys)
	p.slots[key] = s
	p.keys = append(p.keys, key)
	switch {
	case header >= 0:
		p.headerSlots[header] = s
		if p.json != nil {
			p.json.paths = append(p.json.paths, nil)
		}
	case p.json != nil:
		p.json.paths = append(p.json.paths, strings.Split(key, "."))
	case p.format == formatCEF && strings.HasPrefix(key, "header."):
		p.cefHd[slices.Index(cefHeaderKeys[:], key)] = s
	case p.format == formatLEEF && strings.HasPrefix(key, "header."):
		p.leeHd[slices.Index(leefHeaderKeys[:], key)] = s
	}
	return s, nil
}

// checkKey checks that the format offers a source key and returns the
// name the decoder stores it under (CEF keys as full dictionary names).
func (p *parser) checkKey(key string) (string, error) {
	switch p.format {
	case formatJSON:
		for _, seg := range strings.Split(key, ".") {
			if seg == "" {
				return "", fmt.Errorf("%q: a JSON path has no empty parts", key)
			}
		}
	case formatCSV:
		if p.csv.columns != nil && !slices.Contains(p.csv.columns, key) {
			return "", fmt.Errorf("%q is not one of the columns (%s)", key, strings.Join(p.csv.columns, ", "))
		}
	case formatRegex:
		if !slices.Contains(p.re.names, key) {
			return "", fmt.Errorf("the pattern has no group named %q (groups: %s)", key, strings.Join(nonEmpty(p.re.names), ", "))
		}
	case formatCEF:
		if strings.HasPrefix(key, "header.") {
			if !slices.Contains(cefHeaderKeys[:], key) {
				return "", fmt.Errorf("%q: the CEF header fields are %s", key, strings.Join(cefHeaderKeys[:], ", "))
			}
			return key, nil
		}
		return parsecef.FullName(key), nil
	case formatLEEF:
		if strings.HasPrefix(key, "header.") && !slices.Contains(leefHeaderKeys[:], key) {
			return "", fmt.Errorf("%q: the LEEF header fields are %s", key, strings.Join(leefHeaderKeys[:], ", "))
		}
	case formatSyslog:
		if key != "message" {
			return "", fmt.Errorf("%q: format syslog offers message and %s", key, strings.Join(syslogKeys[:], ", "))
		}
	}
	return key, nil
}

func nonEmpty(list []string) []string {
	var out []string
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// statics reads `set:`: field names and the value each always gets.
func (l *loader) statics(n *yaml.Node) ([]static, error) {
	ps, err := l.pairs(n, "set")
	if err != nil {
		return nil, err
	}
	out := make([]static, 0, len(ps))
	for _, p := range ps {
		at := "set." + p.key
		if err := validTarget(p.key); err != nil {
			return nil, l.errf(p.knode, at, "%v", err)
		}
		if p.key == "@timestamp" {
			return nil, l.errf(p.knode, at, "@timestamp comes from the record (timestamp:), or from the receive time")
		}
		v, err := l.staticValue(p.val, at)
		if err != nil {
			return nil, err
		}
		out = append(out, static{field: p.key, value: v})
	}
	return out, nil
}

// staticValue reads a scalar (typed as YAML types it: 3 is a number, true
// a boolean, anything else or quoted text a string) or a list of them.
func (l *loader) staticValue(n *yaml.Node, at string) (any, error) {
	n = deref(n)
	if n != nil && n.Kind == yaml.SequenceNode {
		if len(n.Content) == 0 {
			return nil, l.errf(n, at, "the list is empty")
		}
		texts := make([]string, 0, len(n.Content))
		mixed := make([]any, 0, len(n.Content))
		allText := true
		for i, el := range n.Content {
			v, err := l.staticScalar(el, fmt.Sprintf("%s[%d]", at, i))
			if err != nil {
				return nil, err
			}
			if s, ok := v.(string); ok {
				texts = append(texts, s)
			} else {
				allText = false
			}
			mixed = append(mixed, v)
		}
		if allText {
			return texts, nil
		}
		return mixed, nil
	}
	return l.staticScalar(n, at)
}

func (l *loader) staticScalar(n *yaml.Node, at string) (any, error) {
	n = deref(n)
	if _, err := l.text(n, at); err != nil {
		return nil, err
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, l.errf(n, at, "%v", err)
	}
	switch x := v.(type) {
	case string, bool, float64:
		return x, nil
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case uint64:
		if x > 1<<63-1 {
			return float64(x), nil
		}
		return int64(x), nil
	}
	// Anything else YAML recognises (a timestamp, say) is kept as written.
	return n.Value, nil
}

func formatName(f format) string {
	for name, v := range formatNames {
		if v == f {
			return name
		}
	}
	return "?"
}

// known reports whether key is one of a ", "-separated list of settings.
func known(list, key string) bool {
	for k := range strings.SplitSeq(list, ", ") {
		if k == key {
			return true
		}
	}
	return false
}
