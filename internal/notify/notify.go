// Package notify delivers alert notifications: PagerDuty Events API v2,
// Slack incoming webhooks and a generic HMAC-signed JSON webhook. Each
// notifier implements alert.Notifier and classifies its receiver's answers
// for the alert outbox: accepted, retry (with the receiver's Retry-After),
// or refused for good. Errors never carry secrets (routing keys, Slack
// webhook URLs, HMAC keys). See docs/alerts.md.
package notify

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mamori-sec/mamori/internal/alert"
)

// Options are shared by the notifiers; every field is optional.
type Options struct {
	// ConsoleURL is mamori's console, for links to alerts.
	ConsoleURL string
	// Client makes the requests (default: an http.Client with Timeout).
	Client *http.Client
	// Timeout bounds a request of the default client (default 10s).
	Timeout time.Duration
	// Now is the clock, for signature timestamps and Retry-After dates.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// New builds the notifier a configuration entry describes, reading its
// secrets. cfg should have passed alert.Config.Validate.
func New(cfg alert.NotifierConfig, opts Options) (alert.Notifier, error) {
	secret := func(field string, s alert.Secret) (string, error) {
		v, err := s.Value()
		if err != nil {
			return "", fmt.Errorf("notifier %s: %s (%s): %w", cfg.Name, field, s, err)
		}
		return v, nil
	}
	switch cfg.Type {
	case alert.TypePagerDuty:
		key, err := secret("routing_key", cfg.RoutingKey)
		if err != nil {
			return nil, err
		}
		return NewPagerDuty(PagerDutyConfig{Name: cfg.Name, URL: cfg.URL, RoutingKey: key}, opts)
	case alert.TypeSlack:
		u, err := secret("webhook_url", cfg.WebhookURL)
		if err != nil {
			return nil, err
		}
		return NewSlack(SlackConfig{Name: cfg.Name, WebhookURL: u}, opts)
	case alert.TypeWebhook:
		key, err := secret("secret", cfg.Secret)
		if err != nil {
			return nil, err
		}
		return NewWebhook(WebhookConfig{Name: cfg.Name, URL: cfg.URL, Secret: key}, opts)
	}
	return nil, fmt.Errorf("notifier %s: unknown type %q", cfg.Name, cfg.Type)
}

// NewAll builds every configured notifier, or reports every one that
// cannot be built.
func NewAll(cfgs []alert.NotifierConfig, opts Options) ([]alert.Notifier, error) {
	var out []alert.Notifier
	var errs []error
	for _, c := range cfgs {
		n, err := New(c, opts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, n)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
