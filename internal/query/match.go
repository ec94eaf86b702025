package query

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// Match reports whether the event matches the query, with the meaning of
// the SQL that Compile writes for the same tree, as if the event were a row
// of the events table. A clause that Compile would reject matches nothing.
func Match(n Node, e *event.Event) bool {
	switch x := n.(type) {
	case MatchAll, *MatchAll:
		return true
	case *And:
		for _, c := range x.Nodes {
			if !Match(c, e) {
				return false
			}
		}
		return len(x.Nodes) > 0
	case *Or:
		for _, c := range x.Nodes {
			if Match(c, e) {
				return true
			}
		}
	case *Not:
		return !Match(x.Node, e)
	case *Term:
		if x.Field == "" {
			return keywordMatch(e, planKeyword(x.Value, false))
		}
		if checkField(x.Field) != "" {
			return false
		}
		t := resolve(x.Field)
		p, msg := planTerm(t, x.Value)
		return msg == "" && termMatch(e, t, p)
	case *Wildcard:
		if x.Field == "" {
			return keywordMatch(e, planKeyword(x.Pattern, true))
		}
		if checkField(x.Field) != "" {
			return false
		}
		t := resolve(x.Field)
		return planWildcard(t) == "" && anyString(e, t, func(v string) bool { return globMatch(x.Pattern, v) })
	case *Exists:
		return checkField(x.Field) == "" && existsMatch(e, resolve(x.Field))
	case *Range:
		if checkField(x.Field) != "" {
			return false
		}
		t := resolve(x.Field)
		p, msg, _ := planRange(t, x)
		return msg == "" && rangeMatch(e, t, p)
	}
	return false
}

// anyString reports whether fn holds for some value of the field, each
// value as the text the store keeps: promoted IPs in canonical form, a
// list or JSON array element by element.
func anyString(e *event.Event, t target, fn func(string) bool) bool {
	switch t.kind {
	case kindText, kindInt:
		v := e.String(t.field)
		return v != "" && fn(v)
	case kindIP:
		v := e.String(t.field)
		return v != "" && fn(storedIP(v))
	case kindIPList:
		for _, v := range e.Strings(t.field) {
			if fn(storedIP(v)) {
				return true
			}
		}
	case kindTextList, kindDoc:
		for _, v := range e.Strings(t.field) {
			if fn(v) {
				return true
			}
		}
	case kindTime:
		if ts, ok := timeOf(e, t.field); ok {
			return fn(ts.Format(time.RFC3339Nano))
		}
	}
	return false
}

// storedIP is an address as a promoted column keeps it.
func storedIP(v string) string {
	if c, ok := canonicalIP(v); ok {
		return c
	}
	return v
}

func numberOf(e *event.Event, field string) (float64, bool) {
	switch v, _ := e.Get(field); x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case string:
		return storedNumber(x)
	}
	return 0, false
}

func timeOf(e *event.Event, field string) (time.Time, bool) {
	var t time.Time
	if field == event.FieldTimestamp {
		t = e.Time()
	} else {
		switch v, _ := e.Get(field); x := v.(type) {
		case time.Time:
			t = x
		case string:
			t, _ = storedTime(x)
		}
	}
	// The store keeps microseconds.
	return t.UTC().Truncate(time.Microsecond), !t.IsZero()
}

func termMatch(e *event.Event, t target, p termPlan) bool {
	switch p.mode {
	case tmNumber:
		v, ok := numberOf(e, t.field)
		return ok && v == p.num
	case tmInstant:
		ts, ok := timeOf(e, t.field)
		return ok && ts.Equal(p.t0)
	case tmDay:
		ts, ok := timeOf(e, t.field)
		return ok && !ts.Before(p.t0) && ts.Before(p.t1)
	case tmEqual:
		return anyString(e, t, func(v string) bool { return v == p.text })
	case tmTextOrNumber:
		return anyString(e, t, func(v string) bool {
			if v == p.text {
				return true
			}
			f, ok := storedNumber(v)
			return ok && f == p.num
		})
	case tmLead:
		return anyString(e, t, func(v string) bool { return strings.HasPrefix(v, p.lead) })
	case tmCIDR:
		return anyString(e, t, func(v string) bool {
			return strings.HasPrefix(v, p.lead) && inPrefix(v, p.cidr)
		})
	}
	return false
}

func existsMatch(e *event.Event, t target) bool {
	switch t.kind {
	case kindInt:
		_, ok := numberOf(e, t.field)
		return ok
	case kindTime:
		_, ok := timeOf(e, t.field)
		return ok
	case kindDoc:
		if e.Has(t.field) {
			return true
		}
		// json_exists finds objects too: _exists_:source is true when any
		// source.* field is set.
		prefix := t.field + "."
		found := false
		e.Range(func(k string, _ any) {
			found = found || (strings.HasPrefix(k, prefix) && k != event.FieldOriginal && k != event.FieldMessage)
		})
		return found
	}
	return anyString(e, t, func(string) bool { return true })
}

func rangeMatch(e *event.Event, t target, p rangePlan) bool {
	switch {
	case p.mode == rmExists:
		return existsMatch(e, t)
	case t.kind == kindInt:
		v, ok := numberOf(e, t.field)
		return ok && inNumberRange(v, p)
	case t.kind == kindTime:
		v, ok := timeOf(e, t.field)
		return ok && inTimeRange(v, p)
	}
	return anyString(e, t, func(v string) bool {
		switch p.mode {
		case rmNumber:
			f, ok := storedNumber(v)
			return ok && inNumberRange(f, p)
		case rmTime:
			ts, ok := storedTime(v)
			return ok && inTimeRange(ts, p)
		}
		return inTextRange(v, p)
	})
}

func inNumberRange(v float64, p rangePlan) bool {
	return within(p.lo, p.hi, func(b planBound) int {
		switch {
		case v < b.num:
			return -1
		case v > b.num:
			return 1
		}
		return 0
	})
}

func inTimeRange(v time.Time, p rangePlan) bool {
	return within(p.lo, p.hi, func(b planBound) int { return v.Compare(b.t) })
}

func inTextRange(v string, p rangePlan) bool {
	return within(p.lo, p.hi, func(b planBound) int { return strings.Compare(v, b.text) })
}

// within checks both bounds; cmp compares the value with a bound.
func within(lo, hi planBound, cmp func(planBound) int) bool {
	if lo.set {
		if c := cmp(lo); c < 0 || (c == 0 && !lo.incl) {
			return false
		}
	}
	if hi.set {
		if c := cmp(hi); c > 0 || (c == 0 && !hi.incl) {
			return false
		}
	}
	return true
}

// Matcher evaluates one query on many events, with Match's meaning, but
// with fields resolved and values parsed once rather than on every call.
// It is safe for concurrent use.
type Matcher struct{ root matcher }

// NewMatcher prepares n for matching; it fails where Compile would.
func NewMatcher(n Node) (*Matcher, error) {
	if err := validate(n); err != nil {
		return nil, err
	}
	root, err := newMatcher(n)
	if err != nil {
		return nil, err
	}
	return &Matcher{root: root}, nil
}

// Match reports whether the event matches.
func (m *Matcher) Match(e *event.Event) bool { return m.root.match(e) }

type matcher interface{ match(e *event.Event) bool }

type (
	allMatcher     struct{}
	andMatcher     []matcher
	orMatcher      []matcher
	notMatcher     struct{ m matcher }
	keywordMatcher struct{ k keywordPlan }
	termMatcher    struct {
		t target
		p termPlan
	}
	wildcardMatcher struct {
		t    target
		glob string
	}
	existsMatcher struct{ t target }
	rangeMatcher  struct {
		t target
		p rangePlan
	}
)

func newMatcher(n Node) (matcher, error) {
	switch x := n.(type) {
	case MatchAll, *MatchAll:
		return allMatcher{}, nil
	case *And:
		ms, err := newMatchers(x.Nodes)
		return andMatcher(ms), err
	case *Or:
		ms, err := newMatchers(x.Nodes)
		return orMatcher(ms), err
	case *Not:
		m, err := newMatcher(x.Node)
		return notMatcher{m}, err
	case *Term:
		if x.Field == "" {
			return keywordMatcher{planKeyword(x.Value, false)}, nil
		}
		t := resolve(x.Field)
		p, _ := planTerm(t, x.Value) // validated
		return termMatcher{t, p}, nil
	case *Wildcard:
		if x.Field == "" {
			return keywordMatcher{planKeyword(x.Pattern, true)}, nil
		}
		return wildcardMatcher{resolve(x.Field), x.Pattern}, nil
	case *Exists:
		return existsMatcher{resolve(x.Field)}, nil
	case *Range:
		t := resolve(x.Field)
		p, _, _ := planRange(t, x) // validated
		return rangeMatcher{t, p}, nil
	}
	return nil, fmt.Errorf("prepare query: unknown node %T", n)
}

func newMatchers(nodes []Node) ([]matcher, error) {
	if len(nodes) == 0 {
		return nil, errors.New("prepare query: empty AND or OR")
	}
	ms := make([]matcher, len(nodes))
	for i, c := range nodes {
		m, err := newMatcher(c)
		if err != nil {
			return nil, err
		}
		ms[i] = m
	}
	return ms, nil
}

func (allMatcher) match(*event.Event) bool { return true }

func (ms andMatcher) match(e *event.Event) bool {
	for _, m := range ms {
		if !m.match(e) {
			return false
		}
	}
	return true
}

func (ms orMatcher) match(e *event.Event) bool {
	for _, m := range ms {
		if m.match(e) {
			return true
		}
	}
	return false
}

func (m notMatcher) match(e *event.Event) bool     { return !m.m.match(e) }
func (m keywordMatcher) match(e *event.Event) bool { return keywordMatch(e, m.k) }
func (m termMatcher) match(e *event.Event) bool    { return termMatch(e, m.t, m.p) }
func (m existsMatcher) match(e *event.Event) bool  { return existsMatch(e, m.t) }
func (m rangeMatcher) match(e *event.Event) bool   { return rangeMatch(e, m.t, m.p) }

func (m wildcardMatcher) match(e *event.Event) bool {
	return anyString(e, m.t, func(v string) bool { return globMatch(m.glob, v) })
}
