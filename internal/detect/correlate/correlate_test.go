package correlate

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func hit(rule, sec int, id string) Hit {
	return Hit{Rule: rule, Time: at(sec), IDs: []string{id}}
}

func TestEventCount(t *testing.T) {
	s := New(Config{Kind: EventCount, Window: time.Minute, Min: 3})
	for i, h := range []Hit{hit(0, 0, "a"), hit(0, 10, "b")} {
		if _, ok := s.Observe("k", h); ok {
			t.Fatalf("fired at hit %d", i)
		}
	}
	if _, ok := s.Observe("other", hit(0, 20, "x")); ok {
		t.Fatal("another group's hit counted")
	}
	f, ok := s.Observe("k", hit(0, 59, "c"))
	if !ok {
		t.Fatal("three hits within a minute did not fire")
	}
	if f.Key != "k" || f.Count != 3 || !reflect.DeepEqual(f.IDs, []string{"a", "b", "c"}) || !f.First.Equal(at(0)) || !f.Last.Equal(at(59)) {
		t.Errorf("fire %+v", f)
	}
	// The group starts afresh after firing.
	if _, ok := s.Observe("k", hit(0, 60, "d")); ok {
		t.Error("fired again on the next hit")
	}
	if st := s.Stats(); st.Fired != 1 || st.Groups != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestEventCountWindowSlides(t *testing.T) {
	s := New(Config{Kind: EventCount, Window: time.Minute, Min: 3})
	s.Observe("k", hit(0, 0, "a"))
	s.Observe("k", hit(0, 50, "b"))
	// a is more than a minute before c: only b and c are in the window.
	if _, ok := s.Observe("k", hit(0, 61, "c")); ok {
		t.Fatal("fired with a hit outside the window")
	}
	f, ok := s.Observe("k", hit(0, 70, "d"))
	if !ok || !reflect.DeepEqual(f.IDs, []string{"b", "c", "d"}) {
		t.Fatalf("fire %+v %v", f, ok)
	}
}

func TestOutOfOrderWithinWindow(t *testing.T) {
	s := New(Config{Kind: EventCount, Window: time.Minute, Min: 3})
	s.Observe("k", hit(0, 50, "late-stamped"))
	s.Observe("k", hit(0, 10, "early"))
	f, ok := s.Observe("k", hit(0, 30, "middle"))
	if !ok {
		t.Fatal("hits arriving out of order within the window did not fire")
	}
	if !reflect.DeepEqual(f.IDs, []string{"early", "middle", "late-stamped"}) || !f.First.Equal(at(10)) {
		t.Errorf("fire %+v (ids should be in time order)", f)
	}
	// A hit older than the window behind the group's latest is late.
	s.Observe("k", hit(0, 200, "x"))
	if _, ok := s.Observe("k", hit(0, 100, "too-late")); ok {
		t.Error("a late hit fired")
	}
	if st := s.Stats(); st.Late != 1 {
		t.Errorf("late %d, want 1", st.Late)
	}
}

func TestValueCount(t *testing.T) {
	s := New(Config{Kind: ValueCount, Window: time.Hour, Min: 3})
	vals := []string{"alice", "bob", "alice", "", "bob"}
	for i, v := range vals {
		if _, ok := s.Observe("ip", Hit{Time: at(i), IDs: []string{fmt.Sprint(i)}, Value: v}); ok {
			t.Fatalf("fired with %d distinct values", i)
		}
	}
	f, ok := s.Observe("ip", Hit{Time: at(10), IDs: []string{"10"}, Value: "carol"})
	if !ok || f.Count != 3 {
		t.Fatalf("three distinct values did not fire: %+v", f)
	}
	// One event per value: each value's latest.
	if !reflect.DeepEqual(f.IDs, []string{"2", "4", "10"}) {
		t.Errorf("ids %v", f.IDs)
	}
}

func TestValueCountForgetsOldValues(t *testing.T) {
	s := New(Config{Kind: ValueCount, Window: time.Minute, Min: 2})
	s.Observe("ip", Hit{Time: at(0), Value: "alice"})
	if _, ok := s.Observe("ip", Hit{Time: at(120), Value: "bob"}); ok {
		t.Fatal("a value outside the window counted")
	}
}

func TestTemporal(t *testing.T) {
	s := New(Config{Kind: Temporal, Rules: 3, Window: 5 * time.Minute, Min: 3})
	s.Observe("host", hit(2, 0, "c"))
	s.Observe("host", hit(0, 10, "a"))
	if _, ok := s.Observe("host", hit(0, 20, "a2")); ok {
		t.Fatal("fired with two of three rules")
	}
	f, ok := s.Observe("host", hit(1, 30, "b"))
	if !ok || f.Count != 3 {
		t.Fatalf("all three rules did not fire: %+v", f)
	}
	if !reflect.DeepEqual(f.IDs, []string{"c", "a2", "b"}) {
		t.Errorf("ids %v (each rule's latest, in time order)", f.IDs)
	}
}

func TestTemporalOrdered(t *testing.T) {
	s := New(Config{Kind: TemporalOrdered, Rules: 2, Window: 10 * time.Minute, Min: 2})
	// The success comes first: no sequence.
	if _, ok := s.Observe("u", hit(1, 0, "success-before")); ok {
		t.Fatal("fired on the second rule alone")
	}
	if _, ok := s.Observe("u", hit(0, 60, "failures")); ok {
		t.Fatal("fired with the rules out of order")
	}
	f, ok := s.Observe("u", hit(1, 120, "success"))
	if !ok || !reflect.DeepEqual(f.IDs, []string{"failures", "success"}) {
		t.Fatalf("in-order sequence: %+v %v", f, ok)
	}
}

func TestTemporalOrderedOutOfOrderArrival(t *testing.T) {
	s := New(Config{Kind: TemporalOrdered, Rules: 2, Window: 10 * time.Minute, Min: 2})
	s.Observe("u", hit(1, 120, "success")) // arrives first, happened last
	f, ok := s.Observe("u", hit(0, 60, "failures"))
	if !ok || !reflect.DeepEqual(f.IDs, []string{"failures", "success"}) {
		t.Fatalf("event time decides the order: %+v %v", f, ok)
	}
}

func TestBoundedGroups(t *testing.T) {
	s := New(Config{Kind: EventCount, Window: time.Hour, Min: 5, MaxGroups: 100})
	for i := 0; i < 1000; i++ {
		s.Observe(fmt.Sprint("g", i), hit(0, i, "x"))
	}
	st := s.Stats()
	if st.Groups != 100 || st.Evicted != 900 || st.Entries != 100 {
		t.Fatalf("stats %+v, want 100 groups, 900 evicted", st)
	}
	// The most recent groups survive: four more hits fire g999.
	for i := 0; i < 3; i++ {
		s.Observe("g999", hit(0, 1000+i, "y"))
	}
	if _, ok := s.Observe("g999", hit(0, 1004, "z")); !ok {
		t.Error("the most recently used group was evicted")
	}
}

func TestBoundedEntries(t *testing.T) {
	s := New(Config{Kind: EventCount, Window: time.Hour, Min: 1000, MaxEntries: 50})
	for i := 0; i < 40; i++ {
		s.Observe("a", hit(0, i, "x"))
	}
	for i := 0; i < 20; i++ {
		s.Observe("b", hit(0, 100+i, "y"))
	}
	st := s.Stats()
	if st.Entries > 50 || st.Evicted != 1 || st.Groups != 1 {
		t.Fatalf("stats %+v: group a should have been evicted to stay within 50 entries", st)
	}
}

// clock is a settable arrival clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestIdleGroupsAreDropped(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	s := New(Config{Kind: EventCount, Window: time.Minute, Min: 5, Now: c.now})
	s.Observe("old", hit(0, 0, "x"))
	c.t = c.t.Add(2 * time.Minute)
	s.Observe("new", hit(0, 1, "y"))
	if st := s.Stats(); st.Groups != 1 || st.Evicted != 0 {
		t.Errorf("stats %+v: no hit reached the old group for a window, it should be gone (not counted as evicted)", st)
	}
}

// TestFutureEventKeepsOtherGroups: one event dated far ahead (a host whose
// clock runs fast, or a forged line) must not erase the other groups.
func TestFutureEventKeepsOtherGroups(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
	s := New(Config{Kind: EventCount, Window: time.Minute, Min: 3, Now: c.now})
	s.Observe("attacker", hit(0, 0, "a1"))
	s.Observe("attacker", hit(0, 1, "a2"))
	s.Observe("skewed-host", hit(0, 86400, "future"))
	if _, ok := s.Observe("attacker", hit(0, 2, "a3")); !ok {
		t.Fatalf("a future-dated event in another group erased the attacker's count: %+v", s.Stats())
	}
}

func TestMaxIDs(t *testing.T) {
	s := New(Config{Kind: EventCount, Window: time.Hour, Min: 10, MaxIDs: 3})
	var f Fire
	for i := 0; i < 10; i++ {
		f, _ = s.Observe("k", hit(0, i, fmt.Sprint(i)))
	}
	if f.Count != 10 || !reflect.DeepEqual(f.IDs, []string{"7", "8", "9"}) {
		t.Errorf("fire %+v: want the latest three ids", f)
	}
}

func TestConcurrentUse(t *testing.T) {
	s := New(Config{Kind: EventCount, Window: time.Hour, Min: 1000})
	done := make(chan bool)
	for w := 0; w < 4; w++ {
		go func(w int) {
			for i := 0; i < 500; i++ {
				s.Observe(fmt.Sprint(i%7), hit(0, i, fmt.Sprint(w, i)))
			}
			done <- true
		}(w)
	}
	for w := 0; w < 4; w++ {
		<-done
	}
	if st := s.Stats(); st.Entries != 2000 || st.Groups != 7 {
		t.Errorf("stats %+v", st)
	}
}
