package alert_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mamori-sec/mamori/internal/alert"
	"github.com/mamori-sec/mamori/internal/store"
)

// countingStore counts the store calls Handle makes, and can fail writes.
type countingStore struct {
	*store.Store
	mu        sync.Mutex
	reads     map[string]int
	writes    int
	failWrite int // fail this many SaveAlerts calls
}

var errDiskFull = errors.New("disk full")

func newCounting(st *store.Store) *countingStore {
	return &countingStore{Store: st, reads: map[string]int{}}
}

func (s *countingStore) read(what string) {
	s.mu.Lock()
	s.reads[what]++
	s.mu.Unlock()
}

// counts returns the reads by method and the writes so far, and zeroes them.
func (s *countingStore) counts() (map[string]int, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, w := s.reads, s.writes
	s.reads, s.writes = map[string]int{}, 0
	return r, w
}

func (s *countingStore) AlertsForGroups(ctx context.Context, h []string, since time.Time) ([]store.AlertRecord, error) {
	s.read("AlertsForGroups")
	return s.Store.AlertsForGroups(ctx, h, since)
}

func (s *countingStore) AlertGroupHashes(ctx context.Context) ([]string, error) {
	s.read("AlertGroupHashes")
	return s.Store.AlertGroupHashes(ctx)
}

func (s *countingStore) LatestOutbox(ctx context.Context, ids []string) (map[string]map[string]store.OutboxRecord, error) {
	s.read("LatestOutbox")
	return s.Store.LatestOutbox(ctx, ids)
}

func (s *countingStore) GetAlert(ctx context.Context, id string) (store.AlertRecord, bool, error) {
	s.read("GetAlert")
	return s.Store.GetAlert(ctx, id)
}

func (s *countingStore) SaveAlerts(ctx context.Context, w store.AlertWrite) error {
	s.mu.Lock()
	s.writes++
	fail := s.failWrite > 0
	if fail {
		s.failWrite--
	}
	s.mu.Unlock()
	if fail {
		return errDiskFull
	}
	return s.Store.SaveAlerts(ctx, w)
}

// idleSender is a sender that never runs: its notifications stay pending,
// and the manager it is given knows that without reading.
func idleSender(t testing.TB, st alert.Store) *alert.Sender {
	t.Helper()
	s, err := alert.NewSender(st, nil, alert.OutboxConfig{}, alert.SenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMatchesJoiningACachedAlertReadNothing(t *testing.T) {
	for _, tracked := range []bool{true, false} {
		t.Run(fmt.Sprintf("tracked=%v", tracked), func(t *testing.T) {
			st := openStore(t, "")
			defer st.Close()
			cs := newCounting(st)
			c := &clock{t: t0}
			opts := alert.Options{Now: c.Now}
			if tracked {
				opts.Sender = idleSender(t, cs)
			}
			m, err := alert.NewManager(cs, alert.Config{Notifiers: notifiers()}, opts)
			if err != nil {
				t.Fatal(err)
			}
			a := handle(t, m, match("ssh", "e0", t0, "203.0.113.7")).Raised[0]
			// The first call learns which groups the store has alerts of;
			// this group has none, so it reads nothing else.
			if reads, writes := cs.counts(); !reflect.DeepEqual(reads, map[string]int{"AlertGroupHashes": 1}) || writes != 1 {
				t.Fatalf("first match: reads %v, writes %d", reads, writes)
			}
			for i := 1; i <= 5; i++ {
				c.Advance(time.Second)
				at := t0.Add(time.Duration(i) * time.Second)
				res := handle(t, m, match("ssh", fmt.Sprintf("e%d", i), at, "203.0.113.7"),
					match("ssh", fmt.Sprintf("e%d-b", i), at, "203.0.113.7"))
				if len(res.Updated) != 1 || res.Updated[0].ID != a.ID || len(res.Raised) != 0 {
					t.Fatalf("batch %d: %+v", i, res)
				}
				reads, writes := cs.counts()
				if writes != 1 || reads["AlertsForGroups"] != 0 || reads["AlertGroupHashes"] != 0 {
					t.Fatalf("batch %d: reads %v, writes %d; want no read of alerts and one write", i, reads, writes)
				}
				// Told by the sender, the manager reads nothing at all;
				// else it reads the outbox rows that fell due since it
				// queued them (the trigger, still pending), once per call.
				if want := map[string]int{}; tracked && !reflect.DeepEqual(reads, want) {
					t.Fatalf("batch %d, tracked: reads %v", i, reads)
				}
				if !tracked && reads["LatestOutbox"] != 1 {
					t.Fatalf("batch %d, untracked: reads %v", i, reads)
				}
			}
			got, err := m.Get(context.Background(), a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.EventCount != 11 || got.MatchCount != 11 || got.Version != 6 {
				t.Errorf("stored alert: events %d matches %d version %d, want 11 11 6", got.EventCount, got.MatchCount, got.Version)
			}
			// One update per notifier and call, each superseding the last
			// still waiting: pd's are due at once, slack's wait for its digest.
			ds, _ := m.Deliveries(context.Background(), a.ID)
			pending := map[string]int{}
			for _, d := range ds {
				if d.State == "pending" {
					pending[d.Notifier+":"+string(d.Kind)]++
				}
			}
			if want := map[string]int{"pd:trigger": 1, "pd:update": 1, "slack:trigger": 1, "slack:update": 1}; !reflect.DeepEqual(pending, want) {
				t.Errorf("pending notifications %v, want %v", pending, want)
			}
		})
	}
}

func TestRestartReadsEachKnownGroupOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mamori.duckdb")
	st := openStore(t, path)
	c := &clock{t: t0}
	m := newManager(t, st, c, alert.Config{})
	a := handle(t, m, match("ssh", "e1", t0, "k1")).Raised[0]
	st.Close()

	st = openStore(t, path)
	defer st.Close()
	cs := newCounting(st)
	m = newManager(t, cs, c, alert.Config{})
	res := handle(t, m, match("ssh", "e2", t0.Add(time.Second), "k1"), match("ssh", "e3", t0.Add(time.Second), "k2"))
	if len(res.Updated) != 1 || res.Updated[0].ID != a.ID || len(res.Raised) != 1 {
		t.Fatalf("after restart: %+v", res)
	}
	// k1 has an alert in the store: read once; k2 has none: not read.
	if reads, _ := cs.counts(); reads["AlertsForGroups"] != 1 || reads["AlertGroupHashes"] != 1 {
		t.Fatalf("first call after restart: %v", reads)
	}
	handle(t, m, match("ssh", "e4", t0.Add(2*time.Second), "k1"), match("ssh", "e5", t0.Add(2*time.Second), "k2"),
		match("ssh", "e6", t0.Add(2*time.Second), "k3"))
	if reads, _ := cs.counts(); len(reads) != 0 {
		t.Fatalf("second call after restart: %v", reads)
	}
	// A late event, older than what the group was read for (window 3 h
	// back from e2), reads that group again, and only it.
	handle(t, m, match("ssh", "e7", t0.Add(-4*time.Hour), "k1"), match("ssh", "e8", t0.Add(3*time.Second), "k2"))
	if reads, _ := cs.counts(); reads["AlertsForGroups"] != 1 {
		t.Fatalf("late event: %v", reads)
	}
}

func TestCacheIsBoundedAndEvictedGroupsAreReadAgain(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	cs := newCounting(st)
	c := &clock{t: t0}
	met, err := alert.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	// No storm guard: its storm alerts would be a cached group per rule.
	m, err := alert.NewManager(cs, alert.Config{CacheGroups: 2, Storm: alert.StormConfig{Off: true}},
		alert.Options{Now: c.Now, Metrics: met})
	if err != nil {
		t.Fatal(err)
	}
	first := handle(t, m, match("r", "e1", t0, "a")).Raised[0]
	handle(t, m, match("r", "e2", t0, "b"))
	handle(t, m, match("r", "e3", t0, "c")) // a is the least recently matched: evicted
	if g, ev := alert.Value(alert.MetricsCachedGroups(met)), alert.Value(alert.MetricsCacheEvictions(met)); g != 2 || ev != 1 {
		t.Fatalf("cached %v evicted %v, want 2 and 1", g, ev)
	}
	cs.counts()
	res := handle(t, m, match("r", "e4", t0.Add(time.Minute), "a"))
	if len(res.Updated) != 1 || res.Updated[0].ID != first.ID || res.Updated[0].EventCount != 2 {
		t.Fatalf("evicted group's match: %+v", res)
	}
	if reads, _ := cs.counts(); reads["AlertsForGroups"] != 1 {
		t.Fatalf("evicted group not read again: %v", reads)
	}
	if l := alert.Value(alert.MetricsCacheLoads(met)); l != 1 {
		t.Errorf("loads %v, want 1", l)
	}
}

func TestFailedStoreKeepsNothingAndARetryCountsOnce(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	cs := newCounting(st)
	c := &clock{t: t0}
	m := newManager(t, cs, c, alert.Config{Notifiers: notifiers()})
	ctx := context.Background()
	a := handle(t, m, match("r", "e1", t0, "k")).Raised[0]

	cs.failWrite = 1
	batch := []alert.Match{match("r", "e2", t0.Add(time.Second), "k"), match("r", "e3", t0.Add(time.Second), "other")}
	if _, err := m.Handle(ctx, batch); !errors.Is(err, errDiskFull) {
		t.Fatalf("failed store: %v", err)
	}
	// Nothing of the failed call shows, in the store or in memory.
	if got, _ := m.Get(ctx, a.ID); got.EventCount != 1 || got.Version != 1 {
		t.Fatalf("after the failure: %+v", got)
	}
	res := handle(t, m, batch...)
	if len(res.Raised) != 1 || len(res.Updated) != 1 || res.Repeats != 0 {
		t.Fatalf("retry: %+v", res)
	}
	got, _ := m.Get(ctx, a.ID)
	if got.EventCount != 2 || got.Version != 2 || !reflect.DeepEqual(got.EventIDs, []string{"e1", "e2"}) {
		t.Fatalf("after the retry: %+v", got)
	}
	if res := handle(t, m, batch...); res.Repeats != 2 {
		t.Fatalf("third time: %+v", res)
	}
	if got := kinds(t, m, res.Raised[0].ID); !reflect.DeepEqual(got, []string{"pd:trigger:pending", "slack:trigger:pending"}) {
		t.Errorf("new alert's notifications: %v", got)
	}
}
