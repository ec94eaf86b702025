package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/mamori-sec/mamori/internal/alert"
)

// Webhook headers.
const (
	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body.
	SignatureHeader = "X-Mamori-Signature"
	// TimestampHeader carries the Unix time of sending, also in the
	// (signed) body as "timestamp".
	TimestampHeader = "X-Mamori-Timestamp"
	// IdempotencyHeader carries the notification id: the same across
	// retries and restarts, so the receiver can drop repeats.
	IdempotencyHeader = "Idempotency-Key"
	// KindHeader carries the notification's kind (trigger, update,
	// acknowledge, resolve).
	KindHeader = "X-Mamori-Event"
)

// WebhookConfig configures a generic webhook.
type WebhookConfig struct {
	Name string
	URL  string
	// Secret keys the body's HMAC-SHA256 signature.
	Secret string
}

// Webhook posts each notification as JSON, signed with HMAC-SHA256.
type Webhook struct {
	cfg  WebhookConfig
	opts Options
}

// NewWebhook returns a webhook notifier.
func NewWebhook(cfg WebhookConfig, opts Options) (*Webhook, error) {
	if cfg.URL == "" {
		return nil, fmt.Errorf("webhook %s: no URL", cfg.Name)
	}
	if cfg.Secret == "" {
		return nil, fmt.Errorf("webhook %s: no secret", cfg.Name)
	}
	return &Webhook{cfg: cfg, opts: opts.withDefaults()}, nil
}

// Name implements alert.Notifier.
func (w *Webhook) Name() string { return w.cfg.Name }

// WebhookBody is the JSON a webhook receives.
type WebhookBody struct {
	// ID is the notification's id, as in the Idempotency-Key header.
	ID   string     `json:"id"`
	Kind alert.Kind `json:"kind"`
	// Timestamp is the Unix time of this attempt: reject bodies whose
	// timestamp is too old, so a captured request cannot be replayed. The
	// signature covers it.
	Timestamp int64 `json:"timestamp"`
	// NotifiedCount is the alert's event count at the previous delivery to
	// this webhook.
	NotifiedCount int64       `json:"notified_count"`
	Link          string      `json:"link,omitempty"`
	Alert         alert.Alert `json:"alert"`
}

// Sign returns the signature header value of body: "sha256=" and the hex
// HMAC-SHA256 of the body keyed with secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header value against body, in constant time.
func Verify(secret string, body []byte, signature string) bool {
	got, ok := strings.CutPrefix(signature, "sha256=")
	if !ok {
		return false
	}
	raw, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(raw, m.Sum(nil))
}

// Notify implements alert.Notifier.
func (w *Webhook) Notify(ctx context.Context, n alert.Notification) error {
	now := w.opts.Now()
	body, err := json.Marshal(WebhookBody{
		ID: n.ID, Kind: n.Kind, Timestamp: now.Unix(), NotifiedCount: n.NotifiedCount,
		Link: alert.Link(w.opts.ConsoleURL, n.Alert.ID), Alert: n.Alert,
	})
	if err != nil {
		return alert.Permanent(fmt.Errorf("webhook %s: encode: %w", w.cfg.Name, err))
	}
	h := http.Header{}
	h.Set(SignatureHeader, Sign(w.cfg.Secret, body))
	h.Set(TimestampHeader, strconv.FormatInt(now.Unix(), 10))
	h.Set(IdempotencyHeader, n.ID)
	h.Set(KindHeader, string(n.Kind))
	r, err := post(ctx, w.opts.Client, w.cfg.URL, body, h)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", w.cfg.Name, err)
	}
	if r.status >= 200 && r.status < 300 {
		return nil
	}
	problem := fmt.Sprintf("HTTP %d", r.status)
	if b := snippet(r.body); b != "" {
		problem += ": " + b
	}
	return classify(r, now, fmt.Errorf("webhook %s: %s", w.cfg.Name, problem))
}

var _ alert.Notifier = (*Webhook)(nil)
