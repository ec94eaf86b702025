// Package alert turns rule matches into alerts: it groups matches of one
// rule and group key into one alert, stores alerts durably together with
// the notifications they call for (an outbox), and delivers those
// notifications with retries (Sender). Notifiers themselves live in
// internal/notify. See docs/alerts.md.
package alert

import (
	"fmt"
	"time"
)

// Severity is a rule's level, as Sigma names them.
type Severity string

// Severities, least severe first.
const (
	Informational Severity = "informational"
	Low           Severity = "low"
	Medium        Severity = "medium"
	High          Severity = "high"
	Critical      Severity = "critical"
)

var severityRank = map[Severity]int{Informational: 1, Low: 2, Medium: 3, High: 4, Critical: 5}

// ParseSeverity checks a severity name.
func ParseSeverity(s string) (Severity, error) {
	if _, ok := severityRank[Severity(s)]; !ok {
		return "", fmt.Errorf("severity %q: want informational, low, medium, high or critical", s)
	}
	return Severity(s), nil
}

// AtLeast reports whether s is as severe as min or more.
func (s Severity) AtLeast(min Severity) bool { return severityRank[s] >= severityRank[min] }

// Status is where an alert is in its lifecycle.
type Status string

// Statuses. An open or acknowledged alert still takes new matches; a
// resolved one never does (a new match opens a new alert).
const (
	Open         Status = "open"
	Acknowledged Status = "acknowledged"
	Resolved     Status = "resolved"
)

// ParseStatus checks a status name.
func ParseStatus(s string) (Status, error) {
	switch Status(s) {
	case Open, Acknowledged, Resolved:
		return Status(s), nil
	}
	return "", fmt.Errorf("status %q: want open, acknowledged or resolved", s)
}

// Kind is what a notification tells its receiver.
type Kind string

// Notification kinds.
const (
	// Trigger announces a new alert (or an alert new to this notifier).
	Trigger Kind = "trigger"
	// Update tells of more events in an alert already announced.
	Update Kind = "update"
	// Acknowledge tells that someone took the alert on.
	Acknowledge Kind = "acknowledge"
	// Resolve closes the alert.
	Resolve Kind = "resolve"
)

// Match is one firing of a rule, as the rule engine reports it.
type Match struct {
	RuleID    string
	RuleTitle string
	Severity  string // informational, low, medium, high or critical
	Dataset   string
	// EventID is the event that made the rule fire (for a correlation, the
	// one that completed it).
	EventID   string
	EventTime time.Time
	// GroupKey holds the values of the rule's group-by fields, in the
	// rule's order; matches with equal keys share an alert.
	GroupKey []string
	// Summary is the rule's summary template rendered for this match.
	Summary     string
	Correlation bool
	// EventIDs are the events a correlation drew on (EventID included or
	// not); empty for a single-event rule.
	EventIDs []string
}

// Alert is a group of matches of one rule and group key: what an analyst
// sees, acknowledges and resolves, and what notifiers announce.
type Alert struct {
	ID          string    `json:"id"`
	RuleID      string    `json:"rule_id"`
	RuleTitle   string    `json:"rule_title"`
	Severity    Severity  `json:"severity"`
	Title       string    `json:"title"`
	Summary     string    `json:"summary"`
	Dataset     string    `json:"dataset"`
	Correlation bool      `json:"correlation"`
	GroupKey    []string  `json:"group_key"`
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	// EventCount counts the events of its matches; EventIDs lists the
	// first of them (Config.MaxEventIDs).
	EventCount int64    `json:"event_count"`
	MatchCount int64    `json:"match_count"`
	EventIDs   []string `json:"event_ids"`

	Status         Status    `json:"status"`
	AcknowledgedBy string    `json:"acknowledged_by,omitempty"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
	ResolvedBy     string    `json:"resolved_by,omitempty"`
	ResolvedAt     time.Time `json:"resolved_at,omitzero"`

	// Version counts the alert's changes; notifications name the version
	// they announce.
	Version int64     `json:"version"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`

	// Storm marks a rule's storm alert: during an alert storm (Config.Storm)
	// the matches of the rule's new group keys are counted here instead of
	// raising an alert each. StormGroups counts those group keys.
	Storm       bool  `json:"storm,omitempty"`
	StormGroups int64 `json:"storm_groups,omitempty"`
}
