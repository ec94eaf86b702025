package googleworkspace

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/collect/state"
)

// Defaults applied to zero fields of Config.
const (
	DefaultName            = "googleworkspace"
	DefaultBaseURL         = "https://admin.googleapis.com"
	DefaultTokenURL        = "https://oauth2.googleapis.com/token"
	DefaultInterval        = 5 * time.Minute
	DefaultInitialLookback = 24 * time.Hour
	DefaultMaxWindow       = time.Hour
	DefaultPageSize        = 1000

	// maxLookback is how long the Reports API keeps activities.
	maxLookback = 180 * 24 * time.Hour
)

// Scope is the OAuth scope the service account is granted through
// domain-wide delegation.
const Scope = "https://www.googleapis.com/auth/admin.reports.audit.readonly"

// Applications are the Reports API applications the collector can poll, in
// their default order, and the dataset each one's pages are archived under.
// "mobile" is the API's name of the device audit.
var applications = []struct{ name, dataset string }{
	{"login", "google_workspace.login"},
	{"admin", "google_workspace.admin"},
	{"drive", "google_workspace.drive"},
	{"token", "google_workspace.token"},
	{"mobile", "google_workspace.device"},
}

// DefaultLag is the lag of each application when Config sets none: how long
// after an event's time mamori waits before asking for it. Google documents
// reporting delays from minutes (admin, login) to hours (drive, token) for
// some activities; an event reported after its window was queried is missed,
// so raise the lag where completeness matters more than freshness.
func DefaultLag(app string) time.Duration {
	switch app {
	case "drive", "token":
		return time.Hour
	case "mobile":
		return 30 * time.Minute
	default:
		return 10 * time.Minute
	}
}

// Config configures one Google Workspace collector. Zero fields take the
// defaults above.
type Config struct {
	// Name names the collector: its state file (<name>.json), the batches'
	// listener ("poll-<name>") and its log lines. Default "googleworkspace".
	Name string `yaml:"name"`
	// CredentialsFile is the service account's JSON key file (it holds
	// client_email, private_key and token_uri). Either it or
	// CredentialsEnv is required.
	CredentialsFile string `yaml:"credentials_file"`
	// CredentialsEnv names an environment variable holding the JSON key.
	CredentialsEnv string `yaml:"credentials_env"`
	// Subject is the Workspace administrator the service account acts as
	// (domain-wide delegation). Required.
	Subject string `yaml:"subject"`
	// CustomerID restricts the reports to one customer; "" for the
	// subject's own.
	CustomerID string `yaml:"customer_id"`
	// Applications are polled; default login, admin, drive, token, mobile.
	Applications []string `yaml:"applications"`
	// Interval between polls. Default 5m.
	Interval time.Duration `yaml:"interval"`
	// Lag, when set, is every application's lag; see DefaultLag.
	Lag time.Duration `yaml:"lag"`
	// Lags sets the lag of single applications, such as {drive: 2h}.
	Lags map[string]time.Duration `yaml:"lags"`
	// InitialLookback is how far back the first poll of an application
	// starts. Default 24h, at most 180 days (the API's retention).
	InitialLookback time.Duration `yaml:"initial_lookback"`
	// MaxWindow caps the time range of one query. Default 1h.
	MaxWindow time.Duration `yaml:"max_window"`
	// PageSize is maxResults, 1 to 1000. Default 1000.
	PageSize int `yaml:"page_size"`
	// BaseURL is the Admin SDK's address. Default https://admin.googleapis.com.
	BaseURL string `yaml:"base_url"`
	// TokenURL overrides the key file's token_uri
	// (default https://oauth2.googleapis.com/token).
	TokenURL string `yaml:"token_url"`
}

// withDefaults returns c with its zero fields set.
func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if len(c.Applications) == 0 {
		for _, a := range applications {
			c.Applications = append(c.Applications, a.name)
		}
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.InitialLookback == 0 {
		c.InitialLookback = DefaultInitialLookback
	}
	if c.MaxWindow == 0 {
		c.MaxWindow = DefaultMaxWindow
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	return c
}

// Validate reports the first problem of c (after defaults), or nil. It does
// not read the credentials.
func (c Config) Validate() error {
	c = c.withDefaults()
	if err := state.ValidName(c.Name); err != nil {
		return fmt.Errorf("googleworkspace: name: %w", err)
	}
	if (c.CredentialsFile == "") == (c.CredentialsEnv == "") {
		return fmt.Errorf("googleworkspace %s: set exactly one of credentials_file and credentials_env", c.Name)
	}
	if c.Subject == "" {
		return fmt.Errorf("googleworkspace %s: subject (the administrator to act as) is required", c.Name)
	}
	seen := map[string]bool{}
	for _, a := range c.Applications {
		if datasetOf(a) == "" {
			return fmt.Errorf("googleworkspace %s: unknown application %q; want %s", c.Name, a, strings.Join(appNames(), ", "))
		}
		if seen[a] {
			return fmt.Errorf("googleworkspace %s: application %q listed twice", c.Name, a)
		}
		seen[a] = true
	}
	for a, d := range c.Lags {
		if !slices.Contains(c.Applications, a) {
			return fmt.Errorf("googleworkspace %s: lags: %q is not a polled application", c.Name, a)
		}
		if d < 0 {
			return fmt.Errorf("googleworkspace %s: lags: %s: negative", c.Name, a)
		}
	}
	switch {
	case c.Interval < 0, c.Lag < 0, c.InitialLookback < 0, c.MaxWindow < 0:
		return fmt.Errorf("googleworkspace %s: negative duration in config", c.Name)
	case c.InitialLookback > maxLookback:
		return fmt.Errorf("googleworkspace %s: initial_lookback %s is beyond the API's 180 days", c.Name, c.InitialLookback)
	case c.MaxWindow < time.Second:
		return fmt.Errorf("googleworkspace %s: max_window must be at least 1s", c.Name)
	case c.Interval < time.Second:
		return fmt.Errorf("googleworkspace %s: interval %s: want at least 1s (write durations with a unit, such as 5m)", c.Name, c.Interval)
	case c.PageSize < 1 || c.PageSize > 1000:
		return fmt.Errorf("googleworkspace %s: page_size %d: want 1 to 1000", c.Name, c.PageSize)
	}
	for field, u := range map[string]string{"base_url": c.BaseURL, "token_url": c.TokenURL} {
		if u == "" {
			continue
		}
		if err := checkURL(u); err != nil {
			return fmt.Errorf("googleworkspace %s: %s: %w", c.Name, field, err)
		}
	}
	return nil
}

func (c Config) lag(app string) time.Duration {
	if d, ok := c.Lags[app]; ok {
		return d
	}
	if c.Lag > 0 {
		return c.Lag
	}
	return DefaultLag(app)
}

func datasetOf(app string) string {
	for _, a := range applications {
		if a.name == app {
			return a.dataset
		}
	}
	return ""
}

func appNames() []string {
	var names []string
	for _, a := range applications {
		names = append(names, a.name)
	}
	return names
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("want an http(s) URL with a host")
	}
	return nil
}

// StateName is the collector's name once defaults apply: its state file's
// name, which must be unique among the collectors.
func (c Config) StateName() string { return c.withDefaults().Name }
