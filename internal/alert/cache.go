package alert

import (
	"container/list"
	"time"

	"github.com/mamori-sec/mamori/internal/store"
)

// cached is an alert the manager holds in memory, with what it knows of
// the alert's notifications.
type cached struct {
	a   Alert
	ids map[string]struct{} // a.EventIDs as a set, built on first use
	// latest is the newest outbox row per notifier, Payload left out.
	latest map[string]store.OutboxRecord
	stored bool // in the store at a.Version (else new, not stored yet)
	dirty  bool // changed since stored
	// stale: latest may be out of date (the sender's reports were lost).
	stale bool
}

func (c *cached) has(id string) bool {
	if c.ids == nil {
		c.ids = make(map[string]struct{}, len(c.a.EventIDs))
		for _, x := range c.a.EventIDs {
			c.ids[x] = struct{}{}
		}
	}
	_, ok := c.ids[id]
	return ok
}

// add counts a match's events into the alert, listing ids up to max. An id
// already listed is not counted again; past the list's end, ids cannot be
// checked and each counts.
func (c *cached) add(mt *Match, max int) {
	add := func(id string) {
		if id == "" || c.has(id) {
			return
		}
		c.a.EventCount++
		if len(c.a.EventIDs) < max {
			c.a.EventIDs = append(c.a.EventIDs, id)
			c.ids[id] = struct{}{}
		}
	}
	add(mt.EventID)
	for _, id := range mt.EventIDs {
		add(id)
	}
	c.a.MatchCount++
	t := mt.EventTime.UTC()
	if t.Before(c.a.FirstSeen) {
		c.a.FirstSeen = t
	}
	if t.After(c.a.LastSeen) {
		c.a.LastSeen = t
	}
	if sev := Severity(mt.Severity); !c.a.Severity.AtLeast(sev) {
		c.a.Severity = sev
	}
}

// noted records an outbox row just written for the alert.
func (c *cached) noted(o store.OutboxRecord) {
	if c.latest == nil {
		c.latest = map[string]store.OutboxRecord{}
	}
	o.Payload = nil
	if o.State == "" {
		o.State = store.OutboxPending // as SaveAlerts writes it
	}
	c.latest[o.Notifier] = o
}

// group is the alerts of one rule and group key (or of one rule's storms).
type group struct {
	hash   string
	alerts []*cached
	// since: every unresolved alert of the group is here, and every
	// resolved one last seen at or after since (those older matter only
	// to recognise repeats further back). Zero: all of them.
	since time.Time
	elem  *list.Element
}

// cache holds recently matched groups, least recently matched evicted
// first, and the set of every group that has an alert in the store.
type cache struct {
	max    int
	groups map[string]*group
	byID   map[string]*cached
	lru    *list.List // of *group, most recently matched first
	// known holds hashKey of every group with a stored alert; a group not
	// in it needs no read. Loaded on first use; the manager is the
	// store's only writer of alerts, so it stays true.
	known       map[uint64]struct{}
	knownLoaded bool
}

func newCache(max int) *cache {
	return &cache{max: max, groups: map[string]*group{}, byID: map[string]*cached{}, lru: list.New(),
		known: map[uint64]struct{}{}}
}

// forget drops every cached group, keeping the known set (which only
// grows with what the store holds).
func (c *cache) forget() {
	c.groups = map[string]*group{}
	c.byID = map[string]*cached{}
	c.lru.Init()
}

func (c *cache) isKnown(hash string) bool {
	_, ok := c.known[hashKey(hash)]
	return ok
}

// get returns a cached group, marking it recently used.
func (c *cache) get(hash string) *group {
	g := c.groups[hash]
	if g != nil {
		c.lru.MoveToFront(g.elem)
	}
	return g
}

// put caches g, replacing a group of the same hash.
func (c *cache) put(g *group) {
	if old := c.groups[g.hash]; old != nil {
		c.drop(old)
	}
	g.elem = c.lru.PushFront(g)
	c.groups[g.hash] = g
	for _, a := range g.alerts {
		c.byID[a.a.ID] = a
	}
}

// addAlert adds a new alert to its cached group.
func (c *cache) addAlert(g *group, a *cached) {
	g.alerts = append(g.alerts, a)
	c.byID[a.a.ID] = a
}

func (c *cache) drop(g *group) {
	c.lru.Remove(g.elem)
	delete(c.groups, g.hash)
	for _, a := range g.alerts {
		delete(c.byID, a.a.ID)
	}
}

// evict drops the least recently matched groups beyond max, and reports
// how many. Groups with unstored changes stay.
func (c *cache) evict() int {
	n := 0
	for e := c.lru.Back(); e != nil && len(c.groups) > c.max; {
		g := e.Value.(*group)
		e = e.Prev()
		if g.hasDirty() {
			continue
		}
		c.drop(g)
		n++
	}
	return n
}

func (g *group) hasDirty() bool {
	for _, a := range g.alerts {
		if a.dirty || !a.stored {
			return true
		}
	}
	return false
}
