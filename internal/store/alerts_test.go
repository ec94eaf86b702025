package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

func testAlert(id string, version int64) AlertRecord {
	return AlertRecord{
		ID: id, RuleID: "r1", RuleTitle: "Root login", Severity: "high", Title: "Root login (alice)",
		Summary: "root logged in", Dataset: "aws.cloudtrail", GroupHash: "g1", GroupKey: []string{"alice", "10.0.0.1"},
		FirstSeen: t0, LastSeen: t0.Add(time.Minute), EventCount: 2, MatchCount: 2, EventIDs: []string{"e1", "e2"},
		Status: "open", Version: version, Created: t0, Updated: t0,
	}
}

func testOutbox(id, alertID, notifier string, version int64, kind string, due time.Time) OutboxRecord {
	return OutboxRecord{ID: id, AlertID: alertID, Notifier: notifier, Version: version, Kind: kind,
		Payload: []byte(`{"v":1}`), EventCount: version * 10, Created: t0, Due: due}
}

func TestSaveAlertsRoundTripsAndChecksVersion(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	a := testAlert("A1", 1)
	if err := s.SaveAlerts(ctx, AlertWrite{Insert: []AlertRecord{a}}); err != nil {
		t.Fatal(err)
	}
	got, found, err := s.GetAlert(ctx, "A1")
	if err != nil || !found {
		t.Fatalf("get: %v %v", found, err)
	}
	if !reflect.DeepEqual(got, a) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, a)
	}
	if _, found, err := s.GetAlert(ctx, "nope"); err != nil || found {
		t.Fatalf("unknown id: found %v err %v", found, err)
	}

	b := a
	b.Version = 2
	b.EventIDs = append([]string{}, "e1", "e2", "e3")
	b.EventCount = 3
	b.Status = "acknowledged"
	b.AcknowledgedBy, b.AcknowledgedAt = "bob", t0.Add(2*time.Minute)
	if err := s.SaveAlerts(ctx, AlertWrite{Update: []AlertRecord{b}}); err != nil {
		t.Fatal(err)
	}
	got, _, _ = s.GetAlert(ctx, "A1")
	if !reflect.DeepEqual(got, b) {
		t.Fatalf("after update:\n got %+v\nwant %+v", got, b)
	}
	// Writing version 2 again means the writer read version 1: stale.
	err = s.SaveAlerts(ctx, AlertWrite{Update: []AlertRecord{b}, Outbox: []OutboxRecord{testOutbox("O1", "A1", "pd", 2, "update", t0)}})
	if !errors.Is(err, ErrAlertConflict) {
		t.Fatalf("stale update: got %v, want ErrAlertConflict", err)
	}
	// ... and the transaction wrote nothing, the outbox row included.
	if rows, _ := s.AlertOutbox(ctx, "A1"); len(rows) != 0 {
		t.Fatalf("rolled-back transaction left outbox rows: %+v", rows)
	}
}

func TestListAlertsFilters(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	var ins []AlertRecord
	for i, st := range []string{"open", "acknowledged", "resolved", "open"} {
		a := testAlert(string(rune('A'+i)), 1)
		a.Status = st
		a.LastSeen = t0.Add(time.Duration(i) * time.Hour)
		if i == 3 {
			a.RuleID, a.Severity, a.GroupHash = "r2", "critical", "g2"
		}
		ins = append(ins, a)
	}
	if err := s.SaveAlerts(ctx, AlertWrite{Insert: ins}); err != nil {
		t.Fatal(err)
	}
	ids := func(f AlertFilter) []string {
		t.Helper()
		list, err := s.ListAlerts(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range list {
			out = append(out, a.ID)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		f    AlertFilter
		want []string
	}{
		{"all, newest first", AlertFilter{}, []string{"D", "C", "B", "A"}},
		{"status", AlertFilter{Statuses: []string{"open", "acknowledged"}}, []string{"D", "B", "A"}},
		{"since", AlertFilter{Since: t0.Add(2 * time.Hour)}, []string{"D", "C"}},
		{"until", AlertFilter{Until: t0.Add(2 * time.Hour)}, []string{"B", "A"}},
		{"rule", AlertFilter{RuleID: "r2"}, []string{"D"}},
		{"severity", AlertFilter{Severities: []string{"high"}}, []string{"C", "B", "A"}},
		{"limit offset", AlertFilter{Limit: 2, Offset: 1}, []string{"C", "B"}},
	} {
		if got := ids(tt.f); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}

	// AlertsForGroups: unresolved ones, and resolved ones seen since.
	group, err := s.AlertsForGroups(ctx, []string{"g1", "g9"}, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range group {
		got = append(got, a.ID)
	}
	if want := []string{"C", "B", "A"}; !reflect.DeepEqual(got, want) {
		t.Errorf("group since 2h: got %v, want %v", got, want)
	}
	group, _ = s.AlertsForGroups(ctx, []string{"g1"}, t0.Add(3*time.Hour))
	if len(group) != 2 {
		t.Errorf("group since 3h: got %d alerts, want the 2 unresolved", len(group))
	}
	if group, _ = s.AlertsForGroups(ctx, []string{"g9"}, t0); len(group) != 0 {
		t.Errorf("unknown group: %d alerts", len(group))
	}
}

func TestOutboxQueueOrderAndStates(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	a := testAlert("A1", 3)
	b := testAlert("B1", 1)
	now := t0.Add(time.Hour)
	w := AlertWrite{Insert: []AlertRecord{a, b}, Outbox: []OutboxRecord{
		testOutbox("01", "A1", "pd", 1, "trigger", now.Add(time.Minute)), // not yet due
		testOutbox("02", "A1", "pd", 2, "update", now),                   // due, but behind 01
		testOutbox("03", "A1", "slack", 1, "trigger", now),
		testOutbox("04", "B1", "pd", 1, "trigger", now.Add(-time.Minute)),
	}}
	if err := s.SaveAlerts(ctx, w); err != nil {
		t.Fatal(err)
	}
	heads := func(notifier string, at time.Time) []string {
		t.Helper()
		rows, err := s.DueOutbox(ctx, notifier, at, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rows {
			out = append(out, r.ID)
		}
		return out
	}
	if got := heads("pd", now); !reflect.DeepEqual(got, []string{"04"}) {
		t.Fatalf("pd due now: got %v, want [04] (02 waits for 01)", got)
	}
	if got := heads("pd", now.Add(time.Minute)); !reflect.DeepEqual(got, []string{"04", "01"}) {
		t.Fatalf("pd due in 1m: got %v, want [04 01]", got)
	}
	if err := s.MarkOutboxSent(ctx, "01", now); err != nil {
		t.Fatal(err)
	}
	rows, _ := s.DueOutbox(ctx, "pd", now.Add(time.Minute), 10)
	if len(rows) != 2 || rows[1].ID != "02" || rows[1].NotifiedCount != 10 || rows[0].NotifiedCount != 0 {
		t.Fatalf("after 01 sent: %+v", rows)
	}

	// A retry moves the due time; a failure ends the row.
	if err := s.MarkOutboxRetry(ctx, "04", 1, now.Add(time.Hour), "503"); err != nil {
		t.Fatal(err)
	}
	if got := heads("pd", now.Add(time.Minute)); !reflect.DeepEqual(got, []string{"02"}) {
		t.Fatalf("after retry: got %v", got)
	}
	if err := s.MarkOutboxFailed(ctx, "03", 1, now, "404 no_service"); err != nil {
		t.Fatal(err)
	}
	if got := heads("slack", now); len(got) != 0 {
		t.Fatalf("failed row still due: %v", got)
	}
	// A failed row can no longer be marked sent.
	if err := s.MarkOutboxSent(ctx, "03", now); err != nil {
		t.Fatal(err)
	}

	// Supersede 02 with 05 in the same transaction as the alert's update.
	a.Version = 4
	if err := s.SaveAlerts(ctx, AlertWrite{Update: []AlertRecord{a}, Supersede: []string{"02"},
		Outbox: []OutboxRecord{testOutbox("05", "A1", "pd", 4, "update", now)}}); err != nil {
		t.Fatal(err)
	}
	latest, err := s.LatestOutbox(ctx, []string{"A1", "B1", "C1"})
	if err != nil || len(latest) != 2 || latest["A1"]["pd"].ID != "05" || latest["A1"]["slack"].ID != "03" || latest["B1"]["pd"].ID != "04" {
		t.Fatalf("latest: %+v %v", latest, err)
	}
	counts, err := s.OutboxPendingCounts(ctx)
	if err != nil || !reflect.DeepEqual(counts, map[string]int64{"pd": 2}) {
		t.Fatalf("pending counts: %v %v", counts, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Everything survives a reopen.
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all, err := s.AlertOutbox(ctx, "A1")
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, r := range all {
		states[r.ID] = r.State
	}
	want := map[string]string{"01": OutboxSent, "02": OutboxSuperseded, "03": OutboxFailed, "05": OutboxPending}
	if !reflect.DeepEqual(states, want) {
		t.Fatalf("states after reopen: got %v, want %v", states, want)
	}
	if got := heads("pd", now); !reflect.DeepEqual(got, []string{"05"}) {
		t.Fatalf("pd after reopen: got %v, want [05] (04 is rescheduled)", got)
	}

	// Pruning keeps the newest row and the newest sent row of each queue.
	n, err := s.PruneOutbox(ctx, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 { // 02 (superseded); 01 is A1/pd's newest sent, 03 A1/slack's newest
		t.Fatalf("pruned %d rows, want 1", n)
	}
	if rows, _ := s.DueOutbox(ctx, "pd", now, 10); len(rows) != 1 || rows[0].NotifiedCount != 10 {
		t.Fatalf("after prune the notified count is lost: %+v", rows)
	}
}

func TestStormFieldsAndGroupHashes(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	a := testAlert("A1", 1)
	storm := testAlert("S1", 1)
	storm.GroupHash, storm.GroupKey, storm.Storm, storm.StormGroups = "storm-g1", []string{}, true, 42
	if err := s.SaveAlerts(ctx, AlertWrite{Insert: []AlertRecord{a, storm, testAlert("A2", 1)}}); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.GetAlert(ctx, "S1")
	if err != nil || !reflect.DeepEqual(got, storm) {
		t.Fatalf("storm alert round trip:\n got %+v\nwant %+v (%v)", got, storm, err)
	}
	if got, _, _ := s.GetAlert(ctx, "A1"); got.Storm || got.StormGroups != 0 {
		t.Errorf("plain alert: %+v", got)
	}
	hashes, err := s.AlertGroupHashes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(hashes)
	if !reflect.DeepEqual(hashes, []string{"g1", "storm-g1"}) {
		t.Errorf("group hashes %v", hashes)
	}
}

// An alerts table of the first release gains the storm columns on open;
// its rows read as plain alerts.
func TestAlertsTableGainsStormColumns(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.duckdb")
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	old, _, _ := strings.Cut(AlertsDDL, ";")
	if _, err := db.Exec(old); err != nil {
		t.Fatal(err)
	}
	a := testAlert("A1", 1)
	row, _ := alertRow(a)
	args := make([]any, 23) // the first release's columns
	for i := range args {
		args[i] = row[i]
	}
	if _, err := db.Exec(`INSERT INTO alerts VALUES (`+strings.Repeat("?, ", 22)+`?)`, args...); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, found, err := s.GetAlert(ctx, "A1")
	if err != nil || !found || !reflect.DeepEqual(got, a) {
		t.Fatalf("old row:\n got %+v\nwant %+v (%v)", got, a, err)
	}
	b := testAlert("B1", 1)
	b.Storm, b.StormGroups = true, 3
	if err := s.SaveAlerts(ctx, AlertWrite{Insert: []AlertRecord{b}}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.GetAlert(ctx, "B1"); !reflect.DeepEqual(got, b) {
		t.Fatalf("new row in the old table: %+v", got)
	}
}
