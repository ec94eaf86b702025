// Package detect runs Sigma rules over mamori's ECS events as they are
// stored: detection rules match single events, correlation rules count
// matches over time. It outputs matches; alerting, grouping and
// notification are the alert package's.
//
// Wiring: build an Engine once from the rule files (Load, or sigma.Parse
// and New), then hand every committed batch to Evaluate, for example from
// the processor's OnCommit hook:
//
//	eng, report, err := detect.Load(paths, detect.Options{})
//	proc.OnCommit = func(ctx context.Context, b pipeline.Committed) {
//		for _, m := range eng.Evaluate(b.Events) {
//			alerts.Raise(ctx, m) // the alert package's job
//		}
//	}
//
// Evaluate is safe for concurrent use. Detection is stateless; each
// correlation's state sits behind its own lock, so batches evaluated
// concurrently interleave their hits in no particular order (event time,
// not arrival order, decides windows).
package detect

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mamori-sec/mamori/internal/detect/correlate"
	"github.com/mamori-sec/mamori/internal/detect/fieldmap"
	"github.com/mamori-sec/mamori/internal/detect/sigma"
	"github.com/mamori-sec/mamori/internal/event"
)

// Options configure an Engine.
type Options struct {
	// Fields are the logsource and field tables; nil means the built-in
	// tables (fieldmap.Builtin).
	Fields *fieldmap.Map
	// Placeholders are the values of Sigma `expand` placeholders
	// ("Servers" for %Servers%). Rules using others are rejected.
	Placeholders map[string][]string
	// KeywordFields are the fields keyword selections search, the first
	// present one of an event; nil means message, then event.original.
	KeywordFields []string
	// Now stamps hits of events without @timestamp; nil means time.Now.
	Now func() time.Time
	// MaxGroups, MaxEntries and MaxEventIDs bound each correlation's
	// state (see correlate.Config); zero means the defaults.
	MaxGroups, MaxEntries, MaxEventIDs int
}

// Match is one rule firing.
type Match struct {
	Rule *sigma.Rule
	// Severity is the rule's level ("medium" when it has none).
	Severity sigma.Level
	// Event is the event that matched; for a correlation, the one that
	// completed it.
	Event *event.Event
	// EventID is Event's event.id.
	EventID string
	// Time is Event's @timestamp (or when it was evaluated, without one).
	Time time.Time
	// Correlation is set for a correlation rule's match.
	Correlation bool
	// GroupBy holds a correlation's group-by fields and their values.
	GroupBy []GroupValue
	// EventIDs are the events a correlation counted (the latest ones, at
	// most Options.MaxEventIDs).
	EventIDs []string
	// Count is what reached a correlation's threshold: events, distinct
	// values, or rules.
	Count int
	// First and Last bound the correlated events' times.
	First, Last time.Time
	// Title and Summary are the rule's title and summary templates
	// rendered for this match, for rules that have them (native rules);
	// "" for Sigma rules, whose title is Rule.Title.
	Title, Summary string
}

// GroupValue is one group-by field of a correlation match.
type GroupValue struct {
	Field string
	Value string
}

// Engine evaluates a set of rules. Build it with New or Load.
type Engine struct {
	opts  Options
	rules []*ruleState // every loaded rule, in load order
	// byDataset lists the active detection rules each dataset's events
	// meet, with the conditions their logsource adds.
	byDataset map[string][]target
	scratch   sync.Pool
	evaluated atomic.Uint64
	matched   atomic.Uint64
}

// ruleState is a loaded rule.
type ruleState struct {
	rule    *sigma.Rule
	source  fieldmap.Source
	matcher *sigma.Matcher // detection rules
	corr    *corrState     // correlation rules
	// emits says the rule raises matches of its own: detection rules
	// that no correlation consumes without `generate: true`, and
	// correlations no other correlation consumes.
	emits bool
	// feeds are the correlations counting this rule's matches.
	feeds []feed
	// unmapped are Sigma fields with no table entry.
	unmapped []Unmapped
	active   bool
	inactive string
}

type feed struct {
	corr  *ruleState
	index int // the rule's position in the correlation's rules
}

type target struct {
	rs    *ruleState
	where []fieldmap.Cond
}

// Rejection is a rule that did not load, and why.
type Rejection struct {
	File   string
	Line   int
	ID     string
	Title  string
	Author string
	Reason string
}

func (r Rejection) String() string {
	loc := r.File
	if r.Line > 0 {
		loc = fmt.Sprintf("%s:%d", r.File, r.Line)
	}
	name := r.Title
	if name == "" {
		name = r.ID
	}
	if name == "" {
		return loc + ": " + r.Reason
	}
	return fmt.Sprintf("%s: %q: %s", loc, name, r.Reason)
}

// New compiles rules into an engine. Rules that cannot be compiled, or
// that conflict with others (a duplicate id), are left out and returned
// with their reasons; every other rule loads.
func New(rules []*sigma.Rule, opts Options) (*Engine, []Rejection) {
	if opts.Fields == nil {
		m, err := fieldmap.Builtin()
		if err != nil {
			// The shipped tables are tested; failing here is a build bug.
			panic(err)
		}
		opts.Fields = m
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	e := &Engine{opts: opts, byDataset: map[string][]target{}}
	e.scratch.New = func() any { return new(sigma.Scratch) }
	var rejected []Rejection
	reject := func(r *sigma.Rule, reason string) {
		rejected = append(rejected, Rejection{File: r.File, Line: r.Line, ID: r.ID, Title: r.Title, Author: r.Author, Reason: reason})
	}
	byRef := map[string]*ruleState{}
	seenID := map[string]*sigma.Rule{}
	seenName := map[string]*sigma.Rule{}
	for _, r := range rules {
		if r.Status == "unsupported" {
			reject(r, "status: unsupported (the rule's authors mark it unusable as it is)")
			continue
		}
		if r.ID != "" {
			if o, dup := seenID[r.ID]; dup {
				reject(r, fmt.Sprintf("id %s is also the id of %q (%s:%d)", r.ID, o.Title, o.File, o.Line))
				continue
			}
		}
		if r.Name != "" {
			if o, dup := seenName[r.Name]; dup {
				reject(r, fmt.Sprintf("name %s is also the name of %q (%s:%d)", r.Name, o.Title, o.File, o.Line))
				continue
			}
		}
		rs := &ruleState{rule: r, emits: true}
		if r.Detection != nil {
			if reason := e.compileDetection(rs); reason != "" {
				reject(r, reason)
				continue
			}
		}
		if r.ID != "" {
			seenID[r.ID] = r
			byRef[r.ID] = rs
		}
		if r.Name != "" {
			seenName[r.Name] = r
			byRef[r.Name] = rs
		}
		e.rules = append(e.rules, rs)
	}
	rejected = append(rejected, e.bindCorrelations(byRef)...)
	for _, rs := range e.rules {
		if rs.rule.Detection == nil || !rs.active {
			continue
		}
		for _, t := range rs.source.Targets {
			e.byDataset[t.Dataset] = append(e.byDataset[t.Dataset], target{rs: rs, where: t.Where})
		}
	}
	return e, rejected
}

func (e *Engine) compileDetection(rs *ruleState) string {
	r := rs.rule
	ls := r.Logsource
	rs.source = e.opts.Fields.Lookup(ls.Product, ls.Service, ls.Category)
	m, err := sigma.Compile(r, sigma.CompileOptions{
		Fields:        rs.source.Fields,
		KeywordFields: e.opts.KeywordFields,
		Placeholders:  e.opts.Placeholders,
	})
	if err != nil {
		if se, ok := sigma.AsError(err); ok {
			return se.Reason()
		}
		return err.Error()
	}
	rs.matcher = m
	rs.active = rs.source.Active()
	rs.inactive = rs.source.Inactive
	for _, f := range r.Detection.FieldNames() {
		if !rs.source.Fields.Mapped(f) {
			rs.unmapped = append(rs.unmapped, Unmapped{Name: f, Fields: rs.source.Fields.Fields(f)})
		}
	}
	return ""
}

// Evaluate runs the rules over a batch of events and returns what matched,
// in event order (a correlation's match follows the match that completed
// it).
func (e *Engine) Evaluate(evs []*event.Event) []Match {
	var out []Match
	s := e.scratch.Get().(*sigma.Scratch)
	defer e.scratch.Put(s)
	for _, ev := range evs {
		list := e.byDataset[ev.String(event.FieldDataset)]
		if len(list) == 0 {
			continue
		}
		e.evaluated.Add(1)
		s.Reset(ev)
		for _, t := range list {
			if !whereHolds(ev, t.where) || !t.rs.matcher.MatchScratch(s) {
				continue
			}
			e.matched.Add(1)
			out = e.matchedRule(out, t.rs, ev, nil)
		}
	}
	return out
}

// matchedRule records a rule's match: its own Match when it emits, and a
// hit in every correlation it feeds (which may fire and feed others).
// inner is the correlation match that stands for this rule's match when
// the rule is itself a correlation.
func (e *Engine) matchedRule(out []Match, rs *ruleState, ev *event.Event, inner *Match) []Match {
	if rs.emits {
		if inner != nil {
			out = append(out, *inner)
		} else {
			out = append(out, e.newMatch(rs, ev))
		}
	}
	for _, f := range rs.feeds {
		if m, ok := f.corr.corr.observe(e, f, rs, ev, inner); ok {
			out = e.matchedRule(out, f.corr, ev, &m)
		}
	}
	return out
}

func (e *Engine) newMatch(rs *ruleState, ev *event.Event) Match {
	return Match{
		Rule:     rs.rule,
		Severity: severity(rs.rule.Level),
		Event:    ev,
		EventID:  ev.String(event.FieldID),
		Time:     e.eventTime(ev),
	}
}

func (e *Engine) eventTime(ev *event.Event) time.Time {
	if t := ev.Time(); !t.IsZero() {
		return t
	}
	return e.opts.Now()
}

func severity(l sigma.Level) sigma.Level {
	if l == "" {
		return sigma.LevelMedium
	}
	return l
}

// whereHolds checks a logsource's extra conditions (a service's program,
// a log type): each field holds one of its values (a list field in any
// element).
func whereHolds(ev *event.Event, where []fieldmap.Cond) bool {
	for _, c := range where {
		if !holdsAny(ev, c) {
			return false
		}
	}
	return true
}

func holdsAny(ev *event.Event, c fieldmap.Cond) bool {
	if v := ev.String(c.Field); v != "" {
		for _, want := range c.Values {
			if strings.EqualFold(v, want) {
				return true
			}
		}
		return false
	}
	for _, v := range ev.Strings(c.Field) {
		for _, want := range c.Values {
			if strings.EqualFold(v, want) {
				return true
			}
		}
	}
	return false
}

// RuleInfo describes a loaded rule.
type RuleInfo struct {
	Rule *sigma.Rule
	// Datasets are the datasets the rule runs on; none when inactive.
	Datasets []string
	// Active says the rule runs: its logsource maps to datasets (and, for
	// a correlation, every rule it counts is active).
	Active bool
	// Inactive says why a rule does not run.
	Inactive string
	// Emits says the rule raises matches of its own (see Match).
	Emits bool
	// Unmapped lists the Sigma fields the tables have no entry for.
	Unmapped []Unmapped
}

// Unmapped is a Sigma field without a table entry and the fields it is
// looked up in instead: the table's fallbacks, then its own name.
type Unmapped struct {
	Name   string
	Fields []string
}

// Rules describes every loaded rule, in load order.
func (e *Engine) Rules() []RuleInfo {
	out := make([]RuleInfo, 0, len(e.rules))
	for _, rs := range e.rules {
		info := RuleInfo{Rule: rs.rule, Active: rs.active, Inactive: rs.inactive, Emits: rs.emits, Unmapped: rs.unmapped}
		if rs.active {
			info.Datasets = rs.datasets()
		}
		out = append(out, info)
	}
	return out
}

func (rs *ruleState) datasets() []string {
	if rs.corr != nil {
		return rs.corr.datasets
	}
	var out []string
	for _, t := range rs.source.Targets {
		out = append(out, t.Dataset)
	}
	return out
}

// Stats are the engine's counters.
type Stats struct {
	// Evaluated counts events that met at least one rule; Matched the
	// detection rule matches.
	Evaluated, Matched uint64
	// Correlations are each correlation rule's state counters, by rule
	// reference (id, else name, else title).
	Correlations map[string]correlate.Stats
}

// Stats returns the counters.
func (e *Engine) Stats() Stats {
	st := Stats{Evaluated: e.evaluated.Load(), Matched: e.matched.Load(), Correlations: map[string]correlate.Stats{}}
	for _, rs := range e.rules {
		if rs.corr != nil && rs.corr.state != nil {
			st.Correlations[rs.rule.Ref()] = rs.corr.state.Stats()
		}
	}
	return st
}
