package cylance

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
	DefaultName            = "cylance"
	DefaultBaseURL         = "https://protectapi.cylance.com"
	DefaultInterval        = 15 * time.Minute
	DefaultLag             = 10 * time.Minute
	DefaultInitialLookback = 24 * time.Hour
	DefaultDeviceInterval  = 24 * time.Hour
	DefaultPageSize        = 200
	DefaultTokenLifetime   = 30 * time.Minute

	// maxTokenLifetime is the longest token the Cylance API grants.
	maxTokenLifetime = 30 * time.Minute
)

// Dataset is the dataset of everything the collector archives.
const Dataset = "cylance.protect"

// Config configures one Cylance PROTECT API collector: an API application
// of the console's Integrations page with read access to threats and
// devices. Zero fields take the defaults above.
type Config struct {
	// Name names the collector: its state file (<name>.json), the batches'
	// listener ("poll-<name>") and its log lines. Default "cylance".
	Name string `yaml:"name"`
	// TenantID is the console's tenant ID. Required.
	TenantID string `yaml:"tenant_id"`
	// AppID is the application ID. Required.
	AppID string `yaml:"app_id"`
	// AppSecretFile is a file holding the application secret. Either it
	// or AppSecretEnv is required.
	AppSecretFile string `yaml:"app_secret_file"`
	// AppSecretEnv names an environment variable holding the secret.
	AppSecretEnv string `yaml:"app_secret_env"`
	// Sources are "threats" and "devices". Default both.
	Sources []string `yaml:"sources"`
	// BaseURL is the API's regional address, such as
	// https://protectapi-euc1.cylance.com. Default
	// https://protectapi.cylance.com (North America).
	BaseURL string `yaml:"base_url"`
	// Interval between polls of the threat list. Default 15m.
	Interval time.Duration `yaml:"interval"`
	// Lag: a threat is archived once its last_found is this far in the
	// past. Default 10m.
	Lag time.Duration `yaml:"lag"`
	// InitialLookback is how far back the first poll takes threats.
	// Default 24h.
	InitialLookback time.Duration `yaml:"initial_lookback"`
	// DeviceInterval is how often the whole device list is archived.
	// Default 24h.
	DeviceInterval time.Duration `yaml:"device_interval"`
	// PageSize is page_size, 1 to 200. Default 200.
	PageSize int `yaml:"page_size"`
	// TokenLifetime is the life asked for an access token, at most 30m.
	// Default 30m.
	TokenLifetime time.Duration `yaml:"token_lifetime"`
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if len(c.Sources) == 0 {
		c.Sources = []string{"threats", "devices"}
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Lag == 0 {
		c.Lag = DefaultLag
	}
	if c.InitialLookback == 0 {
		c.InitialLookback = DefaultInitialLookback
	}
	if c.DeviceInterval == 0 {
		c.DeviceInterval = DefaultDeviceInterval
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.TokenLifetime == 0 {
		c.TokenLifetime = DefaultTokenLifetime
	}
	return c
}

// Validate reports the first problem of c (after defaults), or nil. It does
// not read the secret.
func (c Config) Validate() error {
	c = c.withDefaults()
	if err := state.ValidName(c.Name); err != nil {
		return fmt.Errorf("cylance: name: %w", err)
	}
	switch {
	case c.TenantID == "":
		return fmt.Errorf("cylance %s: tenant_id is required", c.Name)
	case c.AppID == "":
		return fmt.Errorf("cylance %s: app_id is required", c.Name)
	case (c.AppSecretFile == "") == (c.AppSecretEnv == ""):
		return fmt.Errorf("cylance %s: set exactly one of app_secret_file and app_secret_env", c.Name)
	case c.Interval < 0, c.Lag < 0, c.InitialLookback < 0, c.DeviceInterval < 0, c.TokenLifetime < 0:
		return fmt.Errorf("cylance %s: negative duration in config", c.Name)
	case c.DeviceInterval < time.Minute:
		return fmt.Errorf("cylance %s: device_interval must be at least 1m", c.Name)
	case c.TokenLifetime < time.Minute || c.TokenLifetime > maxTokenLifetime:
		return fmt.Errorf("cylance %s: token_lifetime %s: want 1m to 30m", c.Name, c.TokenLifetime)
	case c.Interval < time.Second:
		return fmt.Errorf("cylance %s: interval %s: want at least 1s (write durations with a unit, such as 5m)", c.Name, c.Interval)
	case c.PageSize < 1 || c.PageSize > 200:
		return fmt.Errorf("cylance %s: page_size %d: want 1 to 200", c.Name, c.PageSize)
	}
	seen := map[string]bool{}
	for _, s := range c.Sources {
		if s != "threats" && s != "devices" {
			return fmt.Errorf("cylance %s: unknown source %q; want threats or devices", c.Name, s)
		}
		if seen[s] {
			return fmt.Errorf("cylance %s: source %q listed twice", c.Name, s)
		}
		seen[s] = true
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("cylance %s: base_url: %w", c.Name, errors.New("want an http(s) URL with a host"))
	}
	return nil
}

func (c Config) has(source string) bool {
	for _, s := range c.Sources {
		if s == source {
			return true
		}
	}
	return false
}

// StateName is the collector's name once defaults apply: its state file's
// name, which must be unique among the collectors.
func (c Config) StateName() string { return c.withDefaults().Name }
