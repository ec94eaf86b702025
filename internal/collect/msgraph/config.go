package msgraph

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/collect/state"
)

// Defaults applied to zero fields of Config.
const (
	DefaultName            = "msgraph"
	DefaultBaseURL         = "https://graph.microsoft.com"
	DefaultLoginURL        = "https://login.microsoftonline.com"
	DefaultScope           = "https://graph.microsoft.com/.default"
	DefaultInterval        = 5 * time.Minute
	DefaultLag             = 15 * time.Minute
	DefaultInitialLookback = 24 * time.Hour
	DefaultMaxWindow       = time.Hour
	DefaultPageSize        = 1000

	// maxLookback is the longest Entra ID keeps these logs (30 days with
	// a P1 or P2 licence, 7 without).
	maxLookback = 30 * 24 * time.Hour
)

// source is one Graph audit log list.
type source struct {
	name      string // the config's name of it
	path      string // under the base URL
	timeField string // the property its windows filter on
	dataset   string
}

var sources = []source{
	{"signins", "/v1.0/auditLogs/signIns", "createdDateTime", "azure.signinlogs"},
	{"directory_audits", "/v1.0/auditLogs/directoryAudits", "activityDateTime", "azure.auditlogs"},
}

func sourceOf(name string) (source, bool) {
	for _, s := range sources {
		if s.name == name {
			return s, true
		}
	}
	return source{}, false
}

// Config configures one Microsoft Graph audit log collector: an app
// registration with the AuditLog.Read.All application permission,
// authenticating with a client secret. Zero fields take the defaults above.
type Config struct {
	// Name names the collector: its state file (<name>.json), the batches'
	// listener ("poll-<name>") and its log lines. Default "msgraph".
	Name string `yaml:"name"`
	// TenantID is the directory (tenant) ID or a verified domain. Required.
	TenantID string `yaml:"tenant_id"`
	// ClientID is the application (client) ID. Required.
	ClientID string `yaml:"client_id"`
	// ClientSecretFile is a file holding the client secret. Either it or
	// ClientSecretEnv is required.
	ClientSecretFile string `yaml:"client_secret_file"`
	// ClientSecretEnv names an environment variable holding the secret.
	ClientSecretEnv string `yaml:"client_secret_env"`
	// Sources are the lists polled: "signins" (dataset azure.signinlogs)
	// and "directory_audits" (azure.auditlogs). Default both.
	Sources []string `yaml:"sources"`
	// Interval between polls. Default 5m.
	Interval time.Duration `yaml:"interval"`
	// Lag is how far behind the clock a query window ends, so that Entra
	// ID has written the window's entries when it is asked. Default 15m.
	Lag time.Duration `yaml:"lag"`
	// InitialLookback is how far back the first poll starts. Default 24h,
	// at most 30 days.
	InitialLookback time.Duration `yaml:"initial_lookback"`
	// MaxWindow caps the time range of one query. Default 1h.
	MaxWindow time.Duration `yaml:"max_window"`
	// PageSize is $top, 1 to 1000. Default 1000.
	PageSize int `yaml:"page_size"`
	// BaseURL is Graph's address (national clouds differ).
	// Default https://graph.microsoft.com.
	BaseURL string `yaml:"base_url"`
	// LoginURL is the identity platform's address.
	// Default https://login.microsoftonline.com.
	LoginURL string `yaml:"login_url"`
	// Scope is asked for with the token. Default
	// https://graph.microsoft.com/.default.
	Scope string `yaml:"scope"`
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if len(c.Sources) == 0 {
		for _, s := range sources {
			c.Sources = append(c.Sources, s.name)
		}
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Lag == 0 {
		c.Lag = DefaultLag
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
	if c.LoginURL == "" {
		c.LoginURL = DefaultLoginURL
	}
	if c.Scope == "" {
		c.Scope = DefaultScope
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	c.LoginURL = strings.TrimRight(c.LoginURL, "/")
	return c
}

// Validate reports the first problem of c (after defaults), or nil. It does
// not read the secret.
func (c Config) Validate() error {
	c = c.withDefaults()
	if err := state.ValidName(c.Name); err != nil {
		return fmt.Errorf("msgraph: name: %w", err)
	}
	switch {
	case c.TenantID == "":
		return fmt.Errorf("msgraph %s: tenant_id is required", c.Name)
	case strings.ContainsAny(c.TenantID, "/?#%"):
		return fmt.Errorf("msgraph %s: tenant_id %q is not a tenant ID or domain", c.Name, c.TenantID)
	case c.ClientID == "":
		return fmt.Errorf("msgraph %s: client_id is required", c.Name)
	case (c.ClientSecretFile == "") == (c.ClientSecretEnv == ""):
		return fmt.Errorf("msgraph %s: set exactly one of client_secret_file and client_secret_env", c.Name)
	case c.Interval < 0, c.Lag < 0, c.InitialLookback < 0, c.MaxWindow < 0:
		return fmt.Errorf("msgraph %s: negative duration in config", c.Name)
	case c.InitialLookback > maxLookback:
		return fmt.Errorf("msgraph %s: initial_lookback %s is beyond Entra ID's 30 days", c.Name, c.InitialLookback)
	case c.MaxWindow < time.Second:
		return fmt.Errorf("msgraph %s: max_window must be at least 1s", c.Name)
	case c.Interval < time.Second:
		return fmt.Errorf("msgraph %s: interval %s: want at least 1s (write durations with a unit, such as 5m)", c.Name, c.Interval)
	case c.PageSize < 1 || c.PageSize > 1000:
		return fmt.Errorf("msgraph %s: page_size %d: want 1 to 1000", c.Name, c.PageSize)
	}
	seen := map[string]bool{}
	for _, s := range c.Sources {
		if _, ok := sourceOf(s); !ok {
			return fmt.Errorf("msgraph %s: unknown source %q; want signins or directory_audits", c.Name, s)
		}
		if seen[s] {
			return fmt.Errorf("msgraph %s: source %q listed twice", c.Name, s)
		}
		seen[s] = true
	}
	for field, u := range map[string]string{"base_url": c.BaseURL, "login_url": c.LoginURL} {
		if err := checkURL(u); err != nil {
			return fmt.Errorf("msgraph %s: %s: %w", c.Name, field, err)
		}
	}
	return nil
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
