package alert_test

import (
	"context"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/alert"
	"github.com/mamori-sec/mamori/internal/store"
)

// timers is an AfterFunc that runs nothing by itself: fire runs what is
// scheduled.
type timers struct {
	mu    sync.Mutex
	waits []time.Duration
	fns   []func()
}

func (tm *timers) after(d time.Duration, f func()) func() bool {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	tm.waits = append(tm.waits, d)
	i := len(tm.fns)
	tm.fns = append(tm.fns, f)
	return func() bool {
		tm.mu.Lock()
		defer tm.mu.Unlock()
		stopped := tm.fns[i] != nil
		tm.fns[i] = nil
		return stopped
	}
}

// fire runs the scheduled functions not stopped, and reports how many.
func (tm *timers) fire() int {
	tm.mu.Lock()
	fns := tm.fns
	tm.fns = make([]func(), len(fns))
	tm.mu.Unlock()
	n := 0
	for _, f := range fns {
		if f != nil {
			f()
			n++
		}
	}
	return n
}

func storedAlert(t *testing.T, st *store.Store, id string) store.AlertRecord {
	t.Helper()
	r, found, err := st.GetAlert(context.Background(), id)
	if err != nil || !found {
		t.Fatalf("alert %s: %v %v", id, found, err)
	}
	return r
}

func TestChangesWaitForTheFlushInterval(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	cs := newCounting(st)
	c := &clock{t: t0}
	tm := &timers{}
	m, err := alert.NewManager(cs, alert.Config{Notifiers: notifiers(), FlushInterval: alert.Duration(time.Second)},
		alert.Options{Now: c.Now, Sender: idleSender(t, cs), AfterFunc: tm.after})
	if err != nil {
		t.Fatal(err)
	}
	a := handle(t, m, match("ssh", "e1", t0, "k")).Raised[0]
	cs.counts()

	// Two calls within the second: nothing written, one store scheduled a
	// second after the last write.
	c.Advance(300 * time.Millisecond)
	res := handle(t, m, match("ssh", "e2", c.Now(), "k"))
	if len(res.Updated) != 1 || res.Updated[0].EventCount != 2 {
		t.Fatalf("first waiting change: %+v", res)
	}
	c.Advance(300 * time.Millisecond)
	handle(t, m, match("ssh", "e3", c.Now(), "k"), match("ssh", "e4", c.Now(), "k"))
	if _, writes := cs.counts(); writes != 0 {
		t.Fatalf("%d writes within the interval", writes)
	}
	if !reflect.DeepEqual(tm.waits, []time.Duration{700 * time.Millisecond}) {
		t.Fatalf("scheduled %v, want one store in 700ms", tm.waits)
	}
	if r := storedAlert(t, st, a.ID); r.EventCount != 1 {
		t.Fatalf("stored before the interval: %d events", r.EventCount)
	}
	// The scheduled store writes both calls' changes at once, with one
	// update per notifier.
	c.Advance(400 * time.Millisecond)
	if n := tm.fire(); n != 1 {
		t.Fatalf("fired %d", n)
	}
	if _, writes := cs.counts(); writes != 1 {
		t.Fatalf("%d writes for the waiting changes", writes)
	}
	if r := storedAlert(t, st, a.ID); r.EventCount != 4 || r.Version != 2 {
		t.Fatalf("after the scheduled store: %d events, version %d", r.EventCount, r.Version)
	}
	want := []string{"pd:trigger:pending", "slack:trigger:pending", "pd:update:pending", "slack:update:pending"}
	if got := kinds(t, m, a.ID); !reflect.DeepEqual(got, want) {
		t.Fatalf("notifications %v, want %v", got, want)
	}

	// A new alert is stored at once, and takes waiting changes along.
	c.Advance(100 * time.Millisecond)
	handle(t, m, match("ssh", "e5", c.Now(), "k"))
	b := handle(t, m, match("ssh", "e6", c.Now(), "other")).Raised[0]
	if _, writes := cs.counts(); writes != 1 {
		t.Fatalf("%d writes, want the new alert's", writes)
	}
	if r := storedAlert(t, st, a.ID); r.EventCount != 5 || storedAlert(t, st, b.ID).EventCount != 1 {
		t.Fatalf("waiting change not stored with the new alert: %d events", r.EventCount)
	}
	if n := tm.fire(); n != 0 {
		t.Fatalf("a store was left scheduled after the write (%d)", n)
	}

	// Reads store waiting changes first.
	handle(t, m, match("ssh", "e7", c.Now(), "k"))
	if got, err := m.Get(context.Background(), a.ID); err != nil || got.EventCount != 6 {
		t.Fatalf("get: %d events, %v", got.EventCount, err)
	}
	// Close stores what waits; after it every call writes.
	handle(t, m, match("ssh", "e8", c.Now(), "k"))
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := storedAlert(t, st, a.ID); r.EventCount != 7 {
		t.Fatalf("after close: %d events", r.EventCount)
	}
	handle(t, m, match("ssh", "e9", c.Now(), "k"))
	if r := storedAlert(t, st, a.ID); r.EventCount != 8 {
		t.Fatalf("after close, a change waited: %d events", r.EventCount)
	}
}

func TestCrashLosesOnlyWaitingCountsAndTheReplayRestoresThem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mamori.duckdb")
	st := openStore(t, path)
	c := &clock{t: t0}
	tm := &timers{}
	cfg := alert.Config{Notifiers: notifiers()}
	m, err := alert.NewManager(st, cfg, alert.Options{Now: c.Now, AfterFunc: tm.after})
	if err != nil {
		t.Fatal(err)
	}
	batch := []alert.Match{match("r", "e1", t0, "k"), match("r", "e2", t0.Add(time.Second), "k")}
	a := handle(t, m, batch[0]).Raised[0]
	handle(t, m, batch[1]) // waits for the interval; the process dies first
	st.Close()

	st = openStore(t, path)
	defer st.Close()
	m = newManager(t, st, c, cfg)
	res := handle(t, m, batch...) // the replay at start
	if res.Repeats != 1 || len(res.Updated) != 1 || len(res.Raised) != 0 {
		t.Fatalf("replay: %+v", res)
	}
	got, _ := m.Get(context.Background(), a.ID)
	if got.EventCount != 2 || !reflect.DeepEqual(got.EventIDs, []string{"e1", "e2"}) {
		t.Fatalf("after the replay: %+v", got)
	}
	if k := kinds(t, m, a.ID); !reflect.DeepEqual(k, []string{"pd:trigger:pending", "slack:trigger:pending",
		"pd:update:pending", "slack:update:pending"}) {
		t.Errorf("notifications: %v", k)
	}
}

// A failed store takes back only the failing call's changes: those of
// earlier calls, waiting for the interval, are stored later.
func TestFailedStoreKeepsEarlierWaitingChanges(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	cs := newCounting(st)
	c := &clock{t: t0}
	tm := &timers{}
	m, err := alert.NewManager(cs, alert.Config{}, alert.Options{Now: c.Now, AfterFunc: tm.after})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a := handle(t, m, match("r", "e1", t0, "k")).Raised[0]
	handle(t, m, match("r", "e2", t0, "k")) // waits
	cs.failWrite = 1
	failing := []alert.Match{match("r", "e3", t0, "k"), match("r", "n1", t0, "new")}
	if _, err := m.Handle(ctx, failing); err == nil {
		t.Fatal("no error")
	}
	if n := tm.fire(); n != 1 {
		t.Fatalf("fired %d", n)
	}
	r := storedAlert(t, st, a.ID)
	if r.EventCount != 2 || !reflect.DeepEqual(r.EventIDs, []string{"e1", "e2"}) {
		t.Fatalf("after the failed call: %+v", r)
	}
	res := handle(t, m, failing...)
	if len(res.Raised) != 1 || len(res.Updated) != 1 || res.Updated[0].EventCount != 3 {
		t.Fatalf("retry: %+v", res)
	}
	if got, _ := m.Get(ctx, a.ID); got.EventCount != 3 || got.Version != 3 {
		t.Fatalf("after the retry: %+v", got)
	}
}
