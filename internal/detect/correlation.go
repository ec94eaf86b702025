package detect

import (
	"fmt"
	"strings"

	"github.com/mamori-sec/mamori/internal/detect/correlate"
	"github.com/mamori-sec/mamori/internal/detect/sigma"
	"github.com/mamori-sec/mamori/internal/event"
)

// corrState is a loaded correlation rule.
type corrState struct {
	spec *sigma.Correlation
	refs []*ruleState
	// groupBy are the group-by names as the rule writes them; fields[i][j]
	// are the ECS fields holding group-by j in events of rule i, and
	// inner[i][j] the name to look for in rule i's own group values when
	// rule i is itself a correlation.
	groupBy []string
	fields  [][][]string
	inner   [][]string
	// valueFields[i] hold value_count's field in events of rule i.
	valueFields [][]string
	state       *correlate.State
	datasets    []string
	severity    sigma.Level
}

var kinds = map[sigma.CorrelationType]correlate.Kind{
	sigma.EventCount:      correlate.EventCount,
	sigma.ValueCount:      correlate.ValueCount,
	sigma.Temporal:        correlate.Temporal,
	sigma.TemporalOrdered: correlate.TemporalOrdered,
}

// bindCorrelations resolves each correlation's rules (by id or name), in
// dependency order, and drops the correlations that cannot run: unknown
// rules, cycles, aliases without a field.
func (e *Engine) bindCorrelations(byRef map[string]*ruleState) []Rejection {
	const (
		unvisited = iota
		visiting
		bound
		failed
	)
	status := map[*ruleState]int{}
	reasons := map[*ruleState]string{}
	var bind func(rs *ruleState) bool
	bind = func(rs *ruleState) bool {
		switch status[rs] {
		case bound:
			return true
		case failed:
			return false
		case visiting:
			reasons[rs] = "correlations refer to each other in a cycle"
			status[rs] = failed
			return false
		}
		if rs.rule.Correlation == nil {
			status[rs] = bound
			return true
		}
		status[rs] = visiting
		reason := e.bindOne(rs, byRef, bind)
		if status[rs] == failed { // a cycle came back to this rule
			reason = reasons[rs]
		}
		if reason != "" {
			reasons[rs] = reason
			status[rs] = failed
			return false
		}
		status[rs] = bound
		return true
	}
	for _, rs := range e.rules {
		bind(rs)
	}
	var rejected []Rejection
	kept := e.rules[:0]
	for _, rs := range e.rules {
		if status[rs] == failed {
			r := rs.rule
			rejected = append(rejected, Rejection{File: r.File, Line: r.Line, ID: r.ID, Title: r.Title, Author: r.Author, Reason: reasons[rs]})
			continue
		}
		kept = append(kept, rs)
	}
	e.rules = kept
	// A rule that correlations count raises matches of its own only when
	// one of them says generate: true.
	consumed := map[*ruleState]bool{}
	generate := map[*ruleState]bool{}
	for _, rs := range e.rules {
		if rs.corr == nil {
			continue
		}
		for i, ref := range rs.corr.refs {
			consumed[ref] = true
			generate[ref] = generate[ref] || rs.corr.spec.Generate
			ref.feeds = append(ref.feeds, feed{corr: rs, index: i})
		}
	}
	for rs := range consumed {
		rs.emits = generate[rs]
	}
	return rejected
}

// bindOne binds one correlation; it returns why it cannot run, or "".
func (e *Engine) bindOne(rs *ruleState, byRef map[string]*ruleState, bind func(*ruleState) bool) string {
	spec := rs.rule.Correlation
	c := &corrState{spec: spec, groupBy: spec.GroupBy}
	for _, name := range spec.Rules {
		ref, ok := byRef[name]
		if !ok {
			return fmt.Sprintf("correlation counts rule %q, which is not loaded (no rule has that id or name, or it was rejected)", name)
		}
		if ref == rs {
			return "correlation counts itself"
		}
		if !bind(ref) {
			return fmt.Sprintf("correlation counts rule %q, which cannot run", name)
		}
		c.refs = append(c.refs, ref)
	}
	rs.active = true
	seen := map[string]bool{}
	for _, ref := range c.refs {
		if !ref.active && rs.active {
			rs.active = false
			rs.inactive = fmt.Sprintf("counts %q, which is inactive: %s", ref.rule.Title, ref.inactive)
		}
		for _, d := range ref.datasets() {
			if !seen[d] {
				seen[d] = true
				c.datasets = append(c.datasets, d)
			}
		}
		if ref.rule.Level.Rank() > c.severity.Rank() {
			c.severity = ref.rule.Level
		}
	}
	if rs.rule.Level != "" {
		c.severity = rs.rule.Level
	}
	for _, ref := range c.refs {
		var fields [][]string
		var inner []string
		for _, g := range spec.GroupBy {
			name, err := aliasFor(spec, g, ref)
			if err != "" {
				return err
			}
			fields = append(fields, refFields(ref, name))
			inner = append(inner, name)
		}
		c.fields = append(c.fields, fields)
		c.inner = append(c.inner, inner)
		if spec.Type == sigma.ValueCount {
			name, err := aliasFor(spec, spec.Field, ref)
			if err != "" {
				return err
			}
			c.valueFields = append(c.valueFields, refFields(ref, name))
		}
	}
	c.state = correlate.New(correlate.Config{
		Kind:       kinds[spec.Type],
		Rules:      len(c.refs),
		Window:     spec.Timespan,
		Min:        int(spec.Condition.Min),
		MaxGroups:  e.opts.MaxGroups,
		MaxEntries: e.opts.MaxEntries,
		MaxIDs:     e.opts.MaxEventIDs,
		Now:        e.opts.Now,
	})
	rs.corr = c
	return ""
}

// aliasFor returns the field name a group-by (or value) name stands for in
// events of ref: the alias's entry for the rule, else the name itself.
func aliasFor(spec *sigma.Correlation, name string, ref *ruleState) (string, string) {
	a, ok := spec.Aliases[name]
	if !ok {
		return name, ""
	}
	for _, key := range []string{ref.rule.Name, ref.rule.ID} {
		if key == "" {
			continue
		}
		if f, ok := a[key]; ok {
			return f, ""
		}
	}
	return "", fmt.Sprintf("alias %q gives no field for rule %q (aliases are keyed by rule name)", name, ref.rule.Ref())
}

// refFields maps a Sigma field name through a rule's tables; for a
// correlation, through the first detection rule it counts.
func refFields(ref *ruleState, name string) []string {
	for ref.corr != nil && len(ref.corr.refs) > 0 {
		ref = ref.corr.refs[0]
	}
	if ref.source.Fields == nil {
		return []string{name}
	}
	return ref.source.Fields.Fields(name)
}

// observe counts a match of rule src (the correlation's rules[f.index]) and
// returns the correlation's match when it fires. inner is src's own
// correlation match when src is a correlation.
func (c *corrState) observe(e *Engine, f feed, src *ruleState, ev *event.Event, inner *Match) (Match, bool) {
	groups := make([]GroupValue, len(c.groupBy))
	var key strings.Builder
	for j, g := range c.groupBy {
		v, ok := c.groupValue(f.index, j, ev, inner)
		if !ok {
			// Like a SIEM's "by" clause, an event without a group-by
			// value is not counted.
			return Match{}, false
		}
		groups[j] = GroupValue{Field: g, Value: v}
		key.WriteString(v)
		key.WriteByte(0x1f)
	}
	hit := correlate.Hit{Rule: f.index, Time: e.eventTime(ev)}
	if inner != nil {
		hit.IDs = inner.EventIDs
		hit.Time = inner.Time
	} else if id := ev.String(event.FieldID); id != "" {
		hit.IDs = []string{id}
	}
	if c.spec.Type == sigma.ValueCount {
		v, ok := firstValue(ev, c.valueFields[f.index])
		if !ok {
			return Match{}, false
		}
		hit.Value = v
	}
	fire, ok := c.state.Observe(key.String(), hit)
	if !ok {
		return Match{}, false
	}
	rs := f.corr
	return Match{
		Rule:        rs.rule,
		Severity:    severity(c.severity),
		Event:       ev,
		EventID:     ev.String(event.FieldID),
		Time:        hit.Time,
		Correlation: true,
		GroupBy:     groups,
		EventIDs:    fire.IDs,
		Count:       fire.Count,
		First:       fire.First,
		Last:        fire.Last,
	}, true
}

// groupValue finds group-by j's value for a hit of rule i: in the inner
// correlation's own group values first, then in the event.
func (c *corrState) groupValue(i, j int, ev *event.Event, inner *Match) (string, bool) {
	if inner != nil {
		for _, g := range inner.GroupBy {
			if g.Field == c.inner[i][j] {
				return g.Value, true
			}
		}
	}
	return firstValue(ev, c.fields[i][j])
}

// firstValue is the first of fields the event has, as text (a list's
// values joined with ",").
func firstValue(ev *event.Event, fields []string) (string, bool) {
	for _, f := range fields {
		if vs := ev.Strings(f); len(vs) > 0 {
			return strings.Join(vs, ","), true
		}
	}
	return "", false
}
