package native

import (
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/detect/sigma"
)

const burstRule = `id: test-burst
title: "{{count}} failed logins for {{user.name}}"
description: Bursts of failures.
author: test
references: [https://example.com/doc]
tags: [attack.credential_access]
datasets: [linux.syslog]
query: 'event.action:ssh_login AND event.outcome:failure'
threshold: 3
group_by: [user.name]
window: 10m
severity: high
summary: "from {{source.ip}} within {{window}}"
`

func TestParseRule(t *testing.T) {
	rules, err := Parse("burst.yml", []byte(burstRule))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 1 {
		t.Fatalf("%d rules", len(rules))
	}
	r := rules[0]
	if r.ID != "test-burst" || r.File != "burst.yml" || r.Line != 1 || r.Threshold != 3 || r.Window != 10*time.Minute ||
		r.Severity.Level != sigma.LevelHigh || len(r.Severity.Fields) != 0 || r.Author != "test" ||
		strings.Join(r.GroupBy, ",") != "user.name" || strings.Join(r.Datasets, ",") != "linux.syslog" ||
		strings.Join(r.References, ",") != "https://example.com/doc" || r.Summary != "from {{source.ip}} within {{window}}" {
		t.Errorf("rule %+v", r)
	}
	info := r.Info()
	if info.ID != r.ID || info.Title != r.Title || info.Level != sigma.LevelHigh || info.Tags[0] != "attack.credential_access" {
		t.Errorf("info %+v", info)
	}
}

func TestParseDefaultsAndSeverityMapping(t *testing.T) {
	src := `id: a
title: A
query: 'x:1'
severity:
  fields: [log.level, vendor.level]
  values: {Critical: critical, high: high}
  at_least: {4: medium, 9: critical, 7: high}
  default: low
min_severity: medium
---
id: b
title: B
query: 'y:2'
`
	rules, err := Parse("m.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a, b := rules[0], rules[1]
	if strings.Join(a.Severity.Fields, ",") != "log.level,vendor.level" || a.Severity.Level != sigma.LevelLow ||
		a.Severity.Values["critical"] != sigma.LevelCritical || a.MinSeverity != sigma.LevelMedium {
		t.Errorf("severity %+v", a.Severity)
	}
	// Bounds are kept highest first whatever the order written.
	if len(a.Severity.AtLeast) != 3 || a.Severity.AtLeast[0].Min != 9 || a.Severity.AtLeast[2].Min != 4 {
		t.Errorf("bounds %+v", a.Severity.AtLeast)
	}
	if b.Line != 11 || b.Threshold != 1 || b.Window != 0 || b.Severity.Level != sigma.LevelMedium || b.Datasets != nil {
		t.Errorf("defaults %+v", b)
	}
	if a.Severity.Highest() != sigma.LevelCritical {
		t.Errorf("highest %q", a.Severity.Highest())
	}
}

// TestParseErrors checks that every problem names the file, the line of
// what is wrong and says what.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, src string
		line      int
		want      string
	}{
		{"no id", "title: A\nquery: x\n", 1, "the rule has no id"},
		{"bad id", "id: a b\ntitle: A\nquery: x\n", 1, `id "a b": only letters`},
		{"no title", "id: a\nquery: x\n", 1, "no title"},
		{"no query", "id: a\ntitle: A\n", 1, "no query"},
		{"unknown key", "id: a\ntitle: A\nquery: x\nthreshhold: 3\n", 4, `unknown key "threshhold"`},
		{"twice", "id: a\ntitle: A\ntitle: B\nquery: x\n", 3, "title is given twice"},
		{"query syntax", "id: a\ntitle: A\nquery: 'user.name:(alice'\n", 3, "query:"},
		{"threshold text", "id: a\ntitle: A\nquery: x\nthreshold: many\n", 4, "threshold must be a whole number"},
		{"threshold zero", "id: a\ntitle: A\nquery: x\nthreshold: 0\n", 4, "want 1 to 100000"},
		{"threshold no window", "id: a\ntitle: A\nquery: x\nthreshold: 5\n", 4, "needs a window"},
		{"window", "id: a\ntitle: A\nquery: x\nwindow: soon\n", 4, `window "soon"`},
		{"window too long", "id: a\ntitle: A\nquery: x\nwindow: 90d\n", 4, "longer than 31d"},
		{"level", "id: a\ntitle: A\nquery: x\nseverity: urgent\n", 4, `severity "urgent" is not one of`},
		{"severity key", "id: a\ntitle: A\nquery: x\nseverity:\n  field: f\n  valus: {a: high}\n", 6, `unknown key "valus"`},
		{"severity no field", "id: a\ntitle: A\nquery: x\nseverity:\n  values: {a: high}\n", 5, "needs field"},
		{"severity no values", "id: a\ntitle: A\nquery: x\nseverity:\n  field: f\n", 5, "needs values or at_least"},
		{"severity bound", "id: a\ntitle: A\nquery: x\nseverity:\n  field: f\n  at_least: {high: high}\n", 6, `"high" is not a number`},
		{"min severity", "id: a\ntitle: A\nquery: x\nmin_severity: big\n", 4, `min_severity "big"`},
		{"template open", "id: a\ntitle: 'A {{user.name'\nquery: x\n", 2, "title: {{ without a closing }}"},
		{"template name", "id: a\ntitle: A\nquery: x\nsummary: 'by {{user name}}'\n", 4, "placeholder {{user name}}"},
		{"template empty", "id: a\ntitle: 'A {{ }}'\nquery: x\n", 2, "empty {{}} placeholder"},
		{"list", "id: a\ntitle: A\nquery: x\ndatasets: {a: b}\n", 4, "datasets must be a list"},
		{"group by", "id: a\ntitle: A\nquery: x\ngroup_by: ['a b']\n", 4, "group_by"},
		{"not mapping", "- a\n- b\n", 1, "must be a mapping"},
		{"yaml", "id: a\ntitle: [A\nquery: x\n", 1, "YAML:"}, // yaml.v3 names the line where the flow began
		{"empty", "", 0, "no rule in the file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rules, err := Parse("r.yml", []byte(c.src))
			if err == nil {
				t.Fatalf("no error; rules %+v", rules)
			}
			errs := Errors(err)
			if len(errs) != 1 {
				t.Fatalf("errors %v", errs)
			}
			e := errs[0]
			if e.File != "r.yml" || e.Line != c.line || !strings.Contains(e.Msg, c.want) {
				t.Errorf("got %q (line %d), want line %d and %q", e.Error(), e.Line, c.line, c.want)
			}
			if !strings.HasPrefix(e.Error(), "native: r.yml") {
				t.Errorf("error %q does not start with the file", e.Error())
			}
		})
	}
}

// TestParseKeepsGoodRules checks that one bad document does not hide the
// others, and that the error names the bad rule.
func TestParseKeepsGoodRules(t *testing.T) {
	src := "id: good\ntitle: G\nquery: x\n---\nid: bad\ntitle: B\nquery: 'a:(b'\n---\nid: good2\ntitle: G2\nquery: y\n"
	rules, err := Parse("r.yml", []byte(src))
	if len(rules) != 2 || rules[0].ID != "good" || rules[1].ID != "good2" {
		t.Fatalf("rules %v", rules)
	}
	errs := Errors(err)
	if len(errs) != 1 || errs[0].Rule != "bad" || errs[0].Line != 7 {
		t.Fatalf("errors %v", errs)
	}
	if !strings.Contains(errs[0].Error(), `r.yml:7:8: rule "bad": query:`) {
		t.Errorf("error text %q", errs[0].Error())
	}
}

func TestIsNative(t *testing.T) {
	sigmaRule := "title: x\nlogsource: {product: aws}\ndetection:\n  sel: {a: b}\n  condition: sel\n"
	for src, want := range map[string]bool{
		burstRule:                   true,
		sigmaRule:                   false,
		"title: x\nquery: y":        true,
		"- a":                       false,
		"{":                         false,
		"correlation: {}\nquery: x": false,
	} {
		if got := IsNative([]byte(src)); got != want {
			t.Errorf("IsNative(%q) = %v", src, got)
		}
	}
}

func TestParseWindow(t *testing.T) {
	for s, want := range map[string]time.Duration{"90s": 90 * time.Second, "10m": 10 * time.Minute, "1h30m": 90 * time.Minute, "2d": 48 * time.Hour} {
		got, err := parseWindow(s)
		if err != nil || got != want {
			t.Errorf("parseWindow(%q) = %v, %v", s, got, err)
		}
		if back, err := parseWindow(formatDuration(got)); err != nil || back != got {
			t.Errorf("formatDuration(%v) = %q does not read back", got, formatDuration(got))
		}
	}
	for _, s := range []string{"", "0s", "-1m", "d", "1.5d", "ten minutes"} {
		if _, err := parseWindow(s); err == nil {
			t.Errorf("parseWindow(%q) gave no error", s)
		}
	}
}
