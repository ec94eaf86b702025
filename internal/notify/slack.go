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

// SlackConfig configures a Slack notifier.
type SlackConfig struct {
	Name string
	// WebhookURL is the incoming webhook's URL; it is the secret.
	WebhookURL string
}

// Slack posts to a Slack incoming webhook. Incoming webhooks cannot edit a
// message, so an alert's first notification is a full message and later
// ones are short: a "+N more events" digest (at most one per the
// notifier's update interval, set in the outbox), and one line each for
// acknowledge and resolve.
type Slack struct {
	cfg  SlackConfig
	opts Options
}

// NewSlack returns a Slack notifier.
func NewSlack(cfg SlackConfig, opts Options) (*Slack, error) {
	if cfg.WebhookURL == "" {
		return nil, fmt.Errorf("slack %s: no webhook URL", cfg.Name)
	}
	return &Slack{cfg: cfg, opts: opts.withDefaults()}, nil
}

// Name implements alert.Notifier.
func (s *Slack) Name() string { return s.cfg.Name }

type slackMessage struct {
	Text   string           `json:"text"`
	Blocks []map[string]any `json:"blocks,omitempty"`
}

// mrkdwn escapes text for Slack's markup: without it a user name such as
// "<!channel>" taken from a log line would notify the whole channel.
func mrkdwn(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func textBlock(kind, text string) map[string]any {
	return map[string]any{"type": kind, "text": text}
}

// message builds the Slack message of a notification.
func (s *Slack) message(n alert.Notification) slackMessage {
	a := &n.Alert
	head := fmt.Sprintf("[%s] %s", strings.ToUpper(string(a.Severity)), a.Title)
	link := alert.Link(s.opts.ConsoleURL, a.ID)
	ref := "Alert " + mrkdwn(a.ID)
	if link != "" {
		ref = fmt.Sprintf("<%s|Alert %s in mamori>", link, a.ID)
	}
	footer := map[string]any{"type": "context", "elements": []map[string]any{textBlock("mrkdwn", ref)}}
	line := func(text string) slackMessage {
		text = truncate(text, 3000)
		return slackMessage{Text: text, Blocks: []map[string]any{
			{"type": "section", "text": textBlock("mrkdwn", text)}, footer,
		}}
	}
	switch n.Kind {
	case alert.Update:
		return line(fmt.Sprintf(":heavy_plus_sign: +%s for %s (%s in all, last at %s)",
			events(a.EventCount-n.NotifiedCount), mrkdwn(head), events(a.EventCount), a.LastSeen.UTC().Format(time.RFC3339)))
	case alert.Acknowledge:
		return line(fmt.Sprintf(":eyes: Acknowledged by %s: %s", mrkdwn(a.AcknowledgedBy), mrkdwn(head)))
	case alert.Resolve:
		return line(fmt.Sprintf(":white_check_mark: Resolved by %s: %s (%s)", mrkdwn(a.ResolvedBy), mrkdwn(head), events(a.EventCount)))
	}
	field := func(name, value string) map[string]any {
		return textBlock("mrkdwn", truncate("*"+name+"*\n"+mrkdwn(value), 2000))
	}
	seen := a.FirstSeen.UTC().Format(time.RFC3339)
	if !a.LastSeen.Equal(a.FirstSeen) {
		seen += " – " + a.LastSeen.UTC().Format(time.RFC3339)
	}
	fields := []map[string]any{
		field("Severity", string(a.Severity)),
		field("Rule", a.RuleTitle+" ("+a.RuleID+")"),
		field("Events", fmt.Sprint(a.EventCount)),
		field("Seen", seen),
	}
	if a.Dataset != "" {
		fields = append(fields, field("Dataset", a.Dataset))
	}
	if len(a.GroupKey) > 0 {
		fields = append(fields, field("Group", strings.Join(a.GroupKey, ", ")))
	}
	return slackMessage{
		Text: truncate(":rotating_light: "+mrkdwn(head), 3000),
		Blocks: []map[string]any{
			{"type": "header", "text": textBlock("plain_text", truncate(head, 150))},
			{"type": "section", "text": textBlock("mrkdwn", truncate(mrkdwn(a.Summary), 3000))},
			{"type": "section", "fields": fields},
			footer,
		},
	}
}

// Notify implements alert.Notifier.
func (s *Slack) Notify(ctx context.Context, n alert.Notification) error {
	body, err := json.Marshal(s.message(n))
	if err != nil {
		return alert.Permanent(fmt.Errorf("slack %s: encode: %w", s.cfg.Name, err))
	}
	r, err := post(ctx, s.opts.Client, s.cfg.WebhookURL, body, nil)
	if err != nil {
		return fmt.Errorf("slack %s: %w", s.cfg.Name, err)
	}
	if r.status >= 200 && r.status < 300 {
		return nil
	}
	problem := fmt.Sprintf("HTTP %d", r.status)
	if b := snippet(r.body); b != "" {
		problem += ": " + b
	}
	if r.status == http.StatusNotFound || r.status == http.StatusGone {
		return alert.Permanent(fmt.Errorf("slack %s: the incoming webhook is gone (%s): "+
			"create a new one and update webhook_url", s.cfg.Name, problem))
	}
	return classify(r, s.opts.Now(), fmt.Errorf("slack %s: %s", s.cfg.Name, problem))
}

var _ alert.Notifier = (*Slack)(nil)
