package alert_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mamori-sec/mamori/internal/alert"
)

// scan is n matches of rule, each of its own group key (source address),
// at event time at, with event ids prefix-0, prefix-1, ...
func scan(rule, prefix string, at time.Time, from, n int) []alert.Match {
	var out []alert.Match
	for i := from; i < from+n; i++ {
		out = append(out, match(rule, fmt.Sprintf("%s-%d", prefix, i), at, fmt.Sprintf("198.51.100.%d", i)))
	}
	return out
}

func stormy(max int, per time.Duration) alert.StormConfig {
	return alert.StormConfig{MaxNewAlerts: max, Per: alert.Duration(per)}
}

func TestStormGuardFoldsNewGroupsPastTheLimit(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	met, err := alert.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	cfg := alert.Config{Storm: stormy(3, time.Minute),
		RuleStorms: map[string]alert.StormConfig{"quiet": {Off: true}, "wide": {MaxNewAlerts: 6}}}
	m, err := alert.NewManager(st, cfg, alert.Options{Now: c.Now, Metrics: met})
	if err != nil {
		t.Fatal(err)
	}
	batch := scan("fw", "e", t0, 0, 10)
	batch = append(batch, scan("quiet", "q", t0, 0, 10)...)
	batch = append(batch, scan("wide", "w", t0, 0, 10)...)
	res := handle(t, m, batch...)

	own := map[string]int{}
	var storms []alert.Alert
	for _, a := range res.Raised {
		if a.Storm {
			storms = append(storms, a)
		} else {
			own[a.RuleID]++
		}
	}
	// fw: 3 alerts, then a storm; quiet: no guard; wide: 6, then a storm.
	if want := map[string]int{"fw": 3, "quiet": 10, "wide": 6}; !reflect.DeepEqual(own, want) {
		t.Fatalf("own alerts %v, want %v", own, want)
	}
	if len(storms) != 2 {
		t.Fatalf("storm alerts: %+v", storms)
	}
	s := storms[0]
	if s.RuleID != "fw" || s.StormGroups != 7 || s.MatchCount != 7 || s.EventCount != 7 ||
		s.Title != "rule fw: storm, 7 groups suppressed" || len(s.GroupKey) != 0 || s.Status != alert.Open {
		t.Fatalf("fw storm alert: %+v", s)
	}
	if !strings.Contains(s.Summary, "More than 3 new alerts of rule fw within 1m0s") || !strings.Contains(s.Summary, "198.51.100.3") {
		t.Errorf("storm summary: %q", s.Summary)
	}
	if storms[1].RuleID != "wide" || storms[1].StormGroups != 4 {
		t.Errorf("wide storm alert: %+v", storms[1])
	}
	if got := alert.Value(alert.MetricsStormSuppressed(met, "fw")); got != 7 {
		t.Errorf("suppressed metric %v, want 7", got)
	}
	if got := alert.Value(alert.MetricsStormGroups(met, "fw")); got != 7 {
		t.Errorf("storm groups metric %v, want 7", got)
	}

	// More of the same: a folded group matching again joins the storm
	// alert (a match, no new group); a group with its own alert joins
	// that; a new group folds.
	c.Advance(time.Second)
	res = handle(t, m, match("fw", "e-5b", t0.Add(time.Second), "198.51.100.5"),
		match("fw", "e-0b", t0.Add(time.Second), "198.51.100.0"),
		match("fw", "e-20", t0.Add(time.Second), "198.51.100.20"))
	if len(res.Raised) != 0 || len(res.Updated) != 2 {
		t.Fatalf("second batch: %+v", res)
	}
	got, err := m.Get(context.Background(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.StormGroups != 8 || got.MatchCount != 9 || got.Title != "rule fw: storm, 8 groups suppressed" {
		t.Errorf("storm alert after more: groups %d matches %d title %q", got.StormGroups, got.MatchCount, got.Title)
	}
	if v := alert.Value(alert.MetricsStormSuppressed(met, "fw")); v != 9 {
		t.Errorf("suppressed metric %v, want 9", v)
	}
	list, _ := m.List(context.Background(), alert.Filter{RuleID: "fw"})
	if len(list) != 4 {
		t.Errorf("fw has %d alerts, want 3 and the storm's", len(list))
	}
}

func TestStormEndsWhenTheRateFalls(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	m := newManager(t, st, c, alert.Config{Storm: stormy(3, time.Minute)})
	res := handle(t, m, scan("fw", "e", t0, 0, 5)...) // 3 alerts, 2 groups folded
	if len(res.Raised) != 4 {
		t.Fatalf("storm: %+v", res)
	}
	storm := res.Raised[3]
	// Within the minute, a new group still folds.
	c.Advance(30 * time.Second)
	if res := handle(t, m, scan("fw", "e", t0.Add(30*time.Second), 5, 1)...); len(res.Raised) != 0 {
		t.Fatalf("within the period: %+v", res)
	}
	// A minute after the last 3 new groups, new groups raise alerts again,
	// 3 a minute; a folded group stays with the storm alert.
	c.Advance(time.Minute)
	at := t0.Add(90 * time.Second)
	res = handle(t, m, append(scan("fw", "f", at, 6, 4), match("fw", "again", at, "198.51.100.4"))...)
	if len(res.Raised) != 3 || res.Raised[0].Storm || len(res.Updated) != 1 || res.Updated[0].ID != storm.ID {
		t.Fatalf("after the storm: raised %+v updated %+v", res.Raised, res.Updated)
	}
	if got, _ := m.Get(context.Background(), storm.ID); got.StormGroups != 4 || got.MatchCount != 5 {
		t.Errorf("storm alert: groups %d matches %d, want 4 and 5", got.StormGroups, got.MatchCount)
	}
}

func TestStormAlertIsNotifiedOnceThenUpdated(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	r := newRigWith(t, st, c, alert.OutboxConfig{}, true, "pd")
	var err error
	cfg := r.cfg
	cfg.Storm = stormy(2, time.Minute)
	if r.m, err = alert.NewManager(st, cfg, alert.Options{Now: c.Now, Sender: r.s}); err != nil {
		t.Fatal(err)
	}
	res := handle(t, r.m, scan("fw", "e", t0, 0, 5)...)
	if len(res.Raised) != 3 || !res.Raised[2].Storm {
		t.Fatalf("raised %+v", res.Raised)
	}
	storm := res.Raised[2]
	if n := r.send(); n != 3 || r.pd.Opened() != 3 {
		t.Fatalf("sent %d, opened %d; want 3 pages: 2 alerts and the storm", n, r.pd.Opened())
	}
	// Two more calls of new groups before the update is due: one update.
	for i := range 2 {
		c.Advance(10 * time.Second)
		if res := handle(t, r.m, scan("fw", "e", c.Now(), 5+10*i, 10)...); len(res.Raised) != 0 {
			t.Fatalf("call %d raised %+v", i, res.Raised)
		}
	}
	c.Advance(time.Minute)
	if n := r.send(); n != 1 || r.pd.Opened() != 3 {
		t.Fatalf("sent %d, opened %d; want one update of the storm alert", n, r.pd.Opened())
	}
	pd, _ := r.pd.Alert(storm.ID)
	if pd.Triggers != 2 || !strings.Contains(pd.Summary, "rule fw: storm, 23 groups suppressed (23 events)") {
		t.Fatalf("PagerDuty's storm alert: %+v", pd)
	}
	var got []string
	ds, _ := r.m.Deliveries(context.Background(), storm.ID)
	for _, d := range ds {
		got = append(got, string(d.Kind)+":"+d.State)
	}
	if want := []string{"trigger:sent", "update:superseded", "update:sent"}; !reflect.DeepEqual(got, want) {
		t.Errorf("storm alert's notifications %v, want %v", got, want)
	}
}

func TestRestartDuringAStormNeitherRaisesNorNotifiesAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mamori.duckdb")
	st := openStore(t, path)
	c := &clock{t: t0}
	cfg := alert.Config{Storm: stormy(3, time.Minute), Notifiers: notifiers()}
	m := newManager(t, st, c, cfg)
	batch := scan("fw", "e", t0, 0, 8)
	res := handle(t, m, batch...)
	if len(res.Raised) != 4 {
		t.Fatalf("before the crash: %+v", res.Raised)
	}
	storm := res.Raised[3]
	st.Close()

	// The restart replays the same events: all are repeats, in their own
	// alerts or in the storm's, and nothing new is queued.
	c.Advance(10 * time.Second)
	st = openStore(t, path)
	defer st.Close()
	m = newManager(t, st, c, cfg)
	res = handle(t, m, batch...)
	if res.Repeats != 8 || len(res.Raised)+len(res.Updated) != 0 {
		t.Fatalf("replay: %+v", res)
	}
	// The storm goes on across the restart: a new group folds.
	res = handle(t, m, scan("fw", "e", t0.Add(10*time.Second), 8, 1)...)
	if len(res.Raised) != 0 || len(res.Updated) != 1 || res.Updated[0].ID != storm.ID || res.Updated[0].StormGroups != 6 {
		t.Fatalf("new group after restart: %+v", res)
	}
	list, _ := m.List(context.Background(), alert.Filter{})
	if len(list) != 4 {
		t.Fatalf("%d alerts after restart, want 4", len(list))
	}
	if got := kinds(t, m, storm.ID); !reflect.DeepEqual(got, []string{"pd:trigger:pending", "slack:trigger:pending",
		"pd:update:pending", "slack:update:pending"}) {
		t.Errorf("storm alert's notifications: %v", got)
	}

	// Once the storm alert is quiet for the period, a restart starts
	// without a storm: new groups raise alerts.
	st.Close()
	c.Advance(2 * time.Minute)
	st = openStore(t, path)
	m = newManager(t, st, c, cfg)
	res = handle(t, m, scan("fw", "e", c.Now(), 20, 2)...)
	if len(res.Raised) != 2 || res.Raised[0].Storm {
		t.Fatalf("after a quiet restart: %+v", res)
	}
}

func TestResolvedStormAlertTakesNoMore(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	m := newManager(t, st, c, alert.Config{Storm: stormy(1, time.Hour)})
	res := handle(t, m, scan("fw", "e", t0, 0, 3)...)
	storm := res.Raised[1]
	if !storm.Storm {
		t.Fatalf("raised %+v", res.Raised)
	}
	if _, err := m.Resolve(context.Background(), storm.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	// Still storming: a new group starts a second storm alert; a group
	// the first one held is new again and folds into it too.
	res = handle(t, m, match("fw", "x", t0.Add(time.Second), "198.51.100.1"), match("fw", "y", t0.Add(time.Second), "203.0.113.1"))
	if len(res.Raised) != 1 || !res.Raised[0].Storm || res.Raised[0].ID == storm.ID || res.Raised[0].StormGroups != 2 {
		t.Fatalf("after resolving the storm alert: %+v", res)
	}
	// Replaying the first storm's events finds them in the resolved alert.
	if res := handle(t, m, scan("fw", "e", t0, 0, 3)...); res.Repeats != 3 {
		t.Fatalf("replay over the resolved storm: %+v", res)
	}
}

// A rule has one storm alert while it is open: a backfill whose events
// span days (beyond the grouping window), or a later storm, joins it.
func TestOneStormAlertPerRuleWhateverTheEventTimes(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	m := newManager(t, st, c, alert.Config{Storm: stormy(2, time.Minute)})
	var batch []alert.Match
	for day := range 5 {
		batch = append(batch, scan("fw", fmt.Sprintf("d%d", day), t0.Add(time.Duration(day)*24*time.Hour), 10*day, 10)...)
	}
	res := handle(t, m, batch...)
	if len(res.Raised) != 3 || !res.Raised[2].Storm {
		t.Fatalf("raised %+v", res.Raised)
	}
	storm := res.Raised[2]
	if storm.StormGroups != 48 || !storm.FirstSeen.Equal(t0) || !storm.LastSeen.Equal(t0.Add(4*24*time.Hour)) {
		t.Fatalf("storm alert over 5 days: %+v", storm)
	}
	// An hour later a new storm of the rule: the same storm alert.
	c.Advance(time.Hour)
	res = handle(t, m, scan("fw", "later", t0.Add(30*24*time.Hour), 100, 5)...)
	if len(res.Raised) != 2 || len(res.Updated) != 1 || res.Updated[0].ID != storm.ID || res.Updated[0].StormGroups != 51 {
		t.Fatalf("a later storm: raised %+v updated %+v", res.Raised, res.Updated)
	}
}
