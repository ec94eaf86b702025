// Package correlate keeps the state of Sigma correlation rules over a
// stream of matches: counts of events, distinct values, or which rules
// matched, per group key, within a time window. Memory is bounded: each
// correlation keeps at most MaxGroups groups and MaxEntries entries,
// evicting the least recently updated groups first, and counts what it
// evicted and what arrived too late to count.
//
// Windows are in event time; a group is forgotten when no hit reached it
// for a window of arrival time (the clock). Expiring groups by the newest
// event time seen would let one host with a clock running ahead, or one
// forged future-dated line, wipe every other group's state.
package correlate

import (
	"container/list"
	"sort"
	"sync"
	"time"
)

// Kind is a correlation type.
type Kind int

// Correlation kinds (Sigma's event_count, value_count, temporal,
// temporal_ordered).
const (
	EventCount Kind = iota
	ValueCount
	Temporal
	TemporalOrdered
)

// Config describes one correlation.
type Config struct {
	Kind Kind
	// Rules is how many rules are correlated (temporal kinds).
	Rules int
	// Window is the timespan the events must fall within.
	Window time.Duration
	// Min is the count (events, distinct values, or rules) that fires.
	Min int
	// MaxGroups bounds the group keys held (default 10,000).
	MaxGroups int
	// MaxEntries bounds the entries held over all groups (default
	// 1,000,000).
	MaxEntries int
	// MaxIDs bounds the event ids a firing reports (default 100; the
	// latest are kept).
	MaxIDs int
	// Now is the arrival clock groups idle by (default time.Now).
	Now func() time.Time
}

// Defaults for the bounds.
const (
	DefaultMaxGroups  = 10_000
	DefaultMaxEntries = 1_000_000
	DefaultMaxIDs     = 100
	// maxPerRule bounds the entries a temporal group keeps for one rule.
	maxPerRule = 64
)

// Hit is one match of a correlated rule.
type Hit struct {
	// Rule is the rule's position in the correlation's rules.
	Rule int
	Time time.Time
	// IDs are the hit's events: one, or for a hit that is itself a
	// correlation's match, the events it counted.
	IDs []string
	// Value is value_count's counted value ("" when the event lacks it:
	// such a hit is not counted).
	Value string
}

// Fire is a correlation that reached its threshold.
type Fire struct {
	Key string
	// Count is what reached the threshold: events, distinct values or
	// rules.
	Count int
	// IDs are the events that made it (at most MaxIDs, the latest).
	IDs         []string
	First, Last time.Time
}

// Stats are a correlation's counters.
type Stats struct {
	Groups  int
	Entries int
	// Evicted counts groups dropped to stay within the bounds before
	// their window passed.
	Evicted uint64
	// Late counts hits older than their group's window when they arrived.
	Late  uint64
	Fired uint64
}

// State is one correlation's state. It is safe for concurrent use.
type State struct {
	cfg Config

	mu      sync.Mutex
	groups  map[string]*list.Element // of *group
	lru     *list.List               // front: most recently updated
	entries int
	stats   Stats
}

type entry struct {
	t   time.Time
	ids []string
}

type group struct {
	key     string
	latest  time.Time // the latest hit's event time
	touched time.Time // when a hit last reached the group (arrival clock)
	// event_count: entries sorted by time.
	events []entry
	// value_count: each value's latest time and event.
	values map[string]entry
	// temporal: each rule's entries, sorted by time.
	rules [][]entry
	size  int // entries held
}

// New returns an empty state.
func New(cfg Config) *State {
	if cfg.MaxGroups <= 0 {
		cfg.MaxGroups = DefaultMaxGroups
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultMaxEntries
	}
	if cfg.MaxIDs <= 0 {
		cfg.MaxIDs = DefaultMaxIDs
	}
	if cfg.Min < 1 {
		cfg.Min = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &State{cfg: cfg, groups: map[string]*list.Element{}, lru: list.New()}
}

// Observe counts a hit in its group and reports whether the correlation
// fired. A group that fires starts afresh, so the next firing needs a new
// threshold's worth of hits.
func (s *State) Observe(key string, h Hit) (Fire, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	s.expire(now)
	el, ok := s.groups[key]
	var g *group
	if ok {
		g = el.Value.(*group)
		if h.Time.Before(g.latest.Add(-s.cfg.Window)) {
			s.stats.Late++
			return Fire{}, false
		}
		s.lru.MoveToFront(el)
	} else {
		g = &group{key: key}
		el = s.lru.PushFront(g)
		s.groups[key] = el
	}
	g.touched = now
	if h.Time.After(g.latest) {
		g.latest = h.Time
	}
	before := g.size
	var f Fire
	var fired bool
	switch s.cfg.Kind {
	case EventCount:
		f, fired = s.eventCount(g, h)
	case ValueCount:
		f, fired = s.valueCount(g, h)
	default:
		f, fired = s.temporal(g, h)
	}
	s.entries += g.size - before
	if fired {
		s.stats.Fired++
		s.remove(el)
	}
	s.bound()
	return f, fired
}

// Stats returns the counters.
func (s *State) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Groups = len(s.groups)
	st.Entries = s.entries
	return st
}

func (s *State) remove(el *list.Element) {
	g := el.Value.(*group)
	s.entries -= g.size
	s.lru.Remove(el)
	delete(s.groups, g.key)
}

// expire drops groups that no hit reached for a window of arrival time.
// The list is in arrival order, so only its back needs looking at; a few
// a call keep the work per hit bounded.
func (s *State) expire(now time.Time) {
	for i := 0; i < 4; i++ {
		el := s.lru.Back()
		if el == nil {
			return
		}
		if !el.Value.(*group).touched.Before(now.Add(-s.cfg.Window)) {
			return
		}
		s.remove(el)
	}
}

// bound evicts the least recently updated groups beyond the bounds.
func (s *State) bound() {
	for len(s.groups) > s.cfg.MaxGroups || s.entries > s.cfg.MaxEntries {
		el := s.lru.Back()
		if el == nil {
			return
		}
		s.remove(el)
		s.stats.Evicted++
	}
}

// insertSorted adds e to a time-sorted slice.
func insertSorted(list []entry, e entry) []entry {
	i := sort.Search(len(list), func(i int) bool { return list[i].t.After(e.t) })
	list = append(list, entry{})
	copy(list[i+1:], list[i:])
	list[i] = e
	return list
}

// pruneSorted drops entries before from.
func pruneSorted(list []entry, from time.Time) []entry {
	i := sort.Search(len(list), func(i int) bool { return !list[i].t.Before(from) })
	if i == 0 {
		return list
	}
	return append(list[:0], list[i:]...)
}

// ids lists the entries' events, the latest MaxIDs of them.
func (s *State) ids(list []entry) []string {
	var out []string
	for i := len(list) - 1; i >= 0 && len(out) < s.cfg.MaxIDs; i-- {
		ids := list[i].ids
		for j := len(ids) - 1; j >= 0 && len(out) < s.cfg.MaxIDs; j-- {
			if ids[j] != "" {
				out = append(out, ids[j])
			}
		}
	}
	// Oldest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func (s *State) eventCount(g *group, h Hit) (Fire, bool) {
	g.events = insertSorted(g.events, entry{t: h.Time, ids: h.IDs})
	g.events = pruneSorted(g.events, g.latest.Add(-s.cfg.Window))
	g.size = len(g.events)
	if len(g.events) < s.cfg.Min {
		return Fire{}, false
	}
	return Fire{Key: g.key, Count: len(g.events), IDs: s.ids(g.events),
		First: g.events[0].t, Last: g.events[len(g.events)-1].t}, true
}

func (s *State) valueCount(g *group, h Hit) (Fire, bool) {
	if h.Value == "" {
		return Fire{}, false
	}
	if g.values == nil {
		g.values = map[string]entry{}
	}
	if old, ok := g.values[h.Value]; !ok || h.Time.After(old.t) {
		g.values[h.Value] = entry{t: h.Time, ids: h.IDs}
	}
	from := g.latest.Add(-s.cfg.Window)
	for v, e := range g.values {
		if e.t.Before(from) {
			delete(g.values, v)
		}
	}
	g.size = len(g.values)
	if len(g.values) < s.cfg.Min {
		return Fire{}, false
	}
	list := make([]entry, 0, len(g.values))
	for _, e := range g.values {
		list = append(list, e)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].t.Before(list[j].t) })
	return Fire{Key: g.key, Count: len(list), IDs: s.ids(list), First: list[0].t, Last: list[len(list)-1].t}, true
}

func (s *State) temporal(g *group, h Hit) (Fire, bool) {
	if h.Rule < 0 || h.Rule >= s.cfg.Rules {
		return Fire{}, false
	}
	if g.rules == nil {
		g.rules = make([][]entry, s.cfg.Rules)
	}
	r := insertSorted(g.rules[h.Rule], entry{t: h.Time, ids: h.IDs})
	if len(r) > maxPerRule {
		r = append(r[:0], r[len(r)-maxPerRule:]...)
	}
	g.rules[h.Rule] = r
	from := g.latest.Add(-s.cfg.Window)
	g.size = 0
	for i := range g.rules {
		g.rules[i] = pruneSorted(g.rules[i], from)
		g.size += len(g.rules[i])
	}
	var chain []entry
	if s.cfg.Kind == TemporalOrdered {
		chain = orderedChain(g.rules)
	} else {
		for _, list := range g.rules {
			if len(list) > 0 {
				chain = append(chain, list[len(list)-1])
			}
		}
	}
	if len(chain) < s.cfg.Min {
		return Fire{}, false
	}
	sorted := append([]entry(nil), chain...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].t.Before(sorted[j].t) })
	return Fire{Key: g.key, Count: len(chain), IDs: s.ids(sorted), First: sorted[0].t, Last: sorted[len(sorted)-1].t}, true
}

// orderedChain finds, rule by rule in order, the earliest hit no earlier
// than the previous rule's: the longest prefix of the rules seen in order.
func orderedChain(rules [][]entry) []entry {
	var chain []entry
	var at time.Time
	for _, list := range rules {
		i := sort.Search(len(list), func(i int) bool { return !list[i].t.Before(at) })
		if i == len(list) {
			break
		}
		chain = append(chain, list[i])
		at = list[i].t
	}
	return chain
}
