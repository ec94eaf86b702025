package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/alert"
	"github.com/mamori-sec/mamori/internal/config"
	"github.com/mamori-sec/mamori/internal/detect"
	"github.com/mamori-sec/mamori/internal/detect/sigma"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/intake"
	"github.com/mamori-sec/mamori/internal/notify/notifytest"
)

// bruteForceRules: five failed sshd logins from one address within 5
// minutes, then a login from it within 10 (rules written for these tests).
const bruteForceRules = `title: Failed sshd login
name: t_failed
logsource: {product: linux, service: sshd}
detection:
    sel:
        event.action: ssh_login
        event.outcome: failure
    condition: sel
level: low
---
title: Accepted sshd login
name: t_accepted
logsource: {product: linux, service: sshd}
detection:
    sel:
        event.action: ssh_login
        event.outcome: success
    condition: sel
level: informational
---
title: Password guessing
name: t_guessing
correlation:
    type: event_count
    rules: t_failed
    group-by: [src_ip]
    timespan: 5m
    condition:
        gte: 5
level: medium
---
title: Brute force then login
id: 7d2c9a64-1b0e-4f3a-8c5d-0e9f1a2b3c4d
correlation:
    type: temporal_ordered
    rules: [t_guessing, t_accepted]
    group-by: [src_ip]
    timespan: 10m
level: high
`

const bruteForceID = "7d2c9a64-1b0e-4f3a-8c5d-0e9f1a2b3c4d"

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// bruteForce is five failures and a login from ip, as RFC 5424 syslog
// lines a second apart from start.
func bruteForce(ip string, start time.Time) []string {
	var out []string
	for i := 0; i < 6; i++ {
		what := fmt.Sprintf("Failed password for root from %s port %d ssh2", ip, 50000+i)
		if i == 5 {
			what = fmt.Sprintf("Accepted password for root from %s port 50100 ssh2", ip)
		}
		ts := start.Add(time.Duration(i) * time.Second).UTC().Format(time.RFC3339Nano)
		out = append(out, fmt.Sprintf("<38>1 %s web-01 sshd 77 - - %s", ts, what))
	}
	return out
}

type testApp struct {
	*App
	pd *notifytest.PagerDuty
	// close closes the app once; the test's cleanup calls it too.
	close func() error
}

// openTestApp opens an app over a fresh data directory with the brute
// force rules and a PagerDuty notifier pointing at a fake. change edits
// the configuration first.
func openTestApp(t *testing.T, change func(*config.Config), extra ...RuleSource) testApp {
	t.Helper()
	cfg, pd := testConfig(t, change)
	return openApp(t, cfg, pd, extra...)
}

// testConfig is openTestApp's finished configuration, with its fake
// PagerDuty.
func testConfig(t *testing.T, change func(*config.Config)) (config.Config, *notifytest.PagerDuty) {
	t.Helper()
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules", "ssh.yml")
	write(t, rules, bruteForceRules)
	key := filepath.Join(dir, "pd.key")
	write(t, key, strings.Repeat("k", 32))
	pd := notifytest.NewPagerDuty()
	t.Cleanup(pd.Close)
	cfg := config.Default()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Rules.Sigma = []string{filepath.Dir(rules)}
	off := false
	cfg.Rules.Builtin = &off // the tests count their own rules' alerts
	cfg.Alerts.Notifiers = []alert.NotifierConfig{{Name: "pd", Type: alert.TypePagerDuty, URL: pd.EnqueueURL(),
		RoutingKey: alert.Secret{File: key}}}
	if change != nil {
		change(&cfg)
	}
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	return cfg, pd
}

// openApp opens an app with its detection, as serve does, on cfg's data
// directory (which a closed app may have left).
func openApp(t *testing.T, cfg config.Config, pd *notifytest.PagerDuty, extra ...RuleSource) testApp {
	t.Helper()
	book, err := LoadRules(cfg.Rules, append(RuleSources(cfg), extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := book.RejectedError(); err != nil {
		t.Fatal(err)
	}
	a, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	closeOnce := sync.OnceValue(a.Close)
	t.Cleanup(func() { closeOnce() })
	if err := a.OpenDetection(book); err != nil {
		t.Fatal(err)
	}
	return testApp{App: a, pd: pd, close: closeOnce}
}

// ingest archives lines as syslog records and processes them, as the
// server does (OnCommit included).
func (a testApp) ingest(t *testing.T, lines []string) {
	t.Helper()
	ctx := context.Background()
	var recs []intake.Record
	for _, l := range lines {
		recs = append(recs, intake.Record{Data: []byte(l), Received: time.Now()})
	}
	if err := a.Intake.Write(ctx, intake.Batch{Dataset: "syslog", Listener: "test", Records: recs}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

func (a testApp) alerts(t *testing.T) []alert.Alert {
	t.Helper()
	list, err := a.Detect.Alerts.List(context.Background(), alert.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestStreamRaisesAlertStoredBeforeNotified(t *testing.T) {
	a := openTestApp(t, nil)
	a.ingest(t, bruteForce("192.0.2.44", time.Now().Add(-time.Minute)))
	list := a.alerts(t)
	if len(list) != 1 {
		t.Fatalf("alerts %+v, want one", list)
	}
	al := list[0]
	if al.RuleID != bruteForceID || al.Severity != alert.High || al.Dataset != "linux.syslog" ||
		len(al.GroupKey) != 1 || al.GroupKey[0] != "192.0.2.44" || al.EventCount != 6 || !al.Correlation {
		t.Errorf("alert %+v", al)
	}
	if !strings.Contains(al.Summary, "2 rules for src_ip=192.0.2.44") {
		t.Errorf("summary %q", al.Summary)
	}
	// Stored with its notification, which nothing has sent yet (Serve runs
	// the sender): the outbox holds it.
	ds, err := a.Detect.Alerts.Deliveries(context.Background(), al.ID)
	if err != nil || len(ds) != 1 || ds[0].State != "pending" || ds[0].Kind != alert.Trigger {
		t.Fatalf("deliveries %+v %v", ds, err)
	}
	if a.pd.Requests() != 0 {
		t.Fatal("notified before the sender ran")
	}
	if n, err := a.Detect.Sender.SendDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("sent %d, %v", n, err)
	}
	if pa, ok := a.pd.Alert(al.ID); !ok || pa.Triggers != 1 {
		t.Errorf("PagerDuty alert %+v %v", pa, ok)
	}
	for name, want := range map[string]float64{
		"mamori_rules_evaluation_seconds": 1, // one committed batch observed
		"mamori_rules_events_total":       6,
		"mamori_rules_matches_total":      1,
		"mamori_alerts_raised_total":      1,
		"mamori_rules_loaded":             4,
		"mamori_rules_active":             4,
		"mamori_notifications_sent_total": 1,
	} {
		if got := metricValue(t, a.App, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

// metricValue sums a metric's samples (a histogram's counts) on the app's
// registry.
func metricValue(t *testing.T, a *App, name string) float64 {
	t.Helper()
	families, err := a.Metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		sum := 0.0
		for _, m := range f.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
		return sum
	}
	t.Fatalf("metric %s is not registered", name)
	return 0
}

func TestReplayStoresMatchesLostInACrash(t *testing.T) {
	a := openTestApp(t, nil)
	// A crash between the commit and the alert: the events are stored,
	// the rules never saw them.
	a.Processor.OnCommit = nil
	a.ingest(t, bruteForce("192.0.2.45", time.Now().Add(-2*time.Minute)))
	a.Processor.OnCommit = a.onCommit
	if n := len(a.alerts(t)); n != 0 {
		t.Fatalf("%d alerts before the replay", n)
	}
	a.Detect.Replay(context.Background())
	list := a.alerts(t)
	if len(list) != 1 || list[0].EventCount != 6 {
		t.Fatalf("after the replay: %+v", list)
	}
	// A second replay fires the correlation at the same login, whose
	// event the alert holds: nothing changes.
	a.Detect.Replay(context.Background())
	if l := a.alerts(t); len(l) != 1 || l[0].Version != 1 {
		t.Fatalf("second replay changed the alerts: %+v", l)
	}
}

func TestReplayLeavesOutBatchesCommittedBefore(t *testing.T) {
	a := openTestApp(t, func(c *config.Config) {
		d := config.Duration(10 * time.Minute)
		c.Rules.Replay = &d
	})
	a.Processor.OnCommit = nil
	// Committed an hour ago (the processor's clock), with events of the
	// last minute: what counts is when the batch was committed.
	anHourAgo := time.Now().Add(-time.Hour)
	a.Now = func() time.Time { return anHourAgo }
	a.ingest(t, bruteForce("192.0.2.46", time.Now().Add(-time.Minute)))
	a.Now = time.Now
	a.Detect.Replay(context.Background())
	if n := len(a.alerts(t)); n != 0 {
		t.Fatalf("replay over the last 10 minutes raised %d alerts from a batch committed an hour ago", n)
	}
}

func TestReplayAfterACrashEvaluatesOldEventsCommittedJustBefore(t *testing.T) {
	cfg, pd := testConfig(t, nil)
	a := openApp(t, cfg, pd)
	// Events of a week ago (a late delivery) committed just now; the
	// process dies before the rules see them.
	a.Processor.OnCommit = nil
	a.ingest(t, bruteForce("192.0.2.51", time.Now().Add(-7*24*time.Hour)))
	if n := len(a.alerts(t)); n != 0 {
		t.Fatalf("%d alerts before the crash", n)
	}
	if err := a.close(); err != nil {
		t.Fatal(err)
	}

	// The next start on the same data directory replays before
	// processing anything new.
	b := openApp(t, cfg, pd)
	b.Detect.Replay(context.Background())
	list := b.alerts(t)
	if len(list) != 1 || list[0].RuleID != bruteForceID || list[0].EventCount != 6 || list[0].GroupKey[0] != "192.0.2.51" {
		t.Fatalf("after the replay: %+v, want the week-old brute force's alert", list)
	}
	if n, err := b.Detect.Sender.SendDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("sent %d, %v", n, err)
	}
	// Another start replays the same batch again: nothing new is raised,
	// counted or sent.
	if err := b.close(); err != nil {
		t.Fatal(err)
	}
	c := openApp(t, cfg, pd)
	c.Detect.Replay(context.Background())
	if l := c.alerts(t); len(l) != 1 || l[0].ID != list[0].ID || l[0].Version != list[0].Version || l[0].EventCount != 6 {
		t.Fatalf("second replay changed the alerts: %+v, was %+v", l, list)
	}
	if n, err := c.Detect.Sender.SendDue(context.Background()); err != nil || n != 0 {
		t.Fatalf("second start sent %d, %v", n, err)
	}
	if pa, ok := pd.Alert(list[0].ID); !ok || pa.Triggers != 1 || pd.Requests() != 1 {
		t.Errorf("PagerDuty saw %+v (%v), %d requests: want one trigger", pa, ok, pd.Requests())
	}
}

func TestRunOverHistoryRaisesOnce(t *testing.T) {
	a := openTestApp(t, nil)
	a.Processor.OnCommit = nil // stored without detection, as a local import is
	old := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	a.ingest(t, append(bruteForce("192.0.2.47", old), bruteForce("192.0.2.48", old.Add(time.Hour))...))
	ctx := context.Background()
	res, err := a.Detect.Run(ctx, old.Add(-time.Minute), old.Add(30*time.Minute), "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 6 || res.Matches != 1 || len(res.Raised) != 1 || res.Raised[0].GroupKey[0] != "192.0.2.47" {
		t.Fatalf("first run %+v", res)
	}
	res, err = a.Detect.Run(ctx, old.Add(-time.Minute), old.Add(2*time.Hour), "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 12 || res.Matches != 2 || len(res.Raised) != 1 || res.Raised[0].GroupKey[0] != "192.0.2.48" || res.Repeats != 1 {
		t.Fatalf("second run over the wider range %+v: want only the second source's alert new", res)
	}
	if _, err := a.Detect.Run(ctx, old, time.Time{}, "no-such-rule"); err == nil || !strings.Contains(err.Error(), "no loaded rule") {
		t.Errorf("unknown rule: %v", err)
	}
	if n := len(a.alerts(t)); n != 2 {
		t.Errorf("%d alerts, want 2", n)
	}
}

func TestDisabledRuleRaisesNothing(t *testing.T) {
	a := openTestApp(t, func(c *config.Config) { c.Rules.Disabled = []string{bruteForceID, "no-such-rule"} })
	if got := a.Detect.Book.UnknownDisabled; len(got) != 1 || got[0] != "no-such-rule" {
		t.Errorf("unknown disabled %v", got)
	}
	a.ingest(t, bruteForce("192.0.2.49", time.Now()))
	// The rules the disabled correlation counts still raise none of their
	// own: disabling a rule changes nothing else.
	if l := a.alerts(t); len(l) != 0 {
		t.Fatalf("alerts %+v", l)
	}
	sum := a.Detect.Rules(context.Background())
	if sum.Loaded != 4 || sum.Disabled != 1 {
		t.Errorf("summary %+v", sum)
	}
}

func TestAlertContextIsTheRelatedEvents(t *testing.T) {
	a := openTestApp(t, nil)
	start := time.Now().Add(-5 * time.Minute)
	lines := bruteForce("192.0.2.50", start)
	// Related by address (another host's sshd), by nothing (another host,
	// user and address), and by address but outside ±30 minutes.
	line := func(at time.Time, host, msg string) string {
		return fmt.Sprintf("<38>1 %s %s sshd 9 - - %s", at.UTC().Format(time.RFC3339), host, msg)
	}
	lines = append(lines,
		line(start.Add(10*time.Second), "bastion-02", "Connection closed by 192.0.2.50 port 22 [preauth] near"),
		line(start.Add(20*time.Second), "bastion-03", "Connection closed by 10.9.9.9 port 22 [preauth] unrelated"),
		line(start.Add(-2*time.Hour), "bastion-02", "Connection closed by 192.0.2.50 port 22 [preauth] long ago"))
	a.ingest(t, lines)
	list := a.alerts(t)
	if len(list) != 1 {
		t.Fatalf("alerts %+v", list)
	}
	c, err := a.Detect.Context(context.Background(), list[0], 100)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range c.Events {
		msgs = append(msgs, e.String("message"))
	}
	joined := strings.Join(msgs, "\n")
	if len(c.Events) != 7 || !strings.Contains(joined, "near") || strings.Contains(joined, "long ago") ||
		strings.Contains(joined, "unrelated") {
		t.Fatalf("context %q (query %s):\n%s", c.Query, c.Query, joined)
	}
	if !strings.Contains(c.Query, `related.ip:("192.0.2.50")`) {
		t.Errorf("query %s", c.Query)
	}
}

// loginEngine stands for a source's own engine (native rules): it matches
// every accepted sshd login.
type loginEngine struct{ rule *sigma.Rule }

func (e loginEngine) Evaluate(evs []*event.Event) []detect.Match {
	var out []detect.Match
	for _, ev := range evs {
		if ev.String("event.outcome") == "success" && bytes.Contains([]byte(ev.String("message")), []byte("Accepted")) {
			out = append(out, detect.Match{Rule: e.rule, Severity: sigma.LevelLow, Event: ev,
				EventID: ev.String(event.FieldID), Time: ev.Time()})
		}
	}
	return out
}

func (e loginEngine) Rules() []detect.RuleInfo {
	return []detect.RuleInfo{{Rule: e.rule, Datasets: []string{"linux.syslog"}, Active: true, Emits: true}}
}

func TestSourcesWithEnginesOfTheirOwn(t *testing.T) {
	made := 0
	src := RuleSource{Name: "own", Load: func() (RuleSet, error) {
		return RuleSet{Engines: func() ([]Evaluator, []detect.Rejection) {
			made++
			// Fresh engines hold rules of their own, as a real engine's do.
			return []Evaluator{loginEngine{rule: &sigma.Rule{ID: "own-login", Title: "Any login"}}}, nil
		}}, nil
	}}
	a := openTestApp(t, nil, src)
	a.ingest(t, bruteForce("192.0.2.70", time.Now().Add(-time.Minute)))
	byRule := map[string]int{}
	for _, al := range a.alerts(t) {
		byRule[al.RuleID]++
	}
	if len(byRule) != 2 || byRule[bruteForceID] != 1 || byRule["own-login"] != 1 {
		t.Fatalf("alerts by rule %v: want the correlation's and the own engine's", byRule)
	}
	sum := a.Detect.Rules(context.Background())
	if sum.Loaded != 5 || sum.Rules[4].Source != "own" || sum.Rules[4].Ref != "own-login" || sum.Rules[0].Source != "sigma" {
		t.Errorf("summary %+v", sum)
	}
	// A run over history builds fresh engines, and recognises the own
	// engine's match by its rule id although the rule is a new value.
	res, err := a.Detect.Run(context.Background(), time.Now().Add(-time.Hour), time.Time{}, "own-login")
	if err != nil {
		t.Fatal(err)
	}
	if made != 2 || res.Matches != 1 || res.Repeats != 1 || len(res.Raised) != 0 {
		t.Errorf("run: %+v, engines made %d times", res, made)
	}
}

func TestEventSummary(t *testing.T) {
	structured := event.New(8)
	structured.Set(event.FieldOriginal, `{"eventName":"ConsoleLogin"}`)
	structured.Set("event.action", "ConsoleLogin")
	structured.Set("event.outcome", "success")
	structured.Set("user.name", "root")
	structured.Set("source.ip", "203.0.113.50")
	if got, want := eventSummary(structured), "ConsoleLogin · success · user root · from 203.0.113.50"; got != want {
		t.Errorf("structured event: %q, want %q", got, want)
	}
	withMessage := event.New(4)
	withMessage.Set(event.FieldMessage, "Failed password for root")
	withMessage.Set("event.action", "ssh_login")
	if got := eventSummary(withMessage); got != "Failed password for root" {
		t.Errorf("event with a message: %q", got)
	}
	bare := event.New(4)
	bare.Set(event.FieldOriginal, "raw line")
	bare.Set("event.action", "x")
	if got := eventSummary(bare); got != "raw line" {
		t.Errorf("event with little known: %q, want its raw text", got)
	}
}
