package sigma

import (
	"strconv"
	"strings"
	"time"
)

// MaxThreshold bounds a correlation's count: state per group grows with
// it, and mamori keeps correlation state bounded.
const MaxThreshold = 100_000

var correlationKeys = map[string]bool{
	"type": true, "rules": true, "group-by": true, "timespan": true, "condition": true,
	"field": true, "generate": true, "aliases": true,
}

func (p *parser) correlation(n *node) (*Correlation, error) {
	if n.kind != mappingNode {
		return nil, p.errAt(n, "correlation: want a mapping, found %s", n.describe())
	}
	for _, k := range n.keys {
		if !correlationKeys[k.value] {
			return nil, p.errAt(k, "correlation: unknown key %q (want type, rules, group-by, timespan, condition, field, generate, aliases)", k.value)
		}
	}
	c := &Correlation{}
	tn := n.get("type")
	if tn == nil {
		return nil, p.errAt(n, "correlation has no type")
	}
	typ, err := p.text(tn, "correlation type")
	if err != nil {
		return nil, err
	}
	c.Type = CorrelationType(typ)
	switch c.Type {
	case EventCount, ValueCount, Temporal, TemporalOrdered:
	default:
		return nil, p.errAt(tn, "correlation type %q: mamori evaluates event_count, value_count, temporal and temporal_ordered", typ)
	}
	if c.Rules, err = p.textList(n.get("rules"), "correlation rules"); err != nil {
		return nil, err
	}
	if len(c.Rules) == 0 {
		return nil, p.errAt(n, "correlation names no rules")
	}
	if c.GroupBy, err = p.textList(n.get("group-by"), "group-by"); err != nil {
		return nil, err
	}
	sn := n.get("timespan")
	if sn == nil {
		return nil, p.errAt(n, "correlation has no timespan")
	}
	span, err := p.text(sn, "timespan")
	if err != nil {
		return nil, err
	}
	if c.Timespan, err = parseTimespan(span); err != nil {
		return nil, p.errAt(sn, "timespan %q: %v", span, err)
	}
	if g := n.get("generate"); !g.isNull() {
		if g.kind != scalarNode || g.tag != "!!bool" {
			return nil, p.errAt(g, "generate: want true or false, found %s", g.describe())
		}
		c.Generate = g.value == "true" || g.value == "True" || g.value == "TRUE"
	}
	if c.Field, err = p.optText(n.get("field"), "field"); err != nil {
		return nil, err
	}
	if err := p.threshold(c, n.get("condition"), n); err != nil {
		return nil, err
	}
	if c.Type == ValueCount && c.Field == "" {
		return nil, p.errAt(n, "value_count needs the field whose distinct values it counts (condition: {field: ..., gte: N})")
	}
	if c.Type != ValueCount && c.Field != "" {
		return nil, p.errAt(n, "field is for value_count correlations, not %s", c.Type)
	}
	if a := n.get("aliases"); !a.isNull() {
		if c.Aliases, err = p.aliases(a); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (p *parser) threshold(c *Correlation, n, parent *node) error {
	temporal := c.Type == Temporal || c.Type == TemporalOrdered
	if n.isNull() {
		if temporal {
			// Without a condition every correlated rule must match.
			c.Condition = Threshold{Min: int64(len(c.Rules)), Text: "all rules"}
			return nil
		}
		return p.errAt(parent, "%s needs a condition (for example gte: 10)", c.Type)
	}
	if n.kind != mappingNode {
		return p.errAt(n, "condition: want a mapping such as {gte: 10}, found %s", n.describe())
	}
	var min int64
	var text []string
	for i, k := range n.keys {
		v := n.vals[i]
		if k.value == "field" {
			f, err := p.text(v, "condition field")
			if err != nil {
				return err
			}
			c.Field = f
			continue
		}
		num, err := p.count(v, k.value)
		if err != nil {
			return err
		}
		text = append(text, k.value+" "+strconv.FormatInt(num, 10))
		switch k.value {
		case "gte":
			min = max(min, num)
		case "gt":
			min = max(min, num+1)
		case "lt", "lte", "eq", "neq":
			return p.errAt(k, "condition %s: a count that must stay low is only known when its window closes; mamori evaluates correlations as events arrive and supports gt and gte", k.value)
		default:
			return p.errAt(k, "condition: unknown operator %q (want gt, gte, lt, lte, eq, neq)", k.value)
		}
	}
	if min < 1 {
		return p.errAt(n, "condition names no threshold (gte: N or gt: N)")
	}
	if min > MaxThreshold {
		return p.errAt(n, "condition threshold %d is above mamori's bound of %d events a group", min, MaxThreshold)
	}
	if temporal && min > int64(len(c.Rules)) {
		return p.errAt(n, "condition asks for %d distinct rules but the correlation names %d", min, len(c.Rules))
	}
	c.Condition = Threshold{Min: min, Text: strings.Join(text, " and ")}
	return nil
}

func (p *parser) count(v *node, op string) (int64, error) {
	if v.kind != scalarNode || (v.tag != "!!int" && v.tag != "!!str") {
		return 0, p.errAt(v, "condition %s: want a whole number, found %s", op, v.describe())
	}
	n, err := strconv.ParseInt(v.value, 10, 64)
	if err != nil || n < 0 || n > 1<<40 {
		return 0, p.errAt(v, "condition %s: want a whole number, found %q", op, v.value)
	}
	return n, nil
}

func (p *parser) aliases(n *node) (map[string]map[string]string, error) {
	if n.kind != mappingNode {
		return nil, p.errAt(n, "aliases: want alias: {rule: field}, found %s", n.describe())
	}
	out := make(map[string]map[string]string, len(n.keys))
	for i, k := range n.keys {
		v := n.vals[i]
		if v.kind != mappingNode {
			return nil, p.errAt(v, "alias %q: want {rule name: field}, found %s", k.value, v.describe())
		}
		m := make(map[string]string, len(v.keys))
		for j, rk := range v.keys {
			f, err := p.text(v.vals[j], "alias field")
			if err != nil {
				return nil, err
			}
			m[rk.value] = f
		}
		out[k.value] = m
	}
	return out, nil
}

// parseTimespan reads Sigma's "number + unit" (s, m, h, d; w for weeks).
func parseTimespan(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, errString("want a number and a unit (s, m, h, d), such as 5m")
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || n <= 0 {
		return 0, errString("want a positive whole number before the unit")
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 's':
		unit = time.Second
	case 'm':
		unit = time.Minute
	case 'h':
		unit = time.Hour
	case 'd':
		unit = 24 * time.Hour
	case 'w':
		unit = 7 * 24 * time.Hour
	default:
		return 0, errString("unknown unit; want s, m, h or d")
	}
	const maxSpan = 366 * 24 * time.Hour
	if n > int64(maxSpan/unit) {
		return 0, errString("longer than a year")
	}
	return time.Duration(n) * unit, nil
}

type errString string

func (e errString) Error() string { return string(e) }
