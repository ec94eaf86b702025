// Package config reads and validates mamori's one YAML configuration file.
// Every field has a default, so `mamori serve` runs with no file at all.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mamori-sec/mamori/internal/alert"
	"github.com/mamori-sec/mamori/internal/archive"
	"github.com/mamori-sec/mamori/internal/collect/cylance"
	"github.com/mamori-sec/mamori/internal/collect/googleworkspace"
	"github.com/mamori-sec/mamori/internal/collect/msgraph"
	"github.com/mamori-sec/mamori/internal/collect/tail"
)

// Config is the whole configuration. Field comments are the reference; the
// same text is in docs/configuration.md.
type Config struct {
	// DataDir holds the archive (by default), the database and state.
	DataDir string `yaml:"data_dir"`
	// Timezone is assumed for log timestamps that carry no zone (BSD syslog).
	Timezone string `yaml:"timezone"`

	HTTP       HTTP       `yaml:"http"`
	Syslog     []Listener `yaml:"syslog"`
	Archive    Archive    `yaml:"archive"`
	Store      Store      `yaml:"store"`
	Processing Processing `yaml:"processing"`
	Retention  Retention  `yaml:"retention"`
	// Sources map archive key prefixes written by others (CloudTrail's S3
	// delivery, fluentd's S3 output) to datasets.
	Sources []Source `yaml:"sources"`
	// Datasets are mapping files that define custom datasets without code
	// (docs/datasets/custom.md).
	Datasets []string `yaml:"datasets"`
	// Enrichment adds context to events when they are read: who held an
	// address (DHCP), where it is (GeoIP). docs/enrichment.md.
	Enrichment Enrichment `yaml:"enrichment"`
	// Collect configures the collectors that fetch logs from where they do
	// not push them: vendors' APIs and local files (docs/collectors.md).
	Collect Collect `yaml:"collect"`
	// Rules are the detection rules evaluated on every stored event
	// (docs/rules.md).
	Rules Rules `yaml:"rules"`
	// Alerts groups rule matches into alerts and routes their
	// notifications (docs/alerts.md).
	Alerts alert.Config `yaml:"alerts"`
	// Console configures the web console (docs/console.md).
	Console Console `yaml:"console"`
	// Auth holds users, roles and dataset grants (docs/access.md).
	Auth Auth `yaml:"auth"`
}

// Rules configures detection.
type Rules struct {
	// Sigma lists Sigma rule files, directories (every .yml and .yaml file
	// below them) and glob patterns (rules/*.yml). A path or pattern that
	// names nothing is an error.
	Sigma []string `yaml:"sigma"`
	// FieldMappings are field-mapping files laid over the shipped tables
	// (logsources → datasets, Sigma field names → ECS).
	FieldMappings []string `yaml:"field_mappings"`
	// Disabled are rule ids (or names) that raise no alerts. A disabled
	// rule a correlation counts still feeds it.
	Disabled []string `yaml:"disabled"`
	// Placeholders give the values of Sigma `expand` placeholders
	// (%Servers%: [...]), by name without the percent signs.
	Placeholders map[string][]string `yaml:"placeholders"`
	// AllowRejected starts the server even when configured rules do not
	// load: each is logged at error level and counted in
	// mamori_rules_rejected. By default such a rule stops the start.
	AllowRejected bool `yaml:"allow_rejected"`
	// Builtin loads mamori's built-in rules for the seed scenarios (default
	// true; docs/rules.md lists them). Individual ones can be disabled.
	Builtin *bool `yaml:"builtin"`
	// Replay re-runs the rules at start over events of this last stretch of
	// time, so that matches of batches stored just before a crash are not
	// lost and correlations resume (default 15m; 0 disables).
	Replay *Duration `yaml:"replay"`
}

// BuiltinOn reports whether the built-in rules are loaded.
func (r Rules) BuiltinOn() bool { return r.Builtin == nil || *r.Builtin }

// ReplayWindow is how far back the rules run again at start.
func (r Rules) ReplayWindow() time.Duration {
	if r.Replay == nil {
		return 15 * time.Minute
	}
	return time.Duration(*r.Replay)
}

// Enrichment configures read-time enrichment.
type Enrichment struct {
	DHCP  DHCPEnrichment  `yaml:"dhcp"`
	GeoIP GeoIPEnrichment `yaml:"geoip"`
}

// DHCPEnrichment attributes addresses to the machines that leased them.
type DHCPEnrichment struct {
	// Enabled learns leases from dhcp.lease events (default true).
	Enabled *bool `yaml:"enabled"`
	// Retention keeps lease intervals this long after they end (default 30d).
	Retention Duration `yaml:"retention"`
	// DefaultLease is the length of a bind whose log gives none (default 24h).
	DefaultLease Duration `yaml:"default_lease"`
}

// On reports whether DHCP attribution is enabled.
func (d DHCPEnrichment) On() bool { return d.Enabled == nil || *d.Enabled }

// GeoIPEnrichment locates public addresses with MaxMind-format databases.
type GeoIPEnrichment struct {
	// CityDatabase is a GeoIP2/GeoLite2 City or Country .mmdb; "" disables geo.
	CityDatabase string `yaml:"city_database"`
	// ASNDatabase is a GeoLite2-ASN or GeoIP2-ISP .mmdb; "" disables as.*.
	ASNDatabase string `yaml:"asn_database"`
	// ReloadInterval is how often the files are checked for a new version
	// (default 10m).
	ReloadInterval Duration `yaml:"reload_interval"`
	// SkipNetworks are CIDRs never looked up, besides the private ranges.
	SkipNetworks []string `yaml:"skip_networks"`
	// Verify checks every record of a file when it is opened.
	Verify bool `yaml:"verify"`
}

// Collect lists the collectors, by kind. Each entry is one collector with
// its own cursor; names must be unique across all of them.
type Collect struct {
	GoogleWorkspace []googleworkspace.Config `yaml:"google_workspace"`
	MicrosoftGraph  []msgraph.Config         `yaml:"microsoft_graph"`
	Cylance         []cylance.Config         `yaml:"cylance"`
	Tail            []tail.Config            `yaml:"tail"`
}

// collectorNamer is what every collector config has.
type collectorNamer interface {
	Validate() error
	StateName() string
}

// HTTP is the API listener.
type HTTP struct {
	// Address to listen on; "" disables the HTTP server.
	Address string `yaml:"address"`
	// MaxBodyBytes caps one intake request (after decompression).
	MaxBodyBytes ByteSize `yaml:"max_body_bytes"`
	// TLSCert and TLSKey enable HTTPS.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// Pprof serves Go's profiling endpoints under /debug/pprof/ on this
	// listener (admins only once users are configured): for finding where
	// memory and CPU go in production.
	Pprof bool `yaml:"pprof"`
}

// Listener is one syslog listener.
type Listener struct {
	// Name labels the listener in metrics and logs; defaults to
	// "syslog-<protocol>".
	Name string `yaml:"name"`
	// Protocol is udp, tcp or tls.
	Protocol string `yaml:"protocol"`
	// Address to listen on, host:port.
	Address string `yaml:"address"`
	// Dataset the records are archived under (default syslog; lines are
	// still recognised as CEF, LEEF, ... when processed).
	Dataset string `yaml:"dataset"`
	// MaxMessageBytes caps one message (default 64 KiB).
	MaxMessageBytes ByteSize `yaml:"max_message_bytes"`
	// FlushInterval bounds how long a received message waits before it is
	// archived (default 1s for UDP, 200ms for TCP).
	FlushInterval Duration `yaml:"flush_interval"`
	// FlushBytes archives the buffer once it holds this much (default 1 MiB).
	FlushBytes ByteSize `yaml:"flush_bytes"`
	// TLSCert, TLSKey: the server certificate (protocol tls).
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// TLSClientCA, when set, requires client certificates signed by it.
	TLSClientCA string `yaml:"tls_client_ca"`
	// MaxConnections caps concurrent TCP connections (default 1024).
	MaxConnections int `yaml:"max_connections"`
}

// Archive is the object store raw logs land in first.
type Archive struct {
	// URL of the bucket: file:///path (default DATA_DIR/archive) or
	// s3://bucket?endpoint=...&region=...
	URL string `yaml:"url"`
	// Retention deletes raw objects older than this; 0 keeps them forever.
	Retention Duration `yaml:"retention"`
	// Compression is the zstd level objects are written with: fastest,
	// default (the default), better or best.
	Compression string `yaml:"compression"`
}

// Store is the embedded DuckDB event store.
type Store struct {
	// Path of the database file (default DATA_DIR/mamori.duckdb).
	Path string `yaml:"path"`
	// MemoryLimit caps DuckDB's memory, e.g. "1GB" (default 512MB; DuckDB's
	// own default, 80 % of the machine's memory, let a 10 M-event load grow
	// past 2 GiB).
	MemoryLimit string `yaml:"memory_limit"`
	// Threads caps DuckDB's threads (default: one per core).
	Threads int `yaml:"threads"`
}

// Processing tunes the processor.
type Processing struct {
	// Workers process objects in parallel (default 2).
	Workers int `yaml:"workers"`
	// BatchRecords is how many records are committed per transaction
	// (default 20480: a multiple of the block size, so that blocks line
	// up with the archive's frames of 4096 records).
	BatchRecords int `yaml:"batch_records"`
	// BlockRecords is how many records a store block holds: the unit of
	// keyword filtering and of reading events back (default 4096).
	BlockRecords int `yaml:"block_records"`
	// MaxPendingBytes applies back-pressure to intake once this many bytes
	// of archived objects wait to be processed (default 2 GiB).
	MaxPendingBytes ByteSize `yaml:"max_pending_bytes"`
	// ScanInterval is how often source prefixes are listed for objects
	// nobody announced (default 1m). mamori's own raw/ prefix is listed at
	// start and on request (POST /api/v1/archive/scan): its objects are
	// announced by the intake that writes them.
	ScanInterval Duration `yaml:"scan_interval"`
	// GoMemoryLimit is a soft limit on the Go heap (runtime/debug's
	// SetMemoryLimit; default 400MiB, 0 for none; the GOMEMLIMIT
	// environment variable wins). Near it the garbage collector runs more
	// often instead of letting the heap double: at 10 M events it cut the
	// server's peak memory by ~200 MiB for ~4 % more CPU. DuckDB's memory
	// is store.memory_limit, apart from this.
	GoMemoryLimit ByteSize `yaml:"go_memory_limit"`
}

// Retention sets how long events stay searchable.
type Retention struct {
	// Default applies to every dataset not listed (default 90d).
	Default Duration `yaml:"default"`
	// Datasets overrides the default per dataset name.
	Datasets map[string]Duration `yaml:"datasets"`
	// Interval is how often the retention job runs (default 1h).
	Interval Duration `yaml:"interval"`
}

// Source maps archive objects written by others to a dataset.
type Source struct {
	// Prefix of the keys, e.g. "AWSLogs/" or "ds_agent/".
	Prefix string `yaml:"prefix"`
	// Dataset the objects' records belong to; "" recognises each object's
	// dataset by its key (the vendors' own layouts, such as CloudTrail's
	// AWSLogs/{account}/CloudTrail/...), and skips objects none claims.
	Dataset string `yaml:"dataset"`
}

// Default returns the zero-configuration defaults.
func Default() Config {
	return Config{
		DataDir:  "./mamori-data",
		Timezone: "UTC",
		HTTP:     HTTP{Address: "127.0.0.1:8514", MaxBodyBytes: 64 << 20},
		Syslog: []Listener{
			{Protocol: "udp", Address: "127.0.0.1:5514"},
			{Protocol: "tcp", Address: "127.0.0.1:5514"},
		},
		Store: Store{MemoryLimit: "512MB"},
		Processing: Processing{Workers: 2, BatchRecords: 20480, MaxPendingBytes: 2 << 30, ScanInterval: Duration(time.Minute),
			GoMemoryLimit: 400 << 20},
		Retention: Retention{Default: Duration(90 * 24 * time.Hour), Interval: Duration(time.Hour)},
	}
}

// Load reads the file at path over the defaults; "" gives the defaults.
func Load(path string) (Config, error) {
	cfg := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) { // an empty file is the defaults
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	return cfg, nil
}

var datasetName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

// Finish fills derived defaults (paths under DataDir, listener names) and
// validates; it returns every problem found, one per line.
func (c *Config) Finish() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: must not be empty"))
	}
	if c.Store.Path == "" {
		c.Store.Path = filepath.Join(c.DataDir, "mamori.duckdb")
	}
	if c.Archive.URL == "" {
		abs, err := filepath.Abs(filepath.Join(c.DataDir, "archive"))
		if err != nil {
			errs = append(errs, fmt.Errorf("data_dir: %w", err))
		}
		c.Archive.URL = "file://" + filepath.ToSlash(abs)
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		errs = append(errs, fmt.Errorf("timezone: %w", err))
	}
	if c.HTTP.Address != "" {
		if err := checkAddress(c.HTTP.Address); err != nil {
			errs = append(errs, fmt.Errorf("http.address: %w", err))
		}
	}
	if c.HTTP.MaxBodyBytes <= 0 {
		c.HTTP.MaxBodyBytes = 64 << 20
	}
	if (c.HTTP.TLSCert == "") != (c.HTTP.TLSKey == "") {
		errs = append(errs, errors.New("http: tls_cert and tls_key go together"))
	}
	names := map[string]bool{}
	for i := range c.Syslog {
		l := &c.Syslog[i]
		where := fmt.Sprintf("syslog[%d]", i)
		switch l.Protocol {
		case "udp", "tcp":
		case "tls":
			if l.TLSCert == "" || l.TLSKey == "" {
				errs = append(errs, fmt.Errorf("%s: protocol tls needs tls_cert and tls_key", where))
			}
		default:
			errs = append(errs, fmt.Errorf("%s.protocol: %q is not udp, tcp or tls", where, l.Protocol))
		}
		if err := checkAddress(l.Address); err != nil {
			errs = append(errs, fmt.Errorf("%s.address: %w", where, err))
		}
		if l.Name == "" {
			l.Name = "syslog-" + l.Protocol
		}
		if names[l.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q is used twice", where, l.Name))
		}
		names[l.Name] = true
		if l.Dataset == "" {
			l.Dataset = "syslog"
		}
		if !datasetName.MatchString(l.Dataset) {
			errs = append(errs, fmt.Errorf("%s.dataset: %q is not a dataset name", where, l.Dataset))
		}
		if l.MaxMessageBytes <= 0 {
			l.MaxMessageBytes = 64 << 10
		}
		if l.FlushBytes <= 0 {
			l.FlushBytes = 1 << 20
		}
		if l.FlushInterval <= 0 {
			l.FlushInterval = Duration(time.Second)
			if l.Protocol != "udp" {
				l.FlushInterval = Duration(200 * time.Millisecond)
			}
		}
		if l.MaxConnections <= 0 {
			l.MaxConnections = 1024
		}
	}
	if c.Processing.Workers <= 0 {
		c.Processing.Workers = 2
	}
	if c.Archive.Compression == "" {
		c.Archive.Compression = "default"
	}
	if err := archive.CompressionLevel(c.Archive.Compression); err != nil {
		errs = append(errs, fmt.Errorf("archive.compression: %w", err))
	}
	if c.Processing.BatchRecords <= 0 {
		c.Processing.BatchRecords = 20480
	}
	if c.Processing.BlockRecords <= 0 {
		c.Processing.BlockRecords = 4096
	}
	if c.Processing.MaxPendingBytes <= 0 {
		c.Processing.MaxPendingBytes = 2 << 30
	}
	if c.Processing.ScanInterval <= 0 {
		c.Processing.ScanInterval = Duration(time.Minute)
	}
	if c.Retention.Default < 0 {
		errs = append(errs, errors.New("retention.default: must not be negative"))
	}
	if c.Retention.Interval <= 0 {
		c.Retention.Interval = Duration(time.Hour)
	}
	for name, d := range c.Retention.Datasets {
		if d < 0 {
			errs = append(errs, fmt.Errorf("retention.datasets.%s: must not be negative", name))
		}
	}
	errs = append(errs, c.Collect.validate()...)
	for i, n := range c.Enrichment.GeoIP.SkipNetworks {
		if _, err := netip.ParsePrefix(n); err != nil {
			errs = append(errs, fmt.Errorf("enrichment.geoip.skip_networks[%d]: %w", i, err))
		}
	}
	if c.Enrichment.GeoIP.ReloadInterval <= 0 {
		c.Enrichment.GeoIP.ReloadInterval = Duration(10 * time.Minute)
	}
	errs = append(errs, c.Rules.validate()...)
	errs = append(errs, c.Console.validate()...)
	c.Auth.finish()
	if err := c.Alerts.Validate(); err != nil {
		errs = append(errs, err)
	}
	for i, s := range c.Sources {
		if s.Prefix == "" || strings.HasPrefix(s.Prefix, "raw/") {
			errs = append(errs, fmt.Errorf("sources[%d].prefix: must be set and outside raw/", i))
		}
		if s.Dataset != "" && !datasetName.MatchString(s.Dataset) {
			errs = append(errs, fmt.Errorf("sources[%d].dataset: %q is not a dataset name", i, s.Dataset))
		}
	}
	return errors.Join(errs...)
}

// validate checks the rules section's shape; the files themselves are read
// when the rules load (serve --check does that too).
func (r Rules) validate() []error {
	var errs []error
	for i, p := range r.Sigma {
		if strings.TrimSpace(p) == "" {
			errs = append(errs, fmt.Errorf("rules.sigma[%d]: must not be empty", i))
		} else if _, err := filepath.Match(p, ""); err != nil {
			errs = append(errs, fmt.Errorf("rules.sigma[%d]: bad pattern %q: %w", i, p, err))
		}
	}
	for i, p := range r.FieldMappings {
		if strings.TrimSpace(p) == "" {
			errs = append(errs, fmt.Errorf("rules.field_mappings[%d]: must not be empty", i))
		}
	}
	for i, id := range r.Disabled {
		if strings.TrimSpace(id) == "" {
			errs = append(errs, fmt.Errorf("rules.disabled[%d]: must not be empty", i))
		}
	}
	for name, vs := range r.Placeholders {
		if name == "" || strings.Contains(name, "%") {
			errs = append(errs, fmt.Errorf("rules.placeholders: %q: give the name without %%", name))
		}
		if len(vs) == 0 {
			errs = append(errs, fmt.Errorf("rules.placeholders.%s: give at least one value", name))
		}
	}
	if r.Replay != nil && *r.Replay < 0 {
		errs = append(errs, errors.New("rules.replay: must not be negative"))
	}
	return errs
}

// validate checks every collector's configuration and that their names,
// which name their state files, are unique.
func (c Collect) validate() []error {
	var errs []error
	seen := map[string]string{}
	check := func(kind string, i int, cfg collectorNamer) {
		where := fmt.Sprintf("collect.%s[%d]", kind, i)
		if err := cfg.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			return
		}
		name := cfg.StateName()
		if other, dup := seen[name]; dup {
			errs = append(errs, fmt.Errorf("%s: name %q is also %s's: give each collector its own name", where, name, other))
		}
		seen[name] = where
	}
	for i, x := range c.GoogleWorkspace {
		check("google_workspace", i, x)
	}
	for i, x := range c.MicrosoftGraph {
		check("microsoft_graph", i, x)
	}
	for i, x := range c.Cylance {
		check("cylance", i, x)
	}
	for i, x := range c.Tail {
		check("tail", i, x)
	}
	return errs
}

// RetentionFor returns how long a dataset's events are kept; 0 is forever.
func (c *Config) RetentionFor(dataset string) time.Duration {
	if d, ok := c.Retention.Datasets[dataset]; ok {
		return time.Duration(d)
	}
	return time.Duration(c.Retention.Default)
}

func checkAddress(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port %q: %w", port, err)
	}
	_ = host
	return nil
}

// IsLoopback reports whether a listen address binds loopback only.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
