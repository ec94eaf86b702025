package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/alert"
)

func TestRulesAndAlertsSections(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mamori.yaml")
	writeFile(t, path, `
rules:
  sigma: [/etc/mamori/rules, "/etc/mamori/extra/*.yml"]
  field_mappings: [/etc/mamori/okta.yaml]
  disabled: [0a6d7a52-5f1c-4d8e-9a55-2b1f3c0e7d01]
  placeholders:
    Servers: [web-01, web-02]
  replay: 30m
alerts:
  window: 1h
  notifiers:
    - name: pd
      type: pagerduty
      routing_key: {env: PD_KEY}
      min_severity: high
`)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	r := c.Rules
	if len(r.Sigma) != 2 || r.FieldMappings[0] != "/etc/mamori/okta.yaml" || len(r.Disabled) != 1 ||
		len(r.Placeholders["Servers"]) != 2 || r.ReplayWindow() != 30*time.Minute || r.AllowRejected {
		t.Errorf("rules %+v", r)
	}
	a := c.Alerts
	if time.Duration(a.Window) != time.Hour || len(a.Notifiers) != 1 || a.Notifiers[0].MinSeverity != alert.High {
		t.Errorf("alerts %+v", a)
	}
	// Finish fills the alert defaults.
	if time.Duration(a.Outbox.MinBackoff) != time.Second || a.MaxEventIDs != 1000 {
		t.Errorf("alert defaults not filled: %+v", a.Outbox)
	}
}

func TestRulesDefaults(t *testing.T) {
	c := Default()
	if err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	if c.Rules.ReplayWindow() != 15*time.Minute || len(c.Rules.Sigma) != 0 {
		t.Errorf("rules defaults %+v", c.Rules)
	}
	zero := Duration(0)
	c.Rules.Replay = &zero
	if c.Rules.ReplayWindow() != 0 {
		t.Error("replay: 0 does not disable the replay")
	}
}

func TestRulesAndAlertsValidation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.yaml")
	writeFile(t, path, `
rules:
  sigma: ["", "rules/[.yml"]
  disabled: [""]
  placeholders:
    "%Servers%": []
  replay: -5m
alerts:
  window: -1h
  notifiers:
    - name: pd
      type: pagerduty
`)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Finish()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"rules.sigma[0]: must not be empty", "rules.sigma[1]: bad pattern",
		"rules.disabled[0]", `rules.placeholders: "%Servers%"`, "rules.placeholders.%Servers%: give at least one value",
		"rules.replay: must not be negative", "alerts.window: must be positive",
		"alerts.notifiers[0].routing_key: required for type pagerduty"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	writeFile(t, path, "rules:\n  sigmas: [x]\n")
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "sigmas") {
		t.Errorf("unknown field: %v", err)
	}
}
