package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/alert"
)

// PagerDutyURL is the Events API v2 endpoint.
const PagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

// PagerDutyConfig configures a PagerDuty notifier.
type PagerDutyConfig struct {
	Name string
	// URL overrides PagerDutyURL (a regional endpoint, or a test server).
	URL string
	// RoutingKey is the integration key of an Events API v2 integration.
	RoutingKey string
}

// PagerDuty sends alerts to PagerDuty's Events API v2. The alert id is the
// dedup_key: an alert's first notification opens a PagerDuty alert, later
// ones (more events) update that same alert, acknowledge and resolve act on
// it, and a repeated request after a crash is deduplicated by PagerDuty.
type PagerDuty struct {
	cfg  PagerDutyConfig
	opts Options
}

// NewPagerDuty returns a PagerDuty notifier.
func NewPagerDuty(cfg PagerDutyConfig, opts Options) (*PagerDuty, error) {
	if cfg.RoutingKey == "" {
		return nil, fmt.Errorf("pagerduty %s: no routing key", cfg.Name)
	}
	if cfg.URL == "" {
		cfg.URL = PagerDutyURL
	}
	return &PagerDuty{cfg: cfg, opts: opts.withDefaults()}, nil
}

// Name implements alert.Notifier.
func (p *PagerDuty) Name() string { return p.cfg.Name }

// pdEvent is an Events API v2 request.
type pdEvent struct {
	RoutingKey  string     `json:"routing_key"`
	EventAction string     `json:"event_action"`
	DedupKey    string     `json:"dedup_key"`
	Payload     *pdPayload `json:"payload,omitempty"`
	Client      string     `json:"client,omitempty"`
	ClientURL   string     `json:"client_url,omitempty"`
	Links       []pdLink   `json:"links,omitempty"`
}

type pdPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

type pdLink struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// pdSeverity maps a rule's level to PagerDuty's four.
func pdSeverity(s alert.Severity) string {
	switch s {
	case alert.Critical:
		return "critical"
	case alert.High:
		return "error"
	case alert.Medium:
		return "warning"
	default:
		return "info"
	}
}

// event builds the request for a notification.
func (p *PagerDuty) event(n alert.Notification) pdEvent {
	a := &n.Alert
	ev := pdEvent{RoutingKey: p.cfg.RoutingKey, DedupKey: a.ID}
	switch n.Kind {
	case alert.Acknowledge:
		ev.EventAction = "acknowledge"
		return ev
	case alert.Resolve:
		ev.EventAction = "resolve"
		return ev
	}
	// A trigger with a dedup_key PagerDuty already has updates that alert
	// rather than opening another: updates are triggers too.
	ev.EventAction = "trigger"
	link := alert.Link(p.opts.ConsoleURL, a.ID)
	source := strings.Join(a.GroupKey, ", ")
	if source == "" {
		source = a.Dataset
	}
	if source == "" {
		source = "mamori"
	}
	details := map[string]any{
		"alert_id":    a.ID,
		"rule_id":     a.RuleID,
		"severity":    string(a.Severity),
		"status":      string(a.Status),
		"summary":     a.Summary,
		"dataset":     a.Dataset,
		"group_key":   a.GroupKey,
		"first_seen":  a.FirstSeen.UTC().Format(time.RFC3339),
		"last_seen":   a.LastSeen.UTC().Format(time.RFC3339),
		"event_count": a.EventCount,
		"event_ids":   a.EventIDs[:min(len(a.EventIDs), 20)],
	}
	if link != "" {
		details["link"] = link
	}
	ev.Payload = &pdPayload{
		Summary:       truncate(fmt.Sprintf("[%s] %s (%s)", strings.ToUpper(string(a.Severity)), a.Title, events(a.EventCount)), 1024),
		Source:        truncate(source, 255),
		Severity:      pdSeverity(a.Severity),
		Timestamp:     a.LastSeen.UTC().Format(time.RFC3339),
		Component:     a.Dataset,
		Group:         a.RuleID,
		Class:         a.RuleTitle,
		CustomDetails: details,
	}
	ev.Client = "mamori"
	if link != "" {
		ev.ClientURL = link
		ev.Links = []pdLink{{Href: link, Text: "Alert in mamori"}}
	}
	return ev
}

func events(n int64) string {
	if n == 1 {
		return "1 event"
	}
	return fmt.Sprintf("%d events", n)
}

// Notify implements alert.Notifier.
func (p *PagerDuty) Notify(ctx context.Context, n alert.Notification) error {
	body, err := json.Marshal(p.event(n))
	if err != nil {
		return alert.Permanent(fmt.Errorf("pagerduty %s: encode: %w", p.cfg.Name, err))
	}
	r, err := post(ctx, p.opts.Client, p.cfg.URL, body, nil)
	if err != nil {
		return fmt.Errorf("pagerduty %s: %w", p.cfg.Name, err)
	}
	if r.status >= 200 && r.status < 300 {
		return nil
	}
	return classify(r, p.opts.Now(), fmt.Errorf("pagerduty %s: %s", p.cfg.Name, pdProblem(r)))
}

// pdProblem describes a refusal from PagerDuty's error body
// {"status": ..., "message": ..., "errors": [...]}.
func pdProblem(r response) string {
	var e struct {
		Status  string   `json:"status"`
		Message string   `json:"message"`
		Errors  []string `json:"errors"`
	}
	msg := fmt.Sprintf("HTTP %d", r.status)
	if json.Unmarshal(r.body, &e) == nil && (e.Message != "" || len(e.Errors) > 0) {
		msg += ": " + e.Message
		if len(e.Errors) > 0 {
			msg += ": " + strings.Join(e.Errors, "; ")
		}
		return truncate(msg, 500)
	}
	if s := snippet(r.body); s != "" {
		msg += ": " + s
	}
	if r.status == http.StatusBadRequest {
		msg += " (invalid event)"
	}
	return msg
}

var _ alert.Notifier = (*PagerDuty)(nil)
