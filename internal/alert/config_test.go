package alert

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mamori-sec/mamori/internal/store"
)

const sampleYAML = `
window: 2h
rule_windows:
  ssh-brute-force: 30m
console_url: https://mamori.example.com
outbox:
  max_backoff: 5m
  keep_done: 2d
notifiers:
  - name: pd-secops
    type: pagerduty
    routing_key: {env: PD_ROUTING_KEY}
    min_severity: high
  - name: slack-soc
    type: slack
    webhook_url: {file: /run/secrets/slack_hook}
    datasets: [aws.*, panw.panos]
    update_interval: 30m
  - name: siem
    type: webhook
    url: https://siem.example.com/hooks/mamori
    secret: {file: /run/secrets/siem_hmac}
    update_interval: 0s
`

func TestConfigYAMLAndDefaults(t *testing.T) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader([]byte(sampleYAML)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Window != Duration(2*time.Hour) || c.window("ssh-brute-force") != 30*time.Minute || c.window("other") != 2*time.Hour {
		t.Errorf("windows: %v %v", c.Window, c.RuleWindows)
	}
	if c.MaxEventIDs != 1000 || c.Title != defaultTitle {
		t.Errorf("defaults: max ids %d title %q", c.MaxEventIDs, c.Title)
	}
	o := c.Outbox
	if o.PollInterval != Duration(time.Second) || o.MinBackoff != Duration(time.Second) || o.MaxBackoff != Duration(5*time.Minute) ||
		o.Timeout != Duration(10*time.Second) || o.GiveUpAfter != 0 || o.KeepDone != Duration(48*time.Hour) {
		t.Errorf("outbox: %+v", o)
	}
	want := map[string]time.Duration{"pd-secops": time.Minute, "slack-soc": 30 * time.Minute, "siem": 0}
	for _, n := range c.Notifiers {
		if time.Duration(*n.UpdateInterval) != want[n.Name] {
			t.Errorf("%s: update interval %v, want %v", n.Name, *n.UpdateInterval, want[n.Name])
		}
	}
	if c.Notifiers[1].MinSeverity != Informational {
		t.Errorf("default min severity: %q", c.Notifiers[1].MinSeverity)
	}
	if c.Notifiers[0].RoutingKey.String() != "env PD_ROUTING_KEY" {
		t.Errorf("secret names itself as %q", c.Notifiers[0].RoutingKey)
	}

	// Durations are Go durations or days; a bare number or an unknown
	// field is an error.
	var bad Config
	dec = yaml.NewDecoder(strings.NewReader("window: 3\n"))
	if err := dec.Decode(&bad); err == nil {
		t.Error("a bare number decoded as a window")
	}
	dec = yaml.NewDecoder(strings.NewReader("notifiers: [{name: x, type: slack, webhok_url: {env: X}}]\n"))
	dec.KnownFields(true)
	if err := dec.Decode(&bad); err == nil {
		t.Error("a misspelt field was accepted")
	}
}

func TestConfigValidateReportsEveryProblem(t *testing.T) {
	c := Config{
		Window:     Duration(-time.Hour),
		ConsoleURL: "mamori.example.com",
		Title:      "{{.Nope",
		Notifiers: []NotifierConfig{
			{Name: "pd", Type: "pagerduty"},
			{Name: "pd", Type: "slack", URL: "https://hooks.slack.com/services/x", WebhookURL: Secret{Env: "A", File: "b"}},
			{Name: "Hook!", Type: "webhook", Secret: Secret{Env: "S"}},
			{Name: "x", Type: "email"},
			{Name: "y", Type: "webhook", URL: "ftp://x", Secret: Secret{Env: "S"}, MinSeverity: "urgent", Datasets: []string{"aws.["}},
		},
	}
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"alerts.window: must be positive",
		"alerts.console_url",
		"alerts.title",
		"alerts.notifiers[0].routing_key: required for type pagerduty",
		`alerts.notifiers[1].name: "pd" is used twice`,
		"alerts.notifiers[1].url: a Slack webhook URL is a secret",
		"alerts.notifiers[1].webhook_url: give file or env, not both",
		`alerts.notifiers[2].name: "Hook!"`,
		"alerts.notifiers[2].url: required for type webhook",
		`alerts.notifiers[3].type: "email"`,
		"alerts.notifiers[4].url: want an http(s) URL",
		`alerts.notifiers[4].min_severity: severity "urgent"`,
		`alerts.notifiers[4].datasets: bad pattern "aws.["`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}

func TestRoutes(t *testing.T) {
	n := NotifierConfig{MinSeverity: Medium, Datasets: []string{"aws.*", "panw.panos"}}
	for _, tt := range []struct {
		sev     Severity
		dataset string
		want    bool
	}{
		{High, "aws.cloudtrail", true},
		{Medium, "panw.panos", true},
		{Low, "aws.cloudtrail", false},
		{Critical, "fortinet.fortigate", false},
		{Critical, "aws", false},
	} {
		if got := n.Routes(&Alert{Severity: tt.sev, Dataset: tt.dataset}); got != tt.want {
			t.Errorf("%s %s: routed %v, want %v", tt.sev, tt.dataset, got, tt.want)
		}
	}
	all := NotifierConfig{}
	if !all.Routes(&Alert{Severity: Informational, Dataset: "x"}) {
		t.Error("a notifier without filters does not route everything")
	}
}

func TestSecretValue(t *testing.T) {
	f := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(f, []byte("  k3y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := (Secret{File: f}).Value(); err != nil || v != "k3y" {
		t.Errorf("file: %q %v", v, err)
	}
	t.Setenv("MAMORI_TEST_SECRET", "v4l")
	if v, err := (Secret{Env: "MAMORI_TEST_SECRET"}).Value(); err != nil || v != "v4l" {
		t.Errorf("env: %q %v", v, err)
	}
	t.Setenv("MAMORI_TEST_EMPTY", "")
	for _, s := range []Secret{{}, {Env: "MAMORI_TEST_EMPTY"}, {File: f + ".missing"}, {File: f, Env: "X"}} {
		if _, err := s.Value(); err == nil {
			t.Errorf("%+v: no error", s)
		}
	}
}

func TestSeverityAndStatusNames(t *testing.T) {
	order := []Severity{Informational, Low, Medium, High, Critical}
	for i, s := range order {
		if _, err := ParseSeverity(string(s)); err != nil {
			t.Error(err)
		}
		for j, o := range order {
			if s.AtLeast(o) != (i >= j) {
				t.Errorf("%s.AtLeast(%s) = %v", s, o, s.AtLeast(o))
			}
		}
	}
	if _, err := ParseSeverity("warning"); err == nil {
		t.Error("warning accepted as a severity")
	}
	// The store knows the resolved status by name.
	if string(Resolved) != store.AlertResolved {
		t.Errorf("store.AlertResolved = %q, alert.Resolved = %q", store.AlertResolved, Resolved)
	}
	if _, err := ParseStatus("closed"); err == nil {
		t.Error("closed accepted as a status")
	}
}

func TestGroupHashSeparatesValues(t *testing.T) {
	if groupHash("r", []string{"a b", "c"}) == groupHash("r", []string{"a", "b c"}) {
		t.Error("values run together")
	}
	if groupHash("r", []string{"a"}) == groupHash("ra", nil) {
		t.Error("rule id and key run together")
	}
	h1 := groupHash("r", []string{"a", "b"})
	h2 := groupHash("r", []string{"a", "b"})
	if h1 != h2 || len(h1) != 32 {
		t.Errorf("not deterministic, or not 128 bits of hex: %s %s", h1, h2)
	}
}

func TestDurationForms(t *testing.T) {
	for in, want := range map[string]time.Duration{"0": 0, "90s": 90 * time.Second, "1h30m": 90 * time.Minute, "7d": 7 * 24 * time.Hour, "0.5d": 12 * time.Hour} {
		d, err := ParseDuration(in)
		if err != nil || time.Duration(d) != want {
			t.Errorf("%q: %v %v, want %v", in, time.Duration(d), err, want)
		}
	}
	for _, in := range []string{"3", "xd", "soon"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	out, err := yaml.Marshal(Config{Window: Duration(72 * time.Hour), Outbox: OutboxConfig{PollInterval: Duration(1500 * time.Millisecond)}})
	if err != nil || !strings.Contains(string(out), "window: 3d") || !strings.Contains(string(out), "poll_interval: 1.5s") {
		t.Errorf("marshal: %s %v", out, err)
	}
}

func TestStormConfig(t *testing.T) {
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(`
storm: {max_new_alerts: 50, per: 1m}
rule_storms:
  mamori-deepsecurity-ips-blocked: {max_new_alerts: 200}
  noisy: {per: 1h}
  chatty: {off: true}
cache_groups: 100
flush_interval: 5s
`))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for rule, want := range map[string]StormConfig{
		"other":                           {MaxNewAlerts: 50, Per: Duration(time.Minute)},
		"mamori-deepsecurity-ips-blocked": {MaxNewAlerts: 200, Per: Duration(time.Minute)},
		"noisy":                           {MaxNewAlerts: 50, Per: Duration(time.Hour)},
	} {
		if got, on := c.storm(rule); !on || got != want {
			t.Errorf("%s: %+v (on %v), want %+v", rule, got, on, want)
		}
	}
	if _, on := c.storm("chatty"); on {
		t.Error("chatty's guard is on")
	}
	if c.CacheGroups != 100 || c.FlushInterval != Duration(5*time.Second) {
		t.Errorf("cache %d flush %v", c.CacheGroups, c.FlushInterval)
	}

	var d Config
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if s, on := d.storm("x"); !on || s.MaxNewAlerts != 20 || s.Per != Duration(10*time.Minute) {
		t.Errorf("default storm guard: %+v on %v", s, on)
	}
	if d.CacheGroups != 4096 || d.FlushInterval != Duration(time.Second) {
		t.Errorf("defaults: cache %d flush %v", d.CacheGroups, d.FlushInterval)
	}
	d = Config{Storm: StormConfig{Off: true}, RuleStorms: map[string]StormConfig{"x": {MaxNewAlerts: 5}}}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, on := d.storm("x"); on {
		t.Error("storm.off does not turn every rule's guard off")
	}

	bad := Config{Storm: StormConfig{MaxNewAlerts: -1, Per: Duration(-time.Second)}, CacheGroups: -1,
		FlushInterval: Duration(-time.Second), RuleStorms: map[string]StormConfig{"r": {MaxNewAlerts: -2}}}
	err := bad.Validate()
	for _, want := range []string{"alerts.storm.max_new_alerts", "alerts.storm.per", "alerts.rule_storms.r.max_new_alerts",
		"alerts.cache_groups", "alerts.flush_interval"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}
