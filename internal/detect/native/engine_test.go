package native

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/detect"
	"github.com/mamori-sec/mamori/internal/detect/sigma"
	"github.com/mamori-sec/mamori/internal/event"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func newEngine(t *testing.T, src string, opts Options) *Engine {
	t.Helper()
	rules, err := Parse("rules.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	eng, rejected := New(rules, opts)
	if len(rejected) > 0 {
		t.Fatalf("rejected %v", rejected)
	}
	return eng
}

// sshFail is an sshd failure as the linux.syslog dataset gives it.
func sshFail(id, user, ip string, at time.Time) *event.Event {
	e := event.New(10)
	e.Set(event.FieldID, id)
	e.Set(event.FieldDataset, "linux.syslog")
	e.Set(event.FieldTimestamp, at)
	e.Set("event.action", "ssh_login")
	e.Set("event.outcome", "failure")
	if user != "" {
		e.Set("user.name", user)
	}
	e.Set("source.ip", ip)
	return e
}

func TestThresholdFiresOnceAWindowHoldsEnough(t *testing.T) {
	eng := newEngine(t, burstRule, Options{})
	var evs []*event.Event
	// Two failures for alice, then two more 15 minutes later: never 3 in
	// 10 minutes. Bob reaches 3 within 2 minutes, from two addresses.
	evs = append(evs,
		sshFail("a1", "alice", "203.0.113.1", t0),
		sshFail("a2", "alice", "203.0.113.1", t0.Add(time.Minute)),
		sshFail("b1", "bob", "203.0.113.2", t0.Add(2*time.Minute)),
		sshFail("b2", "bob", "203.0.113.2", t0.Add(3*time.Minute)),
		sshFail("b3", "bob", "203.0.113.9", t0.Add(4*time.Minute)),
		sshFail("a3", "alice", "203.0.113.1", t0.Add(16*time.Minute)),
		sshFail("a4", "alice", "203.0.113.1", t0.Add(17*time.Minute)),
	)
	ms := eng.Evaluate(evs)
	if len(ms) != 1 {
		t.Fatalf("%d matches: %+v", len(ms), ms)
	}
	m := ms[0]
	want := detect.Match{
		Severity: sigma.LevelHigh, EventID: "b3", Time: t0.Add(4 * time.Minute), Correlation: true,
		GroupBy:  []detect.GroupValue{{Field: "user.name", Value: "bob"}},
		EventIDs: []string{"b1", "b2", "b3"}, Count: 3, First: t0.Add(2 * time.Minute), Last: t0.Add(4 * time.Minute),
		Title: "3 failed logins for bob", Summary: "from 203.0.113.9 within 10m",
	}
	m.Rule, m.Event = nil, nil
	if !reflect.DeepEqual(m, want) {
		t.Errorf("match\n got %+v\nwant %+v", m, want)
	}
	if ms[0].Rule.ID != "test-burst" || ms[0].Event != evs[4] {
		t.Errorf("rule %v event %v", ms[0].Rule.ID, ms[0].Event)
	}
	// A group that fired starts afresh: two more failures are not enough.
	if ms := eng.Evaluate([]*event.Event{sshFail("b4", "bob", "x", t0.Add(17*time.Minute)), sshFail("b5", "bob", "x", t0.Add(18*time.Minute))}); len(ms) != 0 {
		t.Errorf("fired again after 2: %+v", ms)
	}
	if ms := eng.Evaluate([]*event.Event{sshFail("b6", "bob", "x", t0.Add(19*time.Minute))}); len(ms) != 1 {
		t.Errorf("the third after firing: %d matches", len(ms))
	}
}

func TestThresholdIgnoresOtherDatasetsAndMissingGroups(t *testing.T) {
	eng := newEngine(t, burstRule, Options{})
	var evs []*event.Event
	for i := range 5 {
		other := sshFail(fmt.Sprint("o", i), "carol", "192.0.2.1", t0.Add(time.Duration(i)*time.Second))
		other.Set(event.FieldDataset, "syslog")
		evs = append(evs, other, sshFail(fmt.Sprint("n", i), "", "192.0.2.1", t0.Add(time.Duration(i)*time.Second)))
	}
	if ms := eng.Evaluate(evs); len(ms) != 0 {
		t.Fatalf("matches %+v", ms)
	}
	if st := eng.Stats(); st.Evaluated != 5 || st.Matched != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestThresholdOutOfOrder counts events by their @timestamp, not by
// arrival: late ones within the window count, ones older than the window
// do not.
func TestThresholdOutOfOrder(t *testing.T) {
	eng := newEngine(t, burstRule, Options{})
	ms := eng.Evaluate([]*event.Event{
		sshFail("c3", "carol", "x", t0.Add(9*time.Minute)),
		sshFail("c1", "carol", "x", t0.Add(-5*time.Minute)), // 14 minutes before c3: too old
		sshFail("c2", "carol", "x", t0),
	})
	if len(ms) != 0 {
		t.Fatalf("fired with an event outside the window: %+v", ms)
	}
	ms = eng.Evaluate([]*event.Event{sshFail("c0", "carol", "x", t0.Add(time.Minute))})
	if len(ms) != 1 || !reflect.DeepEqual(ms[0].EventIDs, []string{"c2", "c0", "c3"}) || !ms[0].First.Equal(t0) {
		t.Fatalf("matches %+v", ms)
	}
}

// TestThresholdMemoryIsBounded checks that groups beyond the bound evict
// the least recently updated and that evictions are counted.
func TestThresholdMemoryIsBounded(t *testing.T) {
	eng := newEngine(t, burstRule, Options{MaxGroups: 100})
	var evs []*event.Event
	for i := range 1000 {
		evs = append(evs, sshFail(fmt.Sprint("e", i), fmt.Sprint("user", i), "x", t0.Add(time.Duration(i)*time.Millisecond)))
	}
	eng.Evaluate(evs)
	st := eng.Stats().Rules["test-burst"].Threshold
	if st == nil || st.Groups != 100 || st.Evicted != 900 {
		t.Fatalf("threshold stats %+v", st)
	}
	// user999 is among the groups kept, user0 was evicted.
	eng.Evaluate([]*event.Event{sshFail("k1", "user999", "x", t0.Add(time.Second)), sshFail("k2", "user999", "x", t0.Add(time.Second))})
	if ms := eng.Evaluate([]*event.Event{sshFail("k3", "user0", "x", t0.Add(time.Second)), sshFail("k4", "user0", "x", t0.Add(time.Second))}); len(ms) != 0 {
		t.Errorf("an evicted group kept its count: %+v", ms)
	}
}

const threatRule = `id: test-threat
title: "{{vendor.sub_type}} {{threat.name}} ({{severity}})"
datasets: [fw, fw2]
query: 'vendor.type:THREAT'
group_by: [source.ip, destination.ip]
severity:
  fields: [vendor.severity, vendor.score]
  values: {critical: critical, high: high, medium: medium, low: low, info: informational}
  at_least: {9: critical, 7: high, 4: medium, 0: low}
  default: high
min_severity: medium
summary: "{{threat.name}} from {{source.ip}} to {{destination.ip}}, count {{count}}, first {{first}}"
`

func threatEvent(id, ds string, fields ...any) *event.Event {
	e := event.New(10)
	e.Set(event.FieldID, id)
	e.Set(event.FieldDataset, ds)
	e.Set(event.FieldTimestamp, t0)
	e.Set("vendor.type", "THREAT")
	e.Set("vendor.sub_type", "virus")
	e.Set("threat.name", "Eicar")
	e.Set("source.ip", "10.0.0.1")
	for i := 0; i+1 < len(fields); i += 2 {
		e.Set(fields[i].(string), fields[i+1])
	}
	return e
}

func TestSeverityFromTheEvent(t *testing.T) {
	eng := newEngine(t, threatRule, Options{})
	ms := eng.Evaluate([]*event.Event{
		threatEvent("crit", "fw", "vendor.severity", "CRITICAL"),
		threatEvent("low", "fw", "vendor.severity", "low"),           // below min_severity
		threatEvent("info", "fw2", "vendor.severity", "info"),        // below min_severity
		threatEvent("score8", "fw2", "vendor.score", int64(8)),       // numeric bound
		threatEvent("score3", "fw2", "vendor.score", 3.5),            // low: below min
		threatEvent("text9", "fw", "vendor.score", "9.5"),            // numeric text
		threatEvent("unknown", "fw", "vendor.severity", "whatever"),  // default
		threatEvent("none", "fw"),                                    // default
		threatEvent("otherds", "fw3", "vendor.severity", "critical"), // not its dataset
		threatEvent("traffic", "fw", "vendor.type", "TRAFFIC", "vendor.severity", "critical"),
	})
	got := map[string]sigma.Level{}
	for _, m := range ms {
		got[m.EventID] = m.Severity
	}
	want := map[string]sigma.Level{"crit": "critical", "score8": "high", "text9": "critical", "unknown": "high", "none": "high"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("severities %v, want %v", got, want)
	}
	m := ms[0]
	if m.Title != "virus Eicar (critical)" || m.Summary != "Eicar from 10.0.0.1 to -, count 1, first 2024-03-01T12:00:00Z" {
		t.Errorf("title %q summary %q", m.Title, m.Summary)
	}
	// Without a threshold a match is one event, not a correlation, and a
	// missing group value is "".
	if m.Correlation || m.EventIDs != nil || m.Count != 0 ||
		!reflect.DeepEqual(m.GroupBy, []detect.GroupValue{{Field: "source.ip", Value: "10.0.0.1"}, {Field: "destination.ip", Value: ""}}) {
		t.Errorf("match %+v", m)
	}
	if m.Rule.Level != sigma.LevelCritical || m.Rule.ID != "test-threat" {
		t.Errorf("rule info %+v", m.Rule)
	}
}

func TestRulesWithoutDatasetsMeetEveryEvent(t *testing.T) {
	eng := newEngine(t, "id: any\ntitle: Any {{message}}\nquery: 'alice'\n", Options{})
	a := event.New(4)
	a.Set(event.FieldDataset, "json")
	a.Set("message", "login by alice")
	b := event.New(4)
	b.Set("message", "login by malice")
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	eng.opts.Now = func() time.Time { return now }
	ms := eng.Evaluate([]*event.Event{a, b})
	if len(ms) != 1 || ms[0].Event != a || ms[0].Title != "Any login by alice" || !ms[0].Time.Equal(now) {
		t.Fatalf("matches %+v", ms)
	}
}

func TestNewRejects(t *testing.T) {
	good, err := Parse("a.yml", []byte("id: same\ntitle: A\nquery: x\n"))
	if err != nil {
		t.Fatal(err)
	}
	dup, _ := Parse("b.yml", []byte("id: same\ntitle: B\nquery: y\n"))
	// A rule changed after parsing is checked again.
	bad := &Rule{File: "c.yml", Line: 3, ID: "changed", Title: "C", Query: "a:(b", Threshold: 1, Severity: Severity{Level: sigma.LevelLow}}
	noWindow := &Rule{File: "d.yml", ID: "nowin", Title: "D", Query: "x", Threshold: 4, Severity: Severity{Level: sigma.LevelLow}}
	eng, rejected := New([]*Rule{good[0], dup[0], bad, noWindow}, Options{})
	if len(eng.Rules()) != 1 || eng.Rules()[0].Rule.ID != "same" || !eng.Rules()[0].Active || !eng.Rules()[0].Emits {
		t.Errorf("rules %+v", eng.Rules())
	}
	if len(rejected) != 3 {
		t.Fatalf("rejected %v", rejected)
	}
	if r := rejected[0]; r.File != "b.yml" || !strings.Contains(r.Reason, "id same is also the id of \"A\" (a.yml:1)") {
		t.Errorf("duplicate: %v", r)
	}
	if r := rejected[1]; r.File != "c.yml" || r.Line != 3 || !strings.HasPrefix(r.Reason, "query:") {
		t.Errorf("bad query: %v", r)
	}
	if r := rejected[2]; !strings.Contains(r.Reason, "needs a window") {
		t.Errorf("no window: %v", r)
	}
}

// TestChangingARuleAfterNew checks that New keeps its own copy.
func TestChangingARuleAfterNew(t *testing.T) {
	rules, _ := Parse("a.yml", []byte(burstRule))
	eng, _ := New(rules, Options{})
	rules[0].Threshold = 1
	rules[0].Title = "changed"
	var ms []detect.Match
	for i := range 3 {
		ms = append(ms, eng.Evaluate([]*event.Event{sshFail(fmt.Sprint(i), "dave", "x", t0)})...)
	}
	if len(ms) != 1 || ms[0].Title != "3 failed logins for dave" {
		t.Fatalf("matches %+v", ms)
	}
}

func TestEvaluateConcurrently(t *testing.T) {
	eng := newEngine(t, burstRule, Options{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				ms := eng.Evaluate([]*event.Event{sshFail(fmt.Sprint(w, "-", i), "erin", "x", t0.Add(time.Duration(i)*time.Millisecond))})
				mu.Lock()
				total += len(ms)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// 2,400 failures of one user within a second: a firing every 3.
	if total != 800 {
		t.Errorf("%d firings, want 800", total)
	}
}

func TestTemplates(t *testing.T) {
	e := event.New(4)
	e.Set("user.name", "alice")
	e.Set("related.ip", []string{"192.0.2.1", "192.0.2.2"})
	e.Set("n", int64(7))
	f := &fill{ev: e, count: 12, threshold: 10, window: 90 * time.Minute, severity: "high", first: t0, last: t0.Add(time.Hour)}
	for src, want := range map[string]string{
		"plain":                             "plain",
		"{{user.name}}":                     "alice",
		"{{ user.name }} at {{related.ip}}": "alice at 192.0.2.1, 192.0.2.2",
		"{{n}}/{{missing.field}}":           "7/-",
		"{{count}} of {{threshold}} in {{window}} ({{severity}}) {{first}}..{{last}}": "12 of 10 in 1h30m (high) 2024-03-01T12:00:00Z..2024-03-01T13:00:00Z",
		"{{@timestamp}}": "-",
	} {
		tm, err := parseTemplate(src)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if got := tm.render(f); got != want {
			t.Errorf("%q rendered %q, want %q", src, got, want)
		}
	}
	for _, bad := range []string{"{{", "a }} b", "{{a}}}}", "{{a b}}", "{{a..b}}", "{{.a}}", "{{}}", strings.Repeat("x", maxTemplate+1)} {
		if _, err := parseTemplate(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
