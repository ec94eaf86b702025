// Package sigma reads Sigma rules (https://sigmahq.io) and compiles their
// detections into matchers over mamori's ECS events.
//
// Parse reads a rule file (one or more YAML documents, Sigma v1 collections
// with `action: global`, `reset` and `repeat`, and Sigma v2 correlation
// documents) into Rules, checking everything that does not depend on where
// the rule will run: the document's shape, the level, every modifier
// chain, the condition's grammar and the selections it names. Compile then
// turns a detection into a Matcher, given how the rule's Sigma field names
// map to ECS fields. Anything that mamori cannot evaluate faithfully is an
// error naming the file, line and reason: a rule is never loaded with a
// part silently dropped.
package sigma

import (
	"time"
)

// Level is a rule's severity as Sigma names it.
type Level string

// Sigma's five levels, from least to most severe.
const (
	LevelInformational Level = "informational"
	LevelLow           Level = "low"
	LevelMedium        Level = "medium"
	LevelHigh          Level = "high"
	LevelCritical      Level = "critical"
)

// Rank orders levels: 0 for informational to 4 for critical, -1 for a
// level Sigma does not define (or none).
func (l Level) Rank() int {
	switch l {
	case LevelInformational:
		return 0
	case LevelLow:
		return 1
	case LevelMedium:
		return 2
	case LevelHigh:
		return 3
	case LevelCritical:
		return 4
	}
	return -1
}

// Status is a rule's maturity: stable, test, experimental, deprecated or
// unsupported.
type Status string

// Logsource names the logs a rule is written for.
type Logsource struct {
	Product    string
	Service    string
	Category   string
	Definition string
}

// String renders the logsource as "product=aws service=cloudtrail".
func (l Logsource) String() string {
	s := ""
	add := func(k, v string) {
		if v == "" {
			return
		}
		if s != "" {
			s += " "
		}
		s += k + "=" + v
	}
	add("product", l.Product)
	add("service", l.Service)
	add("category", l.Category)
	if s == "" {
		return "(none)"
	}
	return s
}

// Related is an entry of a rule's `related` list.
type Related struct {
	ID   string
	Type string
}

// Rule is one Sigma rule: a detection rule (Detection set) or a
// correlation rule (Correlation set).
type Rule struct {
	// File and Line locate the rule's document.
	File string
	Line int

	ID          string
	Name        string
	Title       string
	Status      Status
	Level       Level
	Description string
	// Author and License are the rule's attribution (SigmaHQ's rules are
	// under the Detection Rule License: show the author with the rule).
	Author         string
	License        string
	Date           string
	Modified       string
	References     []string
	Tags           []string
	Falsepositives []string
	Fields         []string
	Scope          []string
	Related        []Related
	Taxonomy       string

	Logsource   Logsource
	Detection   *Detection
	Correlation *Correlation
}

// Ref is how correlations and reports name a rule: its id, else its name,
// else its title.
func (r *Rule) Ref() string {
	switch {
	case r.ID != "":
		return r.ID
	case r.Name != "":
		return r.Name
	}
	return r.Title
}

// Detection is a rule's detection section, parsed.
type Detection struct {
	// Selections by name, and their names in file order.
	Selections map[string]*Selection
	Names      []string
	// Conditions as written (a list is OR-ed), and parsed.
	Conditions []string
	Condition  Expr
	// Timeframe is Sigma v1's `timeframe`, kept for display: without an
	// aggregation in the condition it has no effect.
	Timeframe string
}

// Selection is one search identifier: an OR of alternatives, each an AND
// of items. A map is one alternative; a list of maps is one alternative
// per map; a list of plain values is one keyword item.
type Selection struct {
	Name         string
	Line, Col    int
	Alternatives [][]*Item
}

// Item is one `field|modifier|...: values` entry. Field is "" for
// keywords, which search the event's text.
type Item struct {
	Field     string
	Modifiers []string
	Values    []Value
	Line, Col int
}

// ValueKind is the YAML type a value was written with.
type ValueKind int

// Value kinds.
const (
	KindString ValueKind = iota
	KindInt
	KindFloat
	KindBool
	KindNull
)

// Value is one value of an item, as written.
type Value struct {
	Kind      ValueKind
	Text      string // the scalar's text ("" for null)
	Line, Col int
}

// CorrelationType is one of Sigma's correlation types.
type CorrelationType string

// Correlation types.
const (
	EventCount      CorrelationType = "event_count"
	ValueCount      CorrelationType = "value_count"
	Temporal        CorrelationType = "temporal"
	TemporalOrdered CorrelationType = "temporal_ordered"
)

// Correlation is a Sigma v2 correlation rule's `correlation` section.
type Correlation struct {
	Type CorrelationType
	// Rules are the ids or names of the correlated rules, in order.
	Rules   []string
	GroupBy []string
	// Timespan is the window the events must fall in.
	Timespan time.Duration
	// Condition is the threshold the count must reach. Count conditions
	// that can only be decided when a window closes (lt, lte, eq, neq) are
	// rejected: mamori evaluates correlations on the stream.
	Condition Threshold
	// Field is value_count's counted field.
	Field string
	// Generate says the correlated rules also raise their own matches
	// (default: only the correlation does).
	Generate bool
	// Aliases maps an alias usable in GroupBy to each rule's field.
	Aliases map[string]map[string]string
}

// Threshold is a correlation condition: the count must be at least Min
// (gte N gives N, gt N gives N+1).
type Threshold struct {
	Min int64
	// Text is the condition as written, for display.
	Text string
}
