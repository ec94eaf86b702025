// Package native reads and runs mamori's own rules: for detections that
// are not Sigma-shaped, a rule is a mamori query (the search language of
// docs/query.md) plus a threshold, group-by fields and a window, a
// severity that may come from the event, and title and summary templates
// filled from the matching event.
//
//	id: mamori-gws-failed-login-burst
//	title: "Google Workspace: {{count}} failed logins for {{user.email}}"
//	datasets: [google_workspace.login]
//	query: 'event.action:login_failure'
//	threshold: 10
//	group_by: [user.email]
//	window: 10m
//	severity: medium
//	summary: "Latest from {{source.ip}}, within {{window}}"
//
// Parse reads rule files (errors name the file, line and problem); New
// compiles rules into an Engine whose Evaluate gives the same detect.Match
// as the Sigma engine, so both feed one alert flow. Threshold rules count
// events per group within the window by @timestamp, with bounded memory
// (internal/detect/correlate).
package native

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/detect/sigma"
	"github.com/mamori-sec/mamori/internal/event"
)

// Limits on what a rule may ask for.
const (
	// MaxThreshold bounds a rule's threshold, as for Sigma correlations.
	MaxThreshold = 100_000
	// MaxWindow bounds a rule's window: state older than this is not kept.
	MaxWindow = 31 * 24 * time.Hour
)

// Rule is one native rule. Parse fills it from YAML; callers may adjust
// the exported fields (the built-in rules take thresholds from the
// configuration) before New compiles it, which checks it again.
type Rule struct {
	// File and Line locate the rule's document.
	File string
	Line int

	ID          string
	Title       string // a template: {{field}} placeholders, see Template
	Description string
	Author      string
	References  []string
	Tags        []string
	// Falsepositives say when the rule fires on benign activity.
	Falsepositives []string

	// Datasets limit the rule to events of these datasets; none means
	// every event.
	Datasets []string
	// Query is a mamori query (docs/query.md) an event must match.
	Query string
	// Threshold is how many matching events of one group within Window
	// raise a match (1: every matching event does).
	Threshold int
	// GroupBy are the fields whose values make a group; a match carries
	// them (and the alert groups by them).
	GroupBy []string
	// Window is the time span a threshold's events must fall within, by
	// their @timestamp. Required when Threshold > 1.
	Window time.Duration
	// Severity is the match's level: fixed, or read from the event.
	Severity Severity
	// MinSeverity, when set, leaves out events whose severity is lower.
	MinSeverity sigma.Level
	// Summary is a template, like Title.
	Summary string
}

// Severity says how a match's level is found. With no Fields it is Level.
// Otherwise the first of Fields the event has is looked up in Values (its
// text, ignoring case), then in AtLeast (as a number: the level of the
// highest bound it reaches); Level is the level when neither gives one.
type Severity struct {
	Level   sigma.Level
	Fields  []string
	Values  map[string]sigma.Level // keys lower-cased
	AtLeast []Bound                // highest bound first
}

// Bound is a numeric severity bound: values at or above Min have Level.
type Bound struct {
	Min   float64
	Level sigma.Level
}

// level returns the event's severity.
func (s *Severity) level(ev *event.Event) sigma.Level {
	if len(s.Fields) == 0 {
		return s.Level
	}
	for _, f := range s.Fields {
		v, ok := ev.Get(f)
		if !ok {
			continue
		}
		text := ev.String(f)
		if text == "" {
			continue
		}
		if l, ok := s.Values[strings.ToLower(text)]; ok {
			return l
		}
		if n, ok := number(v, text); ok {
			for _, b := range s.AtLeast {
				if n >= b.Min {
					return b.Level
				}
			}
		}
		return s.Level
	}
	return s.Level
}

// Highest is the highest level the rule can give, for listings.
func (s *Severity) Highest() sigma.Level {
	top := s.Level
	for _, l := range s.Values {
		if l.Rank() > top.Rank() {
			top = l
		}
	}
	for _, b := range s.AtLeast {
		if b.Level.Rank() > top.Rank() {
			top = b.Level
		}
	}
	return top
}

func number(v any, text string) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
	return f, err == nil
}

// Check validates a rule as New compiles it: the query parses, the
// templates are well formed, the numbers are in range. It returns an
// *Error at the rule's position.
func (r *Rule) Check() error {
	_, err := compileRule(r)
	return err
}

func (r *Rule) errorf(format string, args ...any) *Error {
	return &Error{Prefix: prefix, File: r.File, Line: r.Line, Rule: r.ID, Msg: fmt.Sprintf(format, args...)}
}

// Info describes the rule as a Sigma rule, which is what detect.Match and
// detect.RuleInfo carry: id, title (the template as written), the highest
// level it can give, description, author, references and tags.
func (r *Rule) Info() *sigma.Rule {
	return &sigma.Rule{
		File:           r.File,
		Line:           r.Line,
		ID:             r.ID,
		Title:          r.Title,
		Level:          r.Severity.Highest(),
		Description:    r.Description,
		Author:         r.Author,
		References:     r.References,
		Tags:           r.Tags,
		Falsepositives: r.Falsepositives,
		Logsource:      sigma.Logsource{Definition: "mamori query: " + r.Query},
	}
}
