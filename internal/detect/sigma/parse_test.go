package sigma

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

const fullRule = `title: AWS Root Credentials
id: 8ad1600d-e9dc-4251-b0ee-a65268f29add
name: root_usage
status: test
description: Detects AWS root account usage
references:
    - https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html
author: vitaliy0x1
license: DRL-1.1
date: 2020-01-21
modified: 2022-10-09
tags:
    - attack.privilege-escalation
    - attack.t1078.004
related:
    - id: 00000000-0000-4000-8000-00000000000a
      type: derived
logsource:
    product: aws
    service: cloudtrail
    definition: management events
detection:
    selection_usertype:
        userIdentity.type: Root
    selection_eventtype:
        eventType: AwsServiceEvent
    condition: selection_usertype and not selection_eventtype
fields:
    - userIdentity.arn
falsepositives:
    - AWS Tasks That Require AWS Account Root User Credentials
level: Medium
custom_attribute: kept out of the way
`

func TestParseRule(t *testing.T) {
	rules, err := Parse("rules/aws_root.yml", []byte(fullRule))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 1 {
		t.Fatalf("%d rules, want 1", len(rules))
	}
	r := rules[0]
	want := &Rule{
		File: "rules/aws_root.yml", Line: 1,
		ID: "8ad1600d-e9dc-4251-b0ee-a65268f29add", Name: "root_usage", Title: "AWS Root Credentials",
		Status: "test", Level: LevelMedium, Description: "Detects AWS root account usage",
		Author: "vitaliy0x1", License: "DRL-1.1", Date: "2020-01-21", Modified: "2022-10-09",
		References:     []string{"https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html"},
		Tags:           []string{"attack.privilege-escalation", "attack.t1078.004"},
		Falsepositives: []string{"AWS Tasks That Require AWS Account Root User Credentials"},
		Fields:         []string{"userIdentity.arn"},
		Related:        []Related{{ID: "00000000-0000-4000-8000-00000000000a", Type: "derived"}},
		Logsource:      Logsource{Product: "aws", Service: "cloudtrail", Definition: "management events"},
	}
	det := r.Detection
	r.Detection = nil
	if !reflect.DeepEqual(r, want) {
		t.Errorf("rule:\n got %+v\nwant %+v", r, want)
	}
	if got := strings.Join(det.Names, ","); got != "selection_usertype,selection_eventtype" {
		t.Errorf("selections %s", got)
	}
	if got := det.Condition.String(); got != "(selection_usertype and not selection_eventtype)" {
		t.Errorf("condition %s", got)
	}
	it := det.Selections["selection_usertype"].Alternatives[0][0]
	if it.Field != "userIdentity.type" || len(it.Values) != 1 || it.Values[0].Text != "Root" || it.Line != 24 {
		t.Errorf("item %+v", it)
	}
	if got := det.FieldNames(); !reflect.DeepEqual(got, []string{"userIdentity.type", "eventType"}) {
		t.Errorf("field names %v", got)
	}
	if r.Level.Rank() != 2 || Level("severe").Rank() != -1 {
		t.Error("level ranks")
	}
}

func TestParseCollection(t *testing.T) {
	src := `action: global
title: Suspicious tool
author: someone
logsource:
    product: linux
detection:
    condition: selection
level: high
---
logsource:
    service: sshd
detection:
    selection:
        - 'tool-a'
---
action: repeat
title: Suspicious tool (b)
detection:
    selection:
        - 'tool-b'
---
action: reset
---
title: Standalone
logsource:
    category: dns
detection:
    sel:
        query: x
    condition: sel
`
	rules, err := Parse("c.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 3 {
		t.Fatalf("%d rules, want 3", len(rules))
	}
	a, b, c := rules[0], rules[1], rules[2]
	if a.Title != "Suspicious tool" || a.Author != "someone" || a.Level != LevelHigh ||
		a.Logsource != (Logsource{Product: "linux", Service: "sshd"}) || a.Detection.Conditions[0] != "selection" {
		t.Errorf("global merge: %+v %+v", a, a.Logsource)
	}
	if b.Title != "Suspicious tool (b)" || b.Logsource.Service != "sshd" ||
		b.Detection.Selections["selection"].Alternatives[0][0].Values[0].Text != "tool-b" {
		t.Errorf("repeat: %+v", b)
	}
	if c.Author != "" || c.Level != "" || c.Logsource != (Logsource{Category: "dns"}) {
		t.Errorf("reset left global values: %+v", c)
	}
}

func TestParseCorrelation(t *testing.T) {
	src := `title: Brute force then success
id: 10000000-0000-4000-8000-000000000001
correlation:
    type: temporal_ordered
    rules:
        - many_failures
        - ssh_success
    group-by:
        - source_ip
    timespan: 10m
level: high
---
title: Many failures
name: many_failures
correlation:
    type: event_count
    rules: ssh_failure
    group-by: [source_ip, user]
    timespan: 5m
    condition:
        gte: 5
---
title: Many users
correlation:
    type: value_count
    rules: [ssh_failure]
    group-by: [source_ip]
    timespan: 1h
    condition:
        field: user
        gt: 9
    aliases:
        source_ip:
            ssh_failure: src
    generate: true
`
	rules, err := Parse("corr.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 3 {
		t.Fatalf("%d rules", len(rules))
	}
	c0, c1, c2 := rules[0].Correlation, rules[1].Correlation, rules[2].Correlation
	if c0.Type != TemporalOrdered || c0.Condition.Min != 2 || c0.Timespan != 10*time.Minute ||
		!reflect.DeepEqual(c0.Rules, []string{"many_failures", "ssh_success"}) {
		t.Errorf("temporal_ordered: %+v", c0)
	}
	if c1.Type != EventCount || c1.Condition.Min != 5 || !reflect.DeepEqual(c1.GroupBy, []string{"source_ip", "user"}) ||
		!reflect.DeepEqual(c1.Rules, []string{"ssh_failure"}) || rules[1].Name != "many_failures" {
		t.Errorf("event_count: %+v", c1)
	}
	if c2.Type != ValueCount || c2.Condition.Min != 10 || c2.Field != "user" || !c2.Generate ||
		c2.Aliases["source_ip"]["ssh_failure"] != "src" || c2.Timespan != time.Hour {
		t.Errorf("value_count: %+v", c2)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, src string
		line      int
		want      string
	}{
		{"not YAML", "title: x\n  bad: [indent\n", 2, "YAML"},
		{"no title", "logsource: {product: x}\ndetection: {s: {a: 1}, condition: s}\n", 1, "no title"},
		{"unknown level", "title: x\nlogsource: {product: x}\ndetection: {s: {a: 1}, condition: s}\nlevel: severe\n", 4, `level "severe"`},
		{"unknown status", "title: x\nstatus: beta\nlogsource: {product: x}\ndetection: {s: {a: 1}, condition: s}\n", 2, `status "beta"`},
		{"no logsource", "title: x\ndetection: {s: {a: 1}, condition: s}\n", 1, "no logsource"},
		{"empty logsource", "title: x\nlogsource: {definition: y}\ndetection: {s: {a: 1}, condition: s}\n", 2, "names no product"},
		{"no detection", "title: x\nlogsource: {product: x}\n", 1, "no detection"},
		{"no condition", "title: x\nlogsource: {product: x}\ndetection:\n    s: {a: 1}\n", 4, "no condition"},
		{"undefined selection", "title: x\nlogsource: {product: x}\ndetection:\n    s: {a: 1}\n    condition: s and t\n", 5, `"t" is not a selection`},
		{"pattern matches nothing", "title: x\nlogsource: {product: x}\ndetection:\n    s: {a: 1}\n    condition: 1 of filter_*\n", 5, "matches no selection"},
		{"aggregation", "title: x\nlogsource: {product: x}\ndetection:\n    s: {a: 1}\n    condition: s | count() > 5\n", 5, "aggregations"},
		{"near", "title: x\nlogsource: {product: x}\ndetection:\n    s: {a: 1}\n    condition: s near t\n", 5, "unexpected"},
		{"empty selection", "title: x\nlogsource: {product: x}\ndetection:\n    s:\n    condition: s\n", 4, `selection "s" is empty`},
		{"mapping value", "title: x\nlogsource: {product: x}\ndetection:\n    s:\n        a: {b: c}\n    condition: s\n", 5, "found a mapping"},
		{"empty value list", "title: x\nlogsource: {product: x}\ndetection:\n    s:\n        a: []\n    condition: s\n", 5, "empty list of values"},
		{"empty modifier", "title: x\nlogsource: {product: x}\ndetection:\n    s:\n        a||contains: b\n    condition: s\n", 5, "empty modifier"},
		{"both detection and correlation", "title: x\nlogsource: {product: x}\ndetection: {s: {a: 1}, condition: s}\ncorrelation: {type: event_count}\n", 4, "not both"},
		{"unknown correlation type", "title: x\ncorrelation:\n    type: value_sum\n    rules: [a]\n    timespan: 1m\n", 3, `"value_sum"`},
		{"correlation lt", "title: x\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 1m\n    condition: {lt: 3}\n", 6, "supports gt and gte"},
		{"correlation without condition", "title: x\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 1m\n", 3, "needs a condition"},
		{"value_count without field", "title: x\ncorrelation:\n    type: value_count\n    rules: [a]\n    timespan: 1m\n    condition: {gte: 3}\n", 3, "needs the field"},
		{"bad timespan", "title: x\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 5 minutes\n    condition: {gte: 3}\n", 5, `timespan "5 minutes"`},
		{"threshold too high", "title: x\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 1m\n    condition: {gte: 1000000000}\n", 6, "above mamori's bound"},
		{"temporal asks too many", "title: x\ncorrelation:\n    type: temporal\n    rules: [a, b]\n    timespan: 1m\n    condition: {gte: 3}\n", 6, "distinct rules"},
		{"unknown correlation key", "title: x\ncorrelation:\n    type: temporal\n    rules: [a, b]\n    timespan: 1m\n    window: tumbling\n", 6, `unknown key "window"`},
		{"repeat first", "action: repeat\ntitle: x\n", 1, "no rule before it"},
		{"unknown action", "action: merge\ntitle: x\n", 1, `unknown action "merge"`},
		{"custom taxonomy", "title: x\ntaxonomy: ocsf\nlogsource: {product: x}\ndetection: {s: {a: 1}, condition: s}\n", 2, "taxonomy"},
		{"filter document", "title: x\nlogsource: {product: x}\nfilter: {rules: [a]}\n", 3, "filter documents"},
		{"duplicate key", "title: x\ntitle: y\n", 2, "given twice"},
		{"empty file", "", 0, "no rule"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rules, err := Parse("bad.yml", []byte(c.src))
			if err == nil {
				t.Fatalf("accepted (%d rules); want an error containing %q", len(rules), c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
			se, ok := AsError(err)
			if !ok {
				t.Fatalf("error %T is not an *Error", err)
			}
			if se.File != "bad.yml" || se.Line != c.line {
				t.Errorf("error at %s:%d, want bad.yml:%d (%v)", se.File, se.Line, c.line, err)
			}
		})
	}
}

func TestParseKeepsGoodDocuments(t *testing.T) {
	src := "title: good\nlogsource: {product: x}\ndetection: {s: {a: 1}, condition: s}\n---\ntitle: bad\nlogsource: {product: x}\ndetection: {s: {a|nope: 1}, condition: s}\n"
	rules, err := Parse("two.yml", []byte(src))
	if len(rules) != 1 || rules[0].Title != "good" {
		t.Fatalf("rules %v", rules)
	}
	if err == nil || !strings.Contains(err.Error(), `two.yml:7`) || !strings.Contains(err.Error(), `rule "bad"`) {
		t.Fatalf("error %v", err)
	}
}

func TestConditionGrammar(t *testing.T) {
	names := []string{"sel", "sel_a", "sel_b", "filter", "_x"}
	ok := []struct{ cond, want string }{
		{"sel", "sel"},
		{"sel or sel_a and filter", "(sel or (sel_a and filter))"},
		{"not sel and filter", "(not sel and filter)"},
		{"not (sel and filter)", "not (sel and filter)"},
		{"sel and sel_a and sel_b", "((sel and sel_a) and sel_b)"},
		{"1 of sel_* or all of them", "(1 of sel_* or all of them)"},
		{"( sel )", "sel"},
		{"((sel))or(filter)", "(sel or filter)"},
		{"all of sel*", "all of sel*"},
	}
	for _, c := range ok {
		e, err := ParseCondition(c.cond, names)
		if err != nil {
			t.Errorf("%q: %v", c.cond, err)
			continue
		}
		if e.String() != c.want {
			t.Errorf("%q parsed as %s, want %s", c.cond, e, c.want)
		}
	}
	of, _ := ParseCondition("1 of them", names)
	if got := of.(*OfExpr).Names; !reflect.DeepEqual(got, []string{"sel", "sel_a", "sel_b", "filter"}) {
		t.Errorf("them = %v (leaves out _x)", got)
	}
	of, _ = ParseCondition("all of sel_*", names)
	if got := of.(*OfExpr).Names; !reflect.DeepEqual(got, []string{"sel_a", "sel_b"}) {
		t.Errorf("sel_* = %v", got)
	}
	bad := []struct {
		cond string
		pos  int
		want string
	}{
		{"", 0, "empty condition"},
		{"sel and", 7, "want a selection name"},
		{"sel filter", 4, "unexpected \"filter\""},
		{"(sel", 4, `closing the "("`},
		{"sel)", 3, `unexpected ")"`},
		{"nope", 0, `"nope" is not a selection`},
		{"sel_*", 0, "needs \"1 of\""},
		{"them", 0, "needs \"1 of\""},
		{"2 of sel_*", 0, "only \"1 of\" and \"all of\""},
		{"1 of", 4, "after \"of\""},
		{"1 of (sel)", 5, "after \"of\""},
		{"sel | count() > 3", 4, "aggregations"},
		{"1 of zzz*", 5, "matches no selection"},
		{strings.Repeat("(", 300) + "sel" + strings.Repeat(")", 300), 200, "nested too deeply"},
		{strings.Repeat("not ", 300) + "sel", 800, "nested too deeply"},
	}
	for _, c := range bad {
		_, err := ParseCondition(c.cond, names)
		ce, isCond := err.(*CondError)
		if err == nil || !isCond {
			t.Errorf("%q: error %v, want a CondError", c.cond, err)
			continue
		}
		if !strings.Contains(ce.Msg, c.want) || ce.Pos != c.pos {
			t.Errorf("%.20q: error at %d %q, want at %d %q", c.cond, ce.Pos, ce.Msg, c.pos, c.want)
		}
	}
}

func TestParseAliasBomb(t *testing.T) {
	src := "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ntitle: bomb\n"
	_, err := Parse("bomb.yml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "document too large") {
		t.Fatalf("error %v, want the file refused as too large", err)
	}
}
