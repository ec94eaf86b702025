package alert

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"
	"text/template"
	"time"
)

// Config is the alerts section of mamori's configuration.
type Config struct {
	// Window groups matches: a match joins an open alert of its rule and
	// group key when it falls within Window of the alert's first or last
	// event (default 3h).
	Window Duration `yaml:"window"`
	// RuleWindows overrides Window per rule id.
	RuleWindows map[string]Duration `yaml:"rule_windows"`
	// MaxEventIDs bounds the event ids an alert lists (default 1000); the
	// count goes on.
	MaxEventIDs int `yaml:"max_event_ids"`
	// Storm is the storm guard: past MaxNewAlerts new alerts of one rule
	// within Per, matches of the rule's further new group keys are counted
	// in one storm alert of the rule instead of raising an alert each
	// (default 20 per 10m).
	Storm StormConfig `yaml:"storm"`
	// RuleStorms overrides Storm per rule id; fields left out take Storm's.
	RuleStorms map[string]StormConfig `yaml:"rule_storms"`
	// CacheGroups bounds the groups (rule and group key) whose alerts are
	// kept in memory, so that a match joining one of them needs no read
	// of the store (default 4096); the least recently matched go first.
	CacheGroups int `yaml:"cache_groups"`
	// FlushInterval is how often changes to stored alerts (more matches)
	// are written, with their update notifications (default 1s): a burst
	// of matches costs one write. New alerts are written at once. A crash
	// loses at most this much of the counts, which the replay at start
	// counts again.
	FlushInterval Duration `yaml:"flush_interval"`
	// Title is the text/template of an alert's title, over the Alert's
	// fields, with join (default `{{.RuleTitle}}{{if .GroupKey}}: {{join .GroupKey ", "}}{{end}}`).
	Title string `yaml:"title"`
	// ConsoleURL is where mamori's console is reachable, for links in
	// notifications (e.g. https://mamori.example.com); empty for no links.
	ConsoleURL string           `yaml:"console_url"`
	Outbox     OutboxConfig     `yaml:"outbox"`
	Notifiers  []NotifierConfig `yaml:"notifiers"`
}

// StormConfig bounds the new alerts of one rule.
type StormConfig struct {
	// MaxNewAlerts is how many new alerts one rule may raise within Per
	// (default 20). Past it, a match of a group key that has no alert of
	// its own joins the rule's storm alert, until fewer than MaxNewAlerts
	// new group keys were seen within Per.
	MaxNewAlerts int `yaml:"max_new_alerts"`
	// Per is the period, by the clock of the server (default 10m).
	Per Duration `yaml:"per"`
	// Off turns the guard off: under storm for every rule, under
	// rule_storms for that rule.
	Off bool `yaml:"off"`
}

// OutboxConfig tunes notification delivery.
type OutboxConfig struct {
	// PollInterval is how often due notifications are looked for, besides
	// the prompt look after each stored alert (default 1s).
	PollInterval Duration `yaml:"poll_interval"`
	// MinBackoff and MaxBackoff bound the wait before a retry (defaults 1s
	// and 10m); it doubles with each failed attempt, with jitter.
	MinBackoff Duration `yaml:"min_backoff"`
	MaxBackoff Duration `yaml:"max_backoff"`
	// Timeout bounds one delivery attempt (default 10s).
	Timeout Duration `yaml:"timeout"`
	// GiveUpAfter fails a notification still undelivered this long after it
	// was queued; 0 (the default) retries for ever, so that an outage of a
	// receiver loses nothing.
	GiveUpAfter Duration `yaml:"give_up_after"`
	// KeepDone is how long delivered, failed and superseded notifications
	// stay in the outbox, for `alerts show` (default 168h). The newest of
	// each alert and notifier stay for good: they say what the receiver
	// was told.
	KeepDone Duration `yaml:"keep_done"`
}

// Notifier types.
const (
	TypePagerDuty = "pagerduty"
	TypeSlack     = "slack"
	TypeWebhook   = "webhook"
)

// NotifierConfig is one notification target and the alerts routed to it.
type NotifierConfig struct {
	// Name identifies the notifier in the outbox, logs and metrics; renaming
	// it orphans its undelivered notifications.
	Name string `yaml:"name"`
	// Type is pagerduty, slack or webhook.
	Type string `yaml:"type"`
	// RoutingKey is the PagerDuty Events API v2 integration key (pagerduty).
	RoutingKey Secret `yaml:"routing_key"`
	// WebhookURL is the Slack incoming webhook URL, itself a secret (slack).
	WebhookURL Secret `yaml:"webhook_url"`
	// URL is the webhook's endpoint (webhook), or overrides PagerDuty's
	// https://events.pagerduty.com/v2/enqueue (pagerduty).
	URL string `yaml:"url"`
	// Secret is the key of the webhook's HMAC-SHA256 signature (webhook).
	Secret Secret `yaml:"secret"`

	// MinSeverity routes alerts at least this severe (default: all).
	MinSeverity Severity `yaml:"min_severity"`
	// Datasets routes alerts of these datasets only; patterns may use *
	// (aws.*). Empty routes every dataset.
	Datasets []string `yaml:"datasets"`
	// UpdateInterval is the least time between two notifications of more
	// events in one alert; updates in between are merged into one.
	// Defaults: pagerduty 1m, slack 15m (a "+N more" digest), webhook 0.
	UpdateInterval *Duration `yaml:"update_interval"`
}

// Secret names where a secret is read from: a file (trailing white space
// trimmed) or an environment variable. Secrets are never written in the
// configuration itself.
type Secret struct {
	File string `yaml:"file"`
	Env  string `yaml:"env"`
}

// IsZero reports that no source is given.
func (s Secret) IsZero() bool { return s.File == "" && s.Env == "" }

// String names the source, never the value.
func (s Secret) String() string {
	switch {
	case s.File != "":
		return "file " + s.File
	case s.Env != "":
		return "env " + s.Env
	}
	return "unset"
}

// Value reads the secret.
func (s Secret) Value() (string, error) {
	switch {
	case s.File != "" && s.Env != "":
		return "", errors.New("secret: give file or env, not both")
	case s.File != "":
		b, err := os.ReadFile(s.File)
		if err != nil {
			return "", fmt.Errorf("secret: %w", err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", fmt.Errorf("secret: file %s is empty", s.File)
		}
		return v, nil
	case s.Env != "":
		v := strings.TrimSpace(os.Getenv(s.Env))
		if v == "" {
			return "", fmt.Errorf("secret: environment variable %s is not set", s.Env)
		}
		return v, nil
	}
	return "", errors.New("secret: no file or env given")
}

const defaultTitle = `{{.RuleTitle}}{{if .GroupKey}}: {{join .GroupKey ", "}}{{end}}`

var notifierName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// Validate fills defaults and checks the configuration; it returns every
// problem found, one per line.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Window == 0 {
		c.Window = Duration(3 * time.Hour)
	}
	if c.Window < 0 {
		bad("alerts.window: must be positive")
	}
	for id, w := range c.RuleWindows {
		if w <= 0 {
			bad("alerts.rule_windows.%s: must be positive", id)
		}
	}
	if c.MaxEventIDs == 0 {
		c.MaxEventIDs = 1000
	}
	if c.MaxEventIDs < 0 {
		bad("alerts.max_event_ids: must be positive")
	}
	if c.Storm.MaxNewAlerts == 0 {
		c.Storm.MaxNewAlerts = 20
	}
	if c.Storm.Per == 0 {
		c.Storm.Per = Duration(10 * time.Minute)
	}
	c.Storm.check("alerts.storm", bad)
	for id, s := range c.RuleStorms {
		s.check("alerts.rule_storms."+id, bad)
	}
	if c.CacheGroups == 0 {
		c.CacheGroups = 4096
	}
	if c.CacheGroups < 0 {
		bad("alerts.cache_groups: must be positive")
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = Duration(time.Second)
	}
	if c.FlushInterval < 0 {
		bad("alerts.flush_interval: must be positive")
	}
	if c.Title == "" {
		c.Title = defaultTitle
	}
	if _, err := parseTitle(c.Title); err != nil {
		bad("alerts.title: %v", err)
	}
	if c.ConsoleURL != "" {
		if u, err := url.Parse(c.ConsoleURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("alerts.console_url: want an http(s) URL such as https://mamori.example.com")
		}
	}
	o := &c.Outbox
	for _, d := range []struct {
		name string
		v    *Duration
		def  time.Duration
	}{
		{"poll_interval", &o.PollInterval, time.Second},
		{"min_backoff", &o.MinBackoff, time.Second},
		{"max_backoff", &o.MaxBackoff, 10 * time.Minute},
		{"timeout", &o.Timeout, 10 * time.Second},
		{"keep_done", &o.KeepDone, 7 * 24 * time.Hour},
	} {
		if *d.v == 0 {
			*d.v = Duration(d.def)
		}
		if *d.v < 0 {
			bad("alerts.outbox.%s: must be positive", d.name)
		}
	}
	if o.MaxBackoff < o.MinBackoff {
		bad("alerts.outbox.max_backoff: must not be below min_backoff")
	}
	if o.GiveUpAfter < 0 {
		bad("alerts.outbox.give_up_after: must not be negative")
	}
	seen := map[string]bool{}
	for i := range c.Notifiers {
		n := &c.Notifiers[i]
		at := fmt.Sprintf("alerts.notifiers[%d]", i)
		if !notifierName.MatchString(n.Name) {
			bad("%s.name: %q: want lower-case letters, digits, '.', '_' or '-'", at, n.Name)
		} else if seen[n.Name] {
			bad("%s.name: %q is used twice", at, n.Name)
		}
		seen[n.Name] = true
		errs = append(errs, n.validate(at)...)
	}
	return errors.Join(errs...)
}

func (n *NotifierConfig) validate(at string) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(at+"."+format, args...)) }
	secret := func(field string, s Secret, want bool) {
		switch {
		case want && s.IsZero():
			bad("%s: required for type %s (file: or env:)", field, n.Type)
		case !want && !s.IsZero():
			bad("%s: not used by type %s", field, n.Type)
		case s.File != "" && s.Env != "":
			bad("%s: give file or env, not both", field)
		}
	}
	var interval Duration
	switch n.Type {
	case TypePagerDuty:
		secret("routing_key", n.RoutingKey, true)
		secret("webhook_url", n.WebhookURL, false)
		secret("secret", n.Secret, false)
		if n.URL != "" {
			errs = append(errs, checkURL(at+".url", n.URL)...)
		}
		interval = Duration(time.Minute)
	case TypeSlack:
		secret("webhook_url", n.WebhookURL, true)
		secret("routing_key", n.RoutingKey, false)
		secret("secret", n.Secret, false)
		if n.URL != "" {
			bad("url: a Slack webhook URL is a secret: give it as webhook_url (file: or env:)")
		}
		interval = Duration(15 * time.Minute)
	case TypeWebhook:
		secret("secret", n.Secret, true)
		secret("routing_key", n.RoutingKey, false)
		secret("webhook_url", n.WebhookURL, false)
		if n.URL == "" {
			bad("url: required for type webhook")
		} else {
			errs = append(errs, checkURL(at+".url", n.URL)...)
		}
	default:
		bad("type: %q: want pagerduty, slack or webhook", n.Type)
	}
	if n.MinSeverity == "" {
		n.MinSeverity = Informational
	} else if _, err := ParseSeverity(string(n.MinSeverity)); err != nil {
		bad("min_severity: %v", err)
	}
	for _, p := range n.Datasets {
		if _, err := path.Match(p, ""); err != nil || p == "" {
			bad("datasets: bad pattern %q", p)
		}
	}
	if n.UpdateInterval == nil {
		n.UpdateInterval = &interval
	} else if *n.UpdateInterval < 0 {
		bad("update_interval: must not be negative")
	}
	return errs
}

func checkURL(at, s string) []error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return []error{fmt.Errorf("%s: want an http(s) URL", at)}
	}
	return nil
}

// Routes reports whether alerts like a go to this notifier.
func (n *NotifierConfig) Routes(a *Alert) bool {
	if n.MinSeverity != "" && !a.Severity.AtLeast(n.MinSeverity) {
		return false
	}
	if len(n.Datasets) == 0 {
		return true
	}
	for _, p := range n.Datasets {
		if ok, _ := path.Match(p, a.Dataset); ok {
			return true
		}
	}
	return false
}

func (c *Config) window(ruleID string) time.Duration {
	if w, ok := c.RuleWindows[ruleID]; ok {
		return time.Duration(w)
	}
	return time.Duration(c.Window)
}

func (s StormConfig) check(at string, bad func(string, ...any)) {
	if s.MaxNewAlerts < 0 {
		bad("%s.max_new_alerts: must be positive", at)
	}
	if s.Per < 0 {
		bad("%s.per: must be positive", at)
	}
}

// storm is the storm guard of a rule; ok is false when it is off.
func (c *Config) storm(ruleID string) (s StormConfig, ok bool) {
	s = c.Storm
	if r, found := c.RuleStorms[ruleID]; found {
		if r.MaxNewAlerts > 0 {
			s.MaxNewAlerts = r.MaxNewAlerts
		}
		if r.Per > 0 {
			s.Per = r.Per
		}
		s.Off = s.Off || r.Off
	}
	return s, !s.Off && s.MaxNewAlerts > 0 && s.Per > 0
}

func parseTitle(s string) (*template.Template, error) {
	return template.New("title").Option("missingkey=error").Funcs(template.FuncMap{"join": strings.Join}).Parse(s)
}

// Link is the console address of an alert, or "" without a console URL.
func Link(consoleURL, id string) string {
	if consoleURL == "" {
		return ""
	}
	return strings.TrimRight(consoleURL, "/") + "/alerts/" + url.PathEscape(id)
}
