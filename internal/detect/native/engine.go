package native

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mamori-sec/mamori/internal/detect"
	"github.com/mamori-sec/mamori/internal/detect/correlate"
	"github.com/mamori-sec/mamori/internal/detect/sigma"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/query"
)

// Options configure an Engine.
type Options struct {
	// Now stamps matches of events without @timestamp; nil means time.Now.
	Now func() time.Time
	// MaxGroups, MaxEntries and MaxEventIDs bound each threshold rule's
	// state (see correlate.Config); zero means the defaults (10,000
	// groups, 1,000,000 entries, 100 event ids a match).
	MaxGroups, MaxEntries, MaxEventIDs int
}

// Engine evaluates native rules. Build it with New; Evaluate is safe for
// concurrent use (each threshold rule's state has its own lock).
type Engine struct {
	opts  Options
	rules []*compiled
	// byDataset lists the rules each dataset's events meet; anyDataset
	// the rules without a datasets list, which meet every event.
	byDataset  map[string][]*compiled
	anyDataset []*compiled
	evaluated  atomic.Uint64
	matched    atomic.Uint64
}

// compiled is a rule ready to run.
type compiled struct {
	rule    *Rule
	info    *sigma.Rule
	matcher *query.Matcher
	title   template
	summary template
	state   *correlate.State // threshold > 1
	matched atomic.Uint64
}

// compileRule checks a rule and prepares what Evaluate needs.
func compileRule(r *Rule) (*compiled, error) {
	at := func(key, format string, args ...any) *Error {
		e := r.errorf(format, args...)
		e.Key = key
		return e
	}
	if r.ID == "" {
		return nil, r.errorf("the rule has no id")
	}
	if err := checkID(r.ID); err != nil {
		return nil, at("id", "id %q: %v", r.ID, err)
	}
	if strings.TrimSpace(r.Title) == "" {
		return nil, at("title", "the rule has no title")
	}
	if strings.TrimSpace(r.Query) == "" {
		return nil, at("query", "the rule has no query")
	}
	node, err := query.Parse(r.Query)
	if err != nil {
		return nil, at("query", "query: %v", err)
	}
	m, err := query.NewMatcher(node)
	if err != nil {
		return nil, at("query", "query: %v", err)
	}
	// A copy, so that changing the Rule after New changes nothing.
	rc := *r
	c := &compiled{rule: &rc, matcher: m}
	if c.title, err = parseTemplate(r.Title); err != nil {
		return nil, at("title", "title: %v", err)
	}
	if c.summary, err = parseTemplate(r.Summary); err != nil {
		return nil, at("summary", "summary: %v", err)
	}
	if r.Threshold < 1 || r.Threshold > MaxThreshold {
		return nil, at("threshold", "threshold %d: want 1 to %d", r.Threshold, MaxThreshold)
	}
	if r.Window < 0 || r.Window > MaxWindow {
		return nil, at("window", "window %s: want up to %s", r.Window, formatDuration(MaxWindow))
	}
	if r.Threshold > 1 && r.Window == 0 {
		return nil, at("threshold", "a threshold above 1 needs a window (window: 10m)")
	}
	for _, f := range r.GroupBy {
		if err := checkPlaceholder(f); err != nil {
			return nil, at("group_by", "group_by %q is not a field name", f)
		}
	}
	for _, d := range r.Datasets {
		if strings.TrimSpace(d) == "" || strings.ContainsAny(d, " \t") {
			return nil, at("datasets", "dataset %q is not a dataset name", d)
		}
	}
	if err := checkSeverity(&r.Severity); err != nil {
		return nil, at("severity", "severity: %v", err)
	}
	if r.MinSeverity != "" && r.MinSeverity.Rank() < 0 {
		return nil, at("min_severity", "min_severity %q is not one of informational, low, medium, high, critical", r.MinSeverity)
	}
	c.info = rc.Info()
	return c, nil
}

func checkSeverity(s *Severity) error {
	if s.Level.Rank() < 0 {
		return fmt.Errorf("level %q is not one of informational, low, medium, high, critical", s.Level)
	}
	for v, l := range s.Values {
		if l.Rank() < 0 {
			return fmt.Errorf("level %q for %q is not a level", l, v)
		}
	}
	for _, b := range s.AtLeast {
		if b.Level.Rank() < 0 {
			return fmt.Errorf("level %q for at least %g is not a level", b.Level, b.Min)
		}
	}
	if len(s.Fields) == 0 && (len(s.Values) > 0 || len(s.AtLeast) > 0) {
		return fmt.Errorf("values or at_least without a field to read")
	}
	return nil
}

// New compiles rules into an engine. Rules that do not compile, or whose
// id another rule already has, are left out and returned with their
// reasons; every other rule loads.
func New(rules []*Rule, opts Options) (*Engine, []detect.Rejection) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := &Engine{opts: opts, byDataset: map[string][]*compiled{}}
	var rejected []detect.Rejection
	seen := map[string]*Rule{}
	for _, r := range rules {
		reject := func(reason string) {
			rejected = append(rejected, detect.Rejection{File: r.File, Line: r.Line, ID: r.ID, Title: r.Title, Author: r.Author, Reason: reason})
		}
		c, err := compileRule(r)
		if err != nil {
			if ne, ok := AsError(err); ok {
				reject(ne.Reason())
			} else {
				reject(err.Error())
			}
			continue
		}
		if o, dup := seen[r.ID]; dup {
			reject(fmt.Sprintf("id %s is also the id of %q (%s:%d)", r.ID, o.Title, o.File, o.Line))
			continue
		}
		seen[r.ID] = r
		if r.Threshold > 1 {
			c.state = correlate.New(correlate.Config{
				Kind:       correlate.EventCount,
				Rules:      1,
				Window:     r.Window,
				Min:        r.Threshold,
				MaxGroups:  opts.MaxGroups,
				MaxEntries: opts.MaxEntries,
				MaxIDs:     opts.MaxEventIDs,
				Now:        opts.Now,
			})
		}
		e.rules = append(e.rules, c)
		if len(r.Datasets) == 0 {
			e.anyDataset = append(e.anyDataset, c)
			continue
		}
		for _, d := range dedupe(r.Datasets) {
			e.byDataset[d] = append(e.byDataset[d], c)
		}
	}
	return e, rejected
}

func dedupe(list []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Evaluate runs the rules over a batch of events and returns what matched,
// in event order.
func (e *Engine) Evaluate(evs []*event.Event) []detect.Match {
	var out []detect.Match
	for _, ev := range evs {
		list := e.byDataset[ev.String(event.FieldDataset)]
		if len(list) == 0 && len(e.anyDataset) == 0 {
			continue
		}
		e.evaluated.Add(1)
		for _, c := range list {
			out = e.evaluate(out, c, ev)
		}
		for _, c := range e.anyDataset {
			out = e.evaluate(out, c, ev)
		}
	}
	return out
}

func (e *Engine) evaluate(out []detect.Match, c *compiled, ev *event.Event) []detect.Match {
	if !c.matcher.Match(ev) {
		return out
	}
	r := c.rule
	sev := r.Severity.level(ev)
	if r.MinSeverity != "" && sev.Rank() < r.MinSeverity.Rank() {
		return out
	}
	groups, key, complete := groupOf(r.GroupBy, ev)
	t := ev.Time()
	if t.IsZero() {
		t = e.opts.Now()
	}
	id := ev.String(event.FieldID)
	if c.state == nil {
		e.matched.Add(1)
		c.matched.Add(1)
		return append(out, c.match(ev, sev, groups, t, 1, nil, t, t))
	}
	if !complete {
		// Like a SIEM's "by" clause (and Sigma correlations), an event
		// without a group-by value is not counted.
		return out
	}
	hit := correlate.Hit{Time: t}
	if id != "" {
		hit.IDs = []string{id}
	}
	fire, ok := c.state.Observe(key, hit)
	if !ok {
		return out
	}
	e.matched.Add(1)
	c.matched.Add(1)
	return append(out, c.match(ev, sev, groups, t, fire.Count, fire.IDs, fire.First, fire.Last))
}

// groupOf reads the group-by values of an event (a list's values joined
// with ","), the group's key, and whether every value was present; a
// missing value is "".
func groupOf(fields []string, ev *event.Event) ([]detect.GroupValue, string, bool) {
	if len(fields) == 0 {
		return nil, "", true
	}
	groups := make([]detect.GroupValue, len(fields))
	var key strings.Builder
	complete := true
	for i, f := range fields {
		start := key.Len()
		if !writeValue(&key, ev, f, ",") {
			complete = false
		}
		groups[i] = detect.GroupValue{Field: f, Value: key.String()[start:]}
		key.WriteByte(0x1f)
	}
	return groups, key.String(), complete
}

func (c *compiled) match(ev *event.Event, sev sigma.Level, groups []detect.GroupValue, t time.Time, count int, ids []string, first, last time.Time) detect.Match {
	r := c.rule
	f := &fill{ev: ev, count: count, threshold: r.Threshold, window: r.Window, severity: string(sev), first: first, last: last}
	m := detect.Match{
		Rule:     c.info,
		Severity: sev,
		Event:    ev,
		EventID:  ev.String(event.FieldID),
		Time:     t,
		GroupBy:  groups,
		Title:    c.title.render(f),
		Summary:  c.summary.render(f),
	}
	if c.state != nil {
		// A threshold match stands for the events it counted, as a
		// correlation's does.
		m.Correlation = true
		m.EventIDs = ids
		m.Count = count
		m.First, m.Last = first, last
	}
	return m
}

// Rules describes every loaded rule, in load order, as the Sigma engine
// does: every native rule is active and raises its own matches.
func (e *Engine) Rules() []detect.RuleInfo {
	out := make([]detect.RuleInfo, 0, len(e.rules))
	for _, c := range e.rules {
		out = append(out, detect.RuleInfo{Rule: c.info, Datasets: c.rule.Datasets, Active: true, Emits: true})
	}
	return out
}

// Stats are the engine's counters.
type Stats struct {
	// Evaluated counts events that met at least one rule; Matched the
	// matches raised.
	Evaluated, Matched uint64
	// Rules are each rule's counters, by id.
	Rules map[string]RuleStats
}

// RuleStats are one rule's counters.
type RuleStats struct {
	Matched uint64
	// Threshold is the threshold state's counters (groups held,
	// evictions, late events), for rules with a threshold above 1.
	Threshold *correlate.Stats
}

// Stats returns the counters.
func (e *Engine) Stats() Stats {
	st := Stats{Evaluated: e.evaluated.Load(), Matched: e.matched.Load(), Rules: map[string]RuleStats{}}
	for _, c := range e.rules {
		rs := RuleStats{Matched: c.matched.Load()}
		if c.state != nil {
			s := c.state.Stats()
			rs.Threshold = &s
		}
		st.Rules[c.rule.ID] = rs
	}
	return st
}
