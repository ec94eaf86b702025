package detect

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/datasets"
	"github.com/mamori-sec/mamori/internal/detect/fieldmap"
	"github.com/mamori-sec/mamori/internal/detect/sigma"
	"github.com/mamori-sec/mamori/internal/event"
)

func parseRules(t *testing.T, src string) []*sigma.Rule {
	t.Helper()
	rules, err := sigma.Parse("rules.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

func newEngine(t *testing.T, src string, opts Options) *Engine {
	t.Helper()
	eng, rejected := New(parseRules(t, src), opts)
	if len(rejected) > 0 {
		t.Fatalf("rejected: %v", rejected)
	}
	return eng
}

var received = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// syslogEvents parses syslog lines as the processor would.
func syslogEvents(t *testing.T, lines ...string) []*event.Event {
	t.Helper()
	reg := datasets.Builtin(datasets.Options{Now: func() time.Time { return received }})
	evs := recordEvents(reg, t.Name(), []byte(strings.Join(lines, "\n")), received)
	if len(evs) != len(lines) {
		t.Fatalf("%d events from %d lines", len(evs), len(lines))
	}
	return evs
}

func titles(ms []Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Rule.Title)
	}
	return out
}

const cloudRules = `title: Root login
id: 00000000-0000-4000-8000-000000000001
author: test author
logsource: {product: aws, service: cloudtrail}
detection:
    sel:
        eventName: ConsoleLogin
        userIdentity.type: Root
    condition: sel
level: critical
---
title: Trail stopped
id: 00000000-0000-4000-8000-000000000002
logsource: {product: aws, service: cloudtrail}
detection:
    sel:
        eventSource: cloudtrail.amazonaws.com
        eventName: [StopLogging, DeleteTrail]
        errorCode: null
    condition: sel
---
title: Okta thing
id: 00000000-0000-4000-8000-000000000003
logsource: {product: okta, service: okta}
detection:
    sel:
        eventType: user.session.start
    condition: sel
level: low
`

func TestEngineMatchesByDataset(t *testing.T) {
	eng := newEngine(t, cloudRules, Options{})
	root := event.New(8)
	root.Set("event.dataset", "aws.cloudtrail")
	root.Set("event.id", "e1")
	root.Set("@timestamp", received)
	root.Set("event.action", "ConsoleLogin")
	root.Set("aws.cloudtrail.user_identity.type", "Root")
	stop := event.New(8)
	stop.Set("event.dataset", "aws.cloudtrail")
	stop.Set("event.action", "StopLogging")
	stop.Set("event.provider", "cloudtrail.amazonaws.com")
	failedStop := event.New(8)
	failedStop.Set("event.dataset", "aws.cloudtrail")
	failedStop.Set("event.action", "StopLogging")
	failedStop.Set("event.provider", "cloudtrail.amazonaws.com")
	failedStop.Set("error.code", "AccessDenied")
	// The same fields in another dataset meet no CloudTrail rule.
	other := event.New(8)
	other.Set("event.dataset", "json")
	other.Set("event.action", "ConsoleLogin")
	other.Set("aws.cloudtrail.user_identity.type", "Root")

	ms := eng.Evaluate([]*event.Event{root, stop, failedStop, other})
	if got := titles(ms); !reflect.DeepEqual(got, []string{"Root login", "Trail stopped"}) {
		t.Fatalf("matches %v", got)
	}
	m := ms[0]
	if m.Severity != sigma.LevelCritical || m.EventID != "e1" || !m.Time.Equal(received) || m.Event != root || m.Correlation || m.Rule.Author != "test author" {
		t.Errorf("match %+v", m)
	}
	if ms[1].Severity != sigma.LevelMedium {
		t.Errorf("a rule without a level has severity %q, want medium", ms[1].Severity)
	}
	info := eng.Rules()
	if len(info) != 3 || !info[0].Active || !reflect.DeepEqual(info[0].Datasets, []string{"aws.cloudtrail"}) ||
		info[2].Active || info[2].Inactive != "no Okta dataset" {
		t.Errorf("rule info %+v", info)
	}
	if st := eng.Stats(); st.Evaluated != 3 || st.Matched != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestServiceConditions(t *testing.T) {
	eng := newEngine(t, `title: SSH oddity
logsource: {product: linux, service: sshd}
detection:
    keywords:
        - 'incorrect signature'
    condition: keywords
---
title: Any Linux program
logsource: {product: linux}
detection:
    keywords:
        - 'incorrect signature'
    condition: keywords
`, Options{})
	evs := syslogEvents(t,
		"<38>Mar  1 10:00:00 web-01 sshd[2041]: error: incorrect signature",
		"<38>Mar  1 10:00:01 web-01 myapp[77]: incorrect signature in upload",
	)
	ms := eng.Evaluate(evs)
	var got []string
	for _, m := range ms {
		got = append(got, m.Rule.Title+" on "+m.Event.String("process.name"))
	}
	want := []string{"SSH oddity on sshd", "Any Linux program on sshd", "Any Linux program on myapp"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("matches %v, want %v", got, want)
	}
}

func TestWhereOnListFields(t *testing.T) {
	eng := newEngine(t, `title: Scanner user agent
logsource: {category: webserver}
detection:
    sel:
        c-useragent|contains: sqlmap
    condition: sel
`, Options{})
	web := event.New(4)
	web.Set("event.dataset", "aws.elb")
	web.Set("event.category", []string{"web"})
	web.Set("user_agent.original", "sqlmap/1.8")
	tcp := event.New(4)
	tcp.Set("event.dataset", "aws.elb")
	tcp.Set("event.category", []string{"network"})
	tcp.Set("user_agent.original", "sqlmap/1.8")
	ms := eng.Evaluate([]*event.Event{web, tcp})
	if len(ms) != 1 || ms[0].Event != web {
		t.Fatalf("matches %v: want the HTTP request only (aws.elb's web rules run on event.category web)", titles(ms))
	}
}

const bruteForce = `title: SSH failed login
name: ssh_failed
logsource: {product: linux, service: sshd}
detection:
    keywords:
        - 'Failed password'
        - 'Invalid user'
    condition: keywords
level: low
---
title: SSH accepted login
name: ssh_accepted
logsource: {product: linux, service: sshd}
detection:
    sel:
        event.action: ssh_login
        event.outcome: success
    condition: sel
level: informational
---
title: SSH brute force
name: ssh_brute_force
correlation:
    type: event_count
    rules: ssh_failed
    group-by: [src_ip]
    timespan: 5m
    condition:
        gte: 5
level: medium
---
title: SSH brute force followed by a login
id: 6f0c2f7e-0000-4000-8000-000000000001
author: mamori tests
correlation:
    type: temporal_ordered
    rules: [ssh_brute_force, ssh_accepted]
    group-by: [src_ip]
    timespan: 10m
level: critical
`

func TestBruteForceThenSuccess(t *testing.T) {
	eng := newEngine(t, bruteForce, Options{})
	var lines []string
	for i := 0; i < 5; i++ {
		lines = append(lines, fmt.Sprintf("<38>Mar  1 10:00:0%d web-01 sshd[2041]: Failed password for alice from 192.0.2.10 port 5123%d ssh2", i, i))
	}
	lines = append(lines,
		"<38>Mar  1 10:00:06 web-01 sshd[2050]: Failed password for bob from 198.51.100.4 port 40000 ssh2",
		"<38>Mar  1 10:00:07 web-01 sshd[2051]: Accepted password for bob from 198.51.100.4 port 40001 ssh2",
		"<38>Mar  1 10:00:08 web-01 sudo[2052]: alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id",
		"<38>Mar  1 10:01:00 web-01 sshd[2060]: Accepted password for alice from 192.0.2.10 port 51300 ssh2",
	)
	evs := syslogEvents(t, lines...)
	ms := eng.Evaluate(evs)
	if len(ms) != 1 {
		t.Fatalf("matches %v, want only the outer correlation (the rules it counts do not raise their own)", titles(ms))
	}
	m := ms[0]
	if m.Rule.Title != "SSH brute force followed by a login" || !m.Correlation || m.Severity != sigma.LevelCritical {
		t.Errorf("match %+v", m)
	}
	if !reflect.DeepEqual(m.GroupBy, []GroupValue{{Field: "src_ip", Value: "192.0.2.10"}}) {
		t.Errorf("group %v", m.GroupBy)
	}
	var want []string
	for _, i := range []int{0, 1, 2, 3, 4, 8} {
		want = append(want, evs[i].String(event.FieldID))
	}
	if !reflect.DeepEqual(m.EventIDs, want) {
		t.Errorf("event ids %v, want the five failures and the login %v", m.EventIDs, want)
	}
	if m.Event != evs[8] || m.Count != 2 || !m.First.Before(m.Last) {
		t.Errorf("match %+v", m)
	}
	// Another batch with the login only: nothing new.
	if again := eng.Evaluate(evs[8:]); len(again) != 0 {
		t.Errorf("fired again: %v", titles(again))
	}
}

func TestGenerateKeepsCountedRulesMatches(t *testing.T) {
	src := strings.Replace(bruteForce, "    condition:\n        gte: 5\n", "    condition:\n        gte: 2\n    generate: true\n", 1)
	eng := newEngine(t, src, Options{})
	evs := syslogEvents(t,
		"<38>Mar  1 10:00:00 web-01 sshd[1]: Failed password for alice from 192.0.2.10 port 1 ssh2",
		"<38>Mar  1 10:00:01 web-01 sshd[1]: Failed password for alice from 192.0.2.10 port 2 ssh2",
	)
	got := titles(eng.Evaluate(evs))
	// ssh_failed matches twice (generate), the count fires on the second;
	// ssh_brute_force itself feeds the outer correlation without
	// generate, so it raises nothing of its own.
	want := []string{"SSH failed login", "SSH failed login"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("matches %v, want %v", got, want)
	}
}

func TestValueCountWithAliases(t *testing.T) {
	eng := newEngine(t, `title: Failed sign-in
name: failed_signin
logsource: {product: azure, service: signinlogs}
detection:
    sel:
        Status: failure
    condition: sel
---
title: Password spray
correlation:
    type: value_count
    rules: failed_signin
    group-by: [ip]
    timespan: 1h
    condition:
        field: UserPrincipalName
        gte: 3
    aliases:
        ip:
            failed_signin: IPAddress
level: high
`, Options{})
	var evs []*event.Event
	for i, user := range []string{"a@x", "b@x", "a@x", "c@x"} {
		e := event.New(8)
		e.Set("event.dataset", "azure.signinlogs")
		e.Set("event.id", fmt.Sprint("s", i))
		e.Set("@timestamp", received.Add(time.Duration(i)*time.Minute))
		e.Set("event.outcome", "failure")
		e.Set("source.ip", "203.0.113.9")
		e.Set("azure.signinlogs.properties.user_principal_name", user)
		evs = append(evs, e)
	}
	ms := eng.Evaluate(evs)
	if len(ms) != 1 || ms[0].Event != evs[3] || ms[0].Count != 3 {
		t.Fatalf("matches %+v", ms)
	}
	if !reflect.DeepEqual(ms[0].GroupBy, []GroupValue{{Field: "ip", Value: "203.0.113.9"}}) || !reflect.DeepEqual(ms[0].EventIDs, []string{"s1", "s2", "s3"}) {
		t.Errorf("match %+v", ms[0])
	}
}

func TestNewRejects(t *testing.T) {
	src := `title: base
name: base
logsource: {product: linux}
detection: {kw: [x], condition: kw}
---
title: same name
name: base
logsource: {product: linux}
detection: {kw: [y], condition: kw}
---
title: unknown rule
correlation: {type: event_count, rules: [nope], timespan: 1m, condition: {gte: 2}}
---
title: cycle a
name: cycle_a
correlation: {type: temporal, rules: [cycle_b, base], timespan: 1m}
---
title: cycle b
name: cycle_b
correlation: {type: temporal, rules: [cycle_a, base], timespan: 1m}
---
title: alias without the rule
correlation:
    type: event_count
    rules: [base]
    group-by: [host]
    timespan: 1m
    condition: {gte: 2}
    aliases:
        host:
            other: host.name
---
title: placeholder
name: placeholder_rule
logsource: {product: linux}
detection:
    sel:
        host.name|expand: '%Servers%'
    condition: sel
---
title: unsupported
status: unsupported
logsource: {product: linux}
detection: {kw: [x], condition: kw}
---
title: counts a rejected rule
correlation: {type: event_count, rules: [placeholder_rule], timespan: 1m, condition: {gte: 2}}
`
	eng, rejected := New(parseRules(t, src), Options{})
	reasons := map[string]string{}
	for _, r := range rejected {
		reasons[r.Title] = r.Reason
		if r.File != "rules.yml" || r.Line == 0 {
			t.Errorf("rejection without its place: %+v", r)
		}
	}
	want := map[string]string{
		"same name":              "name base is also the name of",
		"unknown rule":           `counts rule "nope", which is not loaded`,
		"cycle a":                "cycle",
		"cycle b":                "cannot run",
		"alias without the rule": `alias "host" gives no field for rule "base"`,
		"placeholder":            "placeholder %Servers% has no configured values",
		"unsupported":            "status: unsupported",
		"counts a rejected rule": "not loaded",
	}
	for title, w := range want {
		if !strings.Contains(reasons[title], w) {
			t.Errorf("%q: reason %q, want %q", title, reasons[title], w)
		}
	}
	if len(rejected) != len(want) {
		t.Errorf("rejected %d: %v", len(rejected), rejected)
	}
	if got := len(eng.Rules()); got != 1 {
		t.Errorf("%d rules loaded, want 1", got)
	}
	// With the placeholder configured, the rule loads.
	_, rejected = New(parseRules(t, src), Options{Placeholders: map[string][]string{"Servers": {"srv-*"}}})
	for _, r := range rejected {
		if r.Title == "placeholder" {
			t.Errorf("configured placeholder still rejected: %s", r.Reason)
		}
	}
}

func TestCustomFieldTables(t *testing.T) {
	fields, err := fieldmap.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	fields, err = fields.Overlay("okta.yaml", []byte("table: okta\nlogsources:\n  - {product: okta, service: okta, datasets: [json]}\nfields:\n  eventType: okta.event_type\n"))
	if err != nil {
		t.Fatal(err)
	}
	eng := newEngine(t, cloudRules, Options{Fields: fields})
	e := event.New(4)
	e.Set("event.dataset", "json")
	e.Set("okta.event_type", "user.session.start")
	if got := titles(eng.Evaluate([]*event.Event{e})); !reflect.DeepEqual(got, []string{"Okta thing"}) {
		t.Errorf("matches %v", got)
	}
}

func TestEventsWithoutTimestampUseNow(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	eng := newEngine(t, cloudRules, Options{Now: func() time.Time { return now }})
	e := event.New(4)
	e.Set("event.dataset", "aws.cloudtrail")
	e.Set("event.action", "ConsoleLogin")
	e.Set("aws.cloudtrail.user_identity.type", "root")
	ms := eng.Evaluate([]*event.Event{e})
	if len(ms) != 1 || !ms[0].Time.Equal(now) {
		t.Fatalf("matches %+v", ms)
	}
}

func TestConcurrentEvaluate(t *testing.T) {
	eng := newEngine(t, bruteForce, Options{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var lines []string
			for i := 0; i < 5; i++ {
				lines = append(lines, fmt.Sprintf("<38>Mar  1 10:00:0%d web-01 sshd[1]: Failed password for alice from 192.0.2.%d port 1 ssh2", i, w))
			}
			lines = append(lines, fmt.Sprintf("<38>Mar  1 10:00:09 web-01 sshd[1]: Accepted password for alice from 192.0.2.%d port 1 ssh2", w))
			ms := eng.Evaluate(syslogEvents(t, lines...))
			mu.Lock()
			total += len(ms)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	if total != 4 {
		t.Errorf("%d matches from four sources' brute force, want 4", total)
	}
}
