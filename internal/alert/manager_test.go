package alert_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/alert"
	"github.com/mamori-sec/mamori/internal/store"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "mamori.duckdb")
	}
	st, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// notifiers routes everything to "pd" (updates at once) and "slack"
// (a digest at most every 15 minutes).
func notifiers() []alert.NotifierConfig {
	zero := alert.Duration(0)
	return []alert.NotifierConfig{
		{Name: "pd", Type: "pagerduty", RoutingKey: alert.Secret{Env: "X"}, UpdateInterval: &zero},
		{Name: "slack", Type: "slack", WebhookURL: alert.Secret{Env: "Y"}},
	}
}

func newManager(t *testing.T, st alert.Store, c *clock, cfg alert.Config) *alert.Manager {
	t.Helper()
	m, err := alert.NewManager(st, cfg, alert.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func match(rule, event string, at time.Time, key ...string) alert.Match {
	return alert.Match{RuleID: rule, RuleTitle: "Rule " + rule, Severity: "high", Dataset: "linux.syslog",
		EventID: event, EventTime: at, GroupKey: key, Summary: "summary of " + event}
}

func handle(t *testing.T, m *alert.Manager, ms ...alert.Match) alert.Result {
	t.Helper()
	res, err := m.Handle(context.Background(), ms)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func ids(as []alert.Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

// kinds lists an alert's notifications as notifier:kind:state.
func kinds(t *testing.T, m *alert.Manager, id string) []string {
	t.Helper()
	ds, err := m.Deliveries(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range ds {
		out = append(out, fmt.Sprintf("%s:%s:%s", d.Notifier, d.Kind, d.State))
	}
	return out
}

func TestGroupingWithinWindow(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	m := newManager(t, st, c, alert.Config{Notifiers: notifiers()})
	ctx := context.Background()

	first := handle(t, m, match("ssh", "e1", t0, "203.0.113.7"))
	if len(first.Raised) != 1 || len(first.Updated) != 0 {
		t.Fatalf("first match: %+v", first)
	}
	a := first.Raised[0]
	if a.Title != "Rule ssh: 203.0.113.7" || a.Summary != "summary of e1" || a.Status != alert.Open || a.Version != 1 {
		t.Errorf("new alert: %+v", a)
	}

	// Same rule and key, 2 h later (window 3 h), in two batches: the same alert.
	c.Advance(time.Minute)
	res := handle(t, m, match("ssh", "e2", t0.Add(2*time.Hour), "203.0.113.7"), match("ssh", "e3", t0.Add(2*time.Hour+time.Second), "203.0.113.7"))
	if len(res.Raised) != 0 || !reflect.DeepEqual(ids(res.Updated), []string{a.ID}) {
		t.Fatalf("within window: %+v", res)
	}
	got, err := m.Get(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.EventCount != 3 || got.MatchCount != 3 || !reflect.DeepEqual(got.EventIDs, []string{"e1", "e2", "e3"}) ||
		!got.FirstSeen.Equal(t0) || !got.LastSeen.Equal(t0.Add(2*time.Hour+time.Second)) || got.Version != 2 {
		t.Errorf("grouped alert: %+v", got)
	}

	// A different key, or a different rule with the same key: new alerts.
	res = handle(t, m, match("ssh", "e4", t0.Add(2*time.Hour), "198.51.100.1"), match("sudo", "e5", t0.Add(2*time.Hour), "203.0.113.7"))
	if len(res.Raised) != 2 || len(res.Updated) != 0 {
		t.Fatalf("other keys: %+v", res)
	}

	// More than the window after the alert's last event: a new alert.
	res = handle(t, m, match("ssh", "e6", t0.Add(5*time.Hour+2*time.Second), "203.0.113.7"))
	if len(res.Raised) != 1 || res.Raised[0].ID == a.ID {
		t.Fatalf("outside window: %+v", res)
	}
	// ... and a late event within the first alert's window goes to it.
	res = handle(t, m, match("ssh", "e7", t0.Add(-time.Hour), "203.0.113.7"))
	if !reflect.DeepEqual(ids(res.Updated), []string{a.ID}) {
		t.Fatalf("late event: %+v", res)
	}
	if got, _ := m.Get(ctx, a.ID); !got.FirstSeen.Equal(t0.Add(-time.Hour)) {
		t.Errorf("first_seen not moved back: %v", got.FirstSeen)
	}

	open, err := m.List(ctx, alert.Filter{Statuses: []alert.Status{alert.Open}, RuleID: "ssh"})
	if err != nil || len(open) != 3 {
		t.Fatalf("open ssh alerts: %d %v", len(open), err)
	}
}

func TestPerRuleWindow(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	m := newManager(t, st, c, alert.Config{RuleWindows: map[string]alert.Duration{"fast": alert.Duration(10 * time.Minute)}})
	handle(t, m, match("fast", "e1", t0), match("slow", "e2", t0))
	res := handle(t, m, match("fast", "e3", t0.Add(11*time.Minute)), match("slow", "e4", t0.Add(11*time.Minute)))
	if len(res.Raised) != 1 || res.Raised[0].RuleID != "fast" || len(res.Updated) != 1 || res.Updated[0].RuleID != "slow" {
		t.Fatalf("per-rule window: raised %+v updated %+v", res.Raised, res.Updated)
	}
}

func TestNotificationsOfGroupedAlert(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	m := newManager(t, st, c, alert.Config{Notifiers: notifiers()})
	a := handle(t, m, match("ssh", "e1", t0, "k")).Raised[0]
	if got, want := kinds(t, m, a.ID), []string{"pd:trigger:pending", "slack:trigger:pending"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("new alert: got %v, want %v", got, want)
	}
	// Two more batches before anything is sent: each notifier keeps one
	// waiting update, the latest.
	c.Advance(time.Second)
	handle(t, m, match("ssh", "e2", t0.Add(time.Second), "k"))
	c.Advance(time.Second)
	handle(t, m, match("ssh", "e3", t0.Add(2*time.Second), "k"))
	want := []string{"pd:trigger:pending", "slack:trigger:pending", "pd:update:superseded", "slack:update:superseded",
		"pd:update:pending", "slack:update:pending"}
	if got := kinds(t, m, a.ID); !reflect.DeepEqual(got, want) {
		t.Fatalf("after updates: got %v, want %v", got, want)
	}
	ds, _ := m.Deliveries(context.Background(), a.ID)
	due := map[string]time.Time{}
	for _, d := range ds {
		if d.State == "pending" && d.Kind == alert.Update {
			due[d.Notifier] = d.Due
		}
	}
	// pd updates at once (the waiting update it replaced was due at 1 s);
	// slack no sooner than 15 min after its trigger.
	if !due["pd"].Equal(t0.Add(time.Second)) || !due["slack"].Equal(t0.Add(15*time.Minute)) {
		t.Errorf("update due times: %v", due)
	}
}

func TestRoutingBySeverityAndDataset(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	cfg := alert.Config{Notifiers: []alert.NotifierConfig{
		{Name: "pd", Type: "pagerduty", RoutingKey: alert.Secret{Env: "X"}, MinSeverity: alert.Critical},
		{Name: "cloud", Type: "webhook", URL: "https://x.example", Secret: alert.Secret{Env: "S"}, Datasets: []string{"aws.*"}},
	}}
	m := newManager(t, st, c, cfg)
	low := match("r1", "e1", t0)
	crit := match("r2", "e2", t0)
	crit.Severity = "critical"
	cloud := match("r3", "e3", t0)
	cloud.Dataset = "aws.cloudtrail"
	res := handle(t, m, low, crit, cloud)
	got := map[string][]string{}
	for _, a := range res.Raised {
		got[a.RuleID] = kinds(t, m, a.ID)
	}
	want := map[string][]string{"r1": nil, "r2": {"pd:trigger:pending"}, "r3": {"cloud:trigger:pending"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("routes: got %v, want %v", got, want)
	}
	// An alert whose severity rises gets to the notifier it now qualifies for.
	more := match("r1", "e4", t0.Add(time.Minute))
	more.Severity = "critical"
	res = handle(t, m, more)
	if len(res.Updated) != 1 || res.Updated[0].Severity != alert.Critical {
		t.Fatalf("severity rise: %+v", res)
	}
	if got := kinds(t, m, res.Updated[0].ID); !reflect.DeepEqual(got, []string{"pd:trigger:pending"}) {
		t.Errorf("after severity rise: %v", got)
	}
}

func TestHandleIsIdempotentAndBounded(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	m := newManager(t, st, c, alert.Config{MaxEventIDs: 3, Notifiers: notifiers()})
	batch := []alert.Match{match("r", "e1", t0), match("r", "e2", t0.Add(time.Second))}
	a := handle(t, m, batch...).Raised[0]
	// The same batch again (a replay, or a retry after a failed store).
	res := handle(t, m, batch...)
	if res.Repeats != 2 || len(res.Raised)+len(res.Updated) != 0 {
		t.Fatalf("replay: %+v", res)
	}
	if got := kinds(t, m, a.ID); len(got) != 2 {
		t.Fatalf("replay queued notifications: %v", got)
	}
	// A correlation brings several events; ids are listed up to 3, counted on.
	corr := match("r", "e5", t0.Add(time.Minute))
	corr.Correlation = true
	corr.EventIDs = []string{"e2", "e3", "e4", "e5"}
	handle(t, m, corr)
	got, _ := m.Get(context.Background(), a.ID)
	if got.EventCount != 5 || !reflect.DeepEqual(got.EventIDs, []string{"e1", "e2", "e5"}) || got.MatchCount != 3 {
		t.Fatalf("bounded ids: count %d ids %v matches %d", got.EventCount, got.EventIDs, got.MatchCount)
	}
}

func TestHandleReportsBadMatchesAndStoresTheRest(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	m := newManager(t, st, c, alert.Config{})
	noSev := match("r", "e2", t0)
	noSev.Severity = "urgent"
	noID := match("r", "", t0)
	noTime := match("r", "e4", time.Time{})
	res, err := m.Handle(context.Background(), []alert.Match{match("r", "e1", t0), noSev, noID, noTime, match("", "e5", t0)})
	if err == nil {
		t.Fatal("no error for bad matches")
	}
	for _, want := range []string{"match 1", `severity "urgent"`, "match 2", "no event id", "match 3", "no event time", "match 4", "no rule id"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if len(res.Raised) != 1 || res.Raised[0].EventCount != 1 {
		t.Fatalf("good match not stored: %+v", res)
	}
}

func TestLifecycle(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	m := newManager(t, st, c, alert.Config{Notifiers: notifiers()})
	ctx := context.Background()
	a := handle(t, m, match("r", "e1", t0, "k")).Raised[0]
	c.Advance(time.Second)
	handle(t, m, match("r", "e2", t0.Add(time.Second), "k")) // slack's digest now waits 15 min

	if _, err := m.Acknowledge(ctx, a.ID, ""); err == nil {
		t.Error("acknowledged without saying who")
	}
	c.Advance(time.Minute)
	acked, err := m.Acknowledge(ctx, a.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if acked.Status != alert.Acknowledged || acked.AcknowledgedBy != "alice" || !acked.AcknowledgedAt.Equal(c.Now()) {
		t.Fatalf("acknowledged: %+v", acked)
	}
	// Again: nothing changes, nothing is queued.
	again, err := m.Acknowledge(ctx, a.ID, "bob")
	if err != nil || again.Version != acked.Version || again.AcknowledgedBy != "alice" {
		t.Fatalf("acknowledge twice: %+v %v", again, err)
	}
	// An acknowledged alert still takes matches.
	if res := handle(t, m, match("r", "e3", t0.Add(2*time.Minute), "k")); len(res.Updated) != 1 || res.Updated[0].Status != alert.Acknowledged {
		t.Fatalf("match on acknowledged alert: %+v", res)
	}
	resolved, err := m.Resolve(ctx, a.ID, "bob")
	if err != nil || resolved.Status != alert.Resolved || resolved.ResolvedBy != "bob" || resolved.AcknowledgedBy != "alice" {
		t.Fatalf("resolve: %+v %v", resolved, err)
	}
	want := []string{
		"pd:trigger:pending", "slack:trigger:pending",
		"pd:update:pending", "slack:update:superseded", // slack's digest gave way to the acknowledgement
		"pd:acknowledge:pending", "slack:acknowledge:pending",
		"pd:update:pending", "slack:update:superseded", // and the next digest to the resolution
		"pd:resolve:pending", "slack:resolve:pending",
	}
	if got := kinds(t, m, a.ID); !reflect.DeepEqual(got, want) {
		t.Fatalf("notifications:\n got %v\nwant %v", got, want)
	}
	if _, err := m.Acknowledge(ctx, a.ID, "carol"); !errors.Is(err, alert.ErrResolved) {
		t.Errorf("acknowledge resolved: %v", err)
	}
	if r, err := m.Resolve(ctx, a.ID, "carol"); err != nil || r.ResolvedBy != "bob" {
		t.Errorf("resolve twice: %+v %v", r, err)
	}
	// A match after the resolution, within the window: a new alert.
	res := handle(t, m, match("r", "e4", t0.Add(3*time.Minute), "k"))
	if len(res.Raised) != 1 || res.Raised[0].ID == a.ID {
		t.Fatalf("match after resolve: %+v", res)
	}
	if _, err := m.Resolve(ctx, "nope", "bob"); !errors.Is(err, alert.ErrNotFound) {
		t.Errorf("unknown alert: %v", err)
	}
	if _, err := m.Get(ctx, "nope"); !errors.Is(err, alert.ErrNotFound) {
		t.Errorf("get unknown: %v", err)
	}
}

func TestReplayDoesNotReopenLargeResolvedAlert(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	m := newManager(t, st, c, alert.Config{MaxEventIDs: 2})
	var batch []alert.Match
	for i := range 4 {
		batch = append(batch, match("r", fmt.Sprintf("e%d", i), t0.Add(time.Duration(i)*time.Second)))
	}
	a := handle(t, m, batch...).Raised[0]
	if _, err := m.Resolve(context.Background(), a.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	// e2 and e3 are past the id list, but inside the resolved alert's time.
	res := handle(t, m, batch...)
	if res.Repeats != 4 || len(res.Raised) != 0 {
		t.Fatalf("replay over resolved alert: %+v", res)
	}
}

func TestTitleTemplate(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	m := newManager(t, st, c, alert.Config{Title: `{{.Severity}} {{.RuleTitle}} on {{index .GroupKey 0}}`})
	a := handle(t, m, match("r", "e1", t0, "web-1")).Raised[0]
	if a.Title != "high Rule r on web-1" {
		t.Errorf("title %q", a.Title)
	}
	// A template that fails on an alert falls back to the rule's title.
	b := handle(t, m, match("q", "e2", t0)).Raised[0]
	if b.Title != "Rule q" || b.Summary != "summary of e2" {
		t.Errorf("fallback title %q", b.Title)
	}
	if _, err := alert.NewManager(st, alert.Config{Title: "{{"}, alert.Options{}); err == nil {
		t.Error("a broken template was accepted")
	}
}

func TestListFilters(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	m := newManager(t, st, c, alert.Config{})
	low := match("a", "e1", t0)
	low.Severity = "low"
	crit := match("b", "e2", t0.Add(time.Hour))
	crit.Severity = "critical"
	handle(t, m, low, crit, match("c", "e3", t0.Add(2*time.Hour)))
	ctx := context.Background()
	list, err := m.List(ctx, alert.Filter{MinSeverity: alert.High})
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, a := range list {
		rules = append(rules, a.RuleID)
	}
	if !reflect.DeepEqual(rules, []string{"c", "b"}) {
		t.Errorf("min severity high: %v", rules)
	}
	list, _ = m.List(ctx, alert.Filter{Since: t0.Add(30 * time.Minute), Until: t0.Add(90 * time.Minute)})
	if len(list) != 1 || list[0].RuleID != "b" {
		t.Errorf("since/until: %+v", list)
	}
}

func TestConcurrentHandleRaisesOneAlert(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	m := newManager(t, st, c, alert.Config{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := m.Handle(context.Background(), []alert.Match{match("r", fmt.Sprintf("e%d", w), t0, "k")})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	list, _ := m.List(context.Background(), alert.Filter{})
	if len(list) != 1 || list[0].EventCount != 8 {
		t.Fatalf("8 concurrent matches of one group: %d alerts, %+v", len(list), list)
	}
}

// BenchmarkHandle measures a processor batch's worth of matches: 100
// matches over 20 groups, of which half are open alerts already.
func BenchmarkHandle(b *testing.B) {
	st, err := store.Open(context.Background(), "", store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	c := &clock{t: t0}
	// No storm guard: the 10 new groups per batch would soon fold into
	// a storm alert, and this measures grouping.
	m, err := alert.NewManager(st, alert.Config{Notifiers: notifiers(), Storm: alert.StormConfig{Off: true}},
		alert.Options{Now: c.Now, Sender: idleSender(b, st)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	batch := make([]alert.Match, 100)
	b.ResetTimer()
	for i := range b.N {
		for j := range batch {
			// groups 0-9 recur in every batch; 10-19 are new each time
			g := fmt.Sprintf("10.0.0.%d", j%10)
			if j%20 >= 10 {
				g = fmt.Sprintf("10.%d.%d.%d", i/250, i%250, j%20)
			}
			batch[j] = match("ssh", fmt.Sprintf("e-%d-%d", i, j), t0.Add(time.Duration(i)*time.Second), g)
		}
		if _, err := m.Handle(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/match")
}
