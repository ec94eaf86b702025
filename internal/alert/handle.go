package alert

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/mamori-sec/mamori/internal/store"
)

// Result says what Handle did.
type Result struct {
	// Raised are the alerts the matches raised (storm alerts included),
	// stored before Handle returned.
	Raised []Alert
	// Updated are the stored alerts that took matches. Their new state is
	// stored within Config.FlushInterval, and Version then counts it.
	Updated []Alert
	// Repeats counts matches whose event an alert of the same rule and
	// group already holds (a replay over history, or a batch handled
	// twice): they change nothing.
	Repeats int
}

func checkMatch(mt *Match) error {
	if mt.RuleID == "" {
		return errors.New("no rule id")
	}
	if _, err := ParseSeverity(mt.Severity); err != nil {
		return err
	}
	if mt.EventID == "" {
		return errors.New("no event id")
	}
	if mt.EventTime.IsZero() {
		return errors.New("no event time")
	}
	return nil
}

type groupID struct{ rule, hash string }

// call tracks what one Handle call changed, to undo it if storing fails.
type call struct {
	before   map[*cached]Alert // state of changed alerts before the call
	wasDirty map[*cached]bool
	created  []*cached
	groups   map[*cached]*group // of created
	order    []*cached          // changed or created, in order
}

func (c *call) touch(a *cached) {
	if _, ok := c.before[a]; ok {
		return
	}
	if _, ok := c.groups[a]; ok {
		return
	}
	c.before[a] = a.a
	c.wasDirty[a] = a.dirty
	c.order = append(c.order, a)
}

// Handle groups matches into alerts. A match joins the open (or
// acknowledged) alert of its rule and group key whose events lie within the
// rule's window of it; otherwise it raises a new alert, unless the rule is
// in an alert storm (Config.Storm), when it joins the rule's storm alert.
//
// New alerts are stored with their notifications before Handle returns.
// Changes to stored alerts are stored at most every Config.FlushInterval,
// so that a burst of matches costs one write: by Handle when the interval
// has passed, else in the background (a crash loses at most that interval
// of counts, which the replay at start counts again). The alerts of
// recently matched groups stay in memory (Config.CacheGroups), so that
// matches joining them need no read of the store.
//
// Matches that cannot be used (no rule id, event id or time, an unknown
// severity) are left out and reported in the error, after the others are
// handled. If storing fails the call changes nothing, and Handle may be
// called again with the same matches: matches already counted are
// recognised by their event ids.
func (m *Manager) Handle(ctx context.Context, matches []Match) (Result, error) {
	var bad []error
	groups := map[groupID][]*Match{}
	var order []groupID
	for i := range matches {
		mt := &matches[i]
		if err := checkMatch(mt); err != nil {
			bad = append(bad, fmt.Errorf("alert: match %d (rule %q, event %q): %w", i, mt.RuleID, mt.EventID, err))
			continue
		}
		k := groupID{mt.RuleID, groupHash(mt.RuleID, mt.GroupKey)}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], mt)
	}
	if len(order) == 0 {
		return Result{}, errors.Join(bad...)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	m.applyMarks()
	now := m.now().UTC()
	loaded, err := m.load(ctx, order, groups)
	if err != nil {
		return Result{}, fmt.Errorf("alert: %w", err)
	}
	cl := &call{before: map[*cached]Alert{}, wasDirty: map[*cached]bool{}, groups: map[*cached]*group{}}
	repeats := 0
	for _, k := range order {
		n, err := m.apply(cl, k, groups[k], now)
		if err != nil {
			m.undo(cl)
			return Result{}, err
		}
		repeats += n
	}
	if len(cl.created) > 0 || now.Sub(m.lastWrite) >= time.Duration(m.cfg.FlushInterval) || m.closed {
		if err := m.flush(ctx, now); err != nil {
			m.undo(cl)
			return Result{}, err
		}
	} else {
		m.arm(now)
	}
	res := Result{Repeats: repeats}
	for _, c := range cl.order {
		if _, isNew := cl.groups[c]; isNew {
			res.Raised = append(res.Raised, c.a)
		} else {
			res.Updated = append(res.Updated, c.a)
		}
	}
	m.metrics.alertsChanged(res.Raised, res.Updated)
	evicted := m.cache.evict()
	m.metrics.cache(len(m.cache.groups), loaded, evicted)
	return res, errors.Join(bad...)
}

// undo takes back a call's changes after storing them failed: its new
// alerts go, changed alerts return to their state before it. The groups
// folded into storm alerts are forgotten (they count as new again).
func (m *Manager) undo(cl *call) {
	for a, g := range cl.groups {
		for i, x := range g.alerts {
			if x == a {
				g.alerts = append(g.alerts[:i], g.alerts[i+1:]...)
				break
			}
		}
		delete(m.cache.byID, a.a.ID)
	}
	for a, prev := range cl.before {
		a.a, a.ids, a.dirty = prev, nil, cl.wasDirty[a]
	}
	dirty := m.dirty[:0]
	for _, a := range m.dirty {
		if _, isNew := cl.groups[a]; !isNew && a.dirty {
			dirty = append(dirty, a)
		}
	}
	m.dirty = dirty
	for _, s := range m.storms {
		s.alertID, s.groups = "", nil
	}
}

// load makes sure the cache holds every group of the batch, and the storm
// alerts of their rules, far enough back for the batch's matches: it reads
// the groups the store may hold that the cache lacks, all in one query, and
// reports how many groups it read.
func (m *Manager) load(ctx context.Context, order []groupID, groups map[groupID][]*Match) (int, error) {
	c := m.cache
	if !c.knownLoaded {
		hashes, err := m.st.AlertGroupHashes(ctx)
		if err != nil {
			return 0, err
		}
		for _, h := range hashes {
			c.known[hashKey(h)] = struct{}{}
		}
		c.knownLoaded = true
	}
	need := map[string]bool{}
	var since time.Time
	want := func(hash string, reach time.Time) {
		g := c.get(hash)
		switch {
		case g != nil && !reach.Before(g.since):
		case g == nil && !c.isKnown(hash):
			c.put(&group{hash: hash})
		default:
			if len(need) == 0 || reach.Before(since) {
				since = reach
			}
			need[hash] = true
		}
	}
	for _, k := range order {
		ms := groups[k]
		sort.SliceStable(ms, func(i, j int) bool { return ms[i].EventTime.Before(ms[j].EventTime) })
		reach := ms[0].EventTime.UTC().Add(-m.cfg.window(k.rule))
		want(k.hash, reach)
		if _, on := m.cfg.storm(k.rule); on && len(ms[0].GroupKey) > 0 {
			want(stormHash(k.rule), reach)
		}
	}
	if len(need) == 0 {
		return 0, nil
	}
	hashes := make([]string, 0, len(need))
	for h := range need {
		hashes = append(hashes, h)
	}
	sort.Strings(hashes)
	recs, err := m.st.AlertsForGroups(ctx, hashes, since)
	if err != nil {
		return 0, err
	}
	var open []string
	for _, r := range recs {
		if r.Status != string(Resolved) && c.byID[r.ID] == nil {
			open = append(open, r.ID)
		}
	}
	latest, err := m.st.LatestOutbox(ctx, open)
	if err != nil {
		return 0, err
	}
	fresh := make(map[string]*group, len(hashes))
	for _, h := range hashes {
		fresh[h] = &group{hash: h, since: since}
	}
	for _, r := range recs {
		g := fresh[r.GroupHash]
		if g == nil {
			continue
		}
		// An alert in memory may hold changes not stored yet: it stays.
		a := c.byID[r.ID]
		if a == nil {
			a = &cached{a: fromRecord(r), stored: true}
			for _, o := range latest[r.ID] {
				a.noted(o)
			}
		}
		g.alerts = append(g.alerts, a)
	}
	for _, h := range hashes {
		if old := c.groups[h]; old != nil {
			// Keep alerts of the old group the store does not know yet.
			for _, a := range old.alerts {
				if !a.stored {
					fresh[h].alerts = append(fresh[h].alerts, a)
				}
			}
		}
		c.put(fresh[h])
	}
	return len(hashes), nil
}

// apply counts one rule and group key's matches, in event time order, into
// the cached alerts, and reports how many were repeats.
func (m *Manager) apply(cl *call, k groupID, ms []*Match, now time.Time) (int, error) {
	g := m.cache.groups[k.hash]
	window := m.cfg.window(k.rule)
	repeats := 0
	for _, mt := range ms {
		if m.repeated(g.alerts, mt) {
			repeats++
			continue
		}
		c := pick(g.alerts, mt.EventTime, window)
		if c == nil {
			var err error
			var repeat bool
			if c, repeat, err = m.unowned(cl, k, g, mt, now); err != nil {
				return 0, err
			}
			if repeat {
				repeats++
				continue
			}
		}
		cl.touch(c)
		c.add(mt, m.cfg.MaxEventIDs)
		if !c.dirty {
			c.dirty = true
			m.dirty = append(m.dirty, c)
		}
	}
	return repeats, nil
}

// unowned finds the alert for a match that no alert of its group takes: a
// new alert of the group, or during a storm the rule's storm alert (repeat
// is true when that already counts the match).
func (m *Manager) unowned(cl *call, k groupID, g *group, mt *Match, now time.Time) (c *cached, repeat bool, err error) {
	sc, on := m.cfg.storm(k.rule)
	if !on || len(mt.GroupKey) == 0 {
		c, err = m.raise(cl, g, mt, now)
		return c, false, err
	}
	sg := m.cache.groups[stormHash(k.rule)]
	if m.repeated(sg.alerts, mt) {
		return nil, true, nil
	}
	st := m.stormFor(k.rule, sc, sg, now)
	key := hashKey(k.hash)
	// A rule has one storm alert at a time, whatever the events' times:
	// a backfill over days is one storm, not one per window.
	sw := openStorm(sg.alerts)
	if sw != nil && st.holds(sw.a.ID, key) {
		// A group folded earlier stays with the storm alert.
		m.metrics.stormed(k.rule, false)
		return sw, false, nil
	}
	storming := st.storming(now, time.Duration(sc.Per))
	st.push(now)
	if !storming {
		c, err = m.raise(cl, g, mt, now)
		return c, false, err
	}
	if sw == nil {
		if sw, err = m.newStorm(mt, sc, now); err != nil {
			return nil, false, err
		}
		m.cache.addAlert(sg, sw)
		cl.created = append(cl.created, sw)
		cl.groups[sw] = sg
		cl.order = append(cl.order, sw)
	}
	cl.touch(sw)
	newGroup := st.fold(sw.a.ID, key)
	if newGroup {
		sw.a.StormGroups++
		sw.a.Title = stormTitle(&sw.a)
	}
	m.metrics.stormed(k.rule, newGroup)
	return sw, false, nil
}

func (m *Manager) raise(cl *call, g *group, mt *Match, now time.Time) (*cached, error) {
	c, err := m.newAlert(mt, now)
	if err != nil {
		return nil, err
	}
	m.cache.addAlert(g, c)
	cl.created = append(cl.created, c)
	cl.groups[c] = g
	cl.order = append(cl.order, c)
	return c, nil
}

// flush stores the changed alerts with their notifications in one
// transaction. It reads only to learn what became of notifications the
// manager cannot know about (see unsure).
func (m *Manager) flush(ctx context.Context, now time.Time) error {
	if len(m.dirty) == 0 {
		return nil
	}
	var unsure []string
	for _, c := range m.dirty {
		if c.stored && m.unsure(c, now) {
			unsure = append(unsure, c.a.ID)
		}
	}
	if len(unsure) > 0 {
		latest, err := m.st.LatestOutbox(ctx, unsure)
		if err != nil {
			return fmt.Errorf("alert: %w", err)
		}
		for _, id := range unsure {
			c := m.cache.byID[id]
			c.latest, c.stale = nil, false
			for _, o := range latest[id] {
				c.noted(o)
			}
		}
	}
	var w store.AlertWrite
	for _, c := range m.dirty {
		a := c.a
		a.Version++
		a.Updated = now
		if c.stored {
			w.Update = append(w.Update, toRecord(&a))
		} else {
			w.Insert = append(w.Insert, toRecord(&a))
		}
		if err := m.queueChange(&w, &a, c.latest, now); err != nil {
			return err
		}
	}
	if err := m.st.SaveAlerts(ctx, w); err != nil {
		if errors.Is(err, store.ErrAlertConflict) {
			// The store changed under the manager: what it holds is wrong.
			m.cache.forget()
			m.dirty = nil
		}
		return fmt.Errorf("alert: store: %w", err)
	}
	for _, c := range m.dirty {
		c.a.Version++
		c.a.Updated = now
		c.stored, c.dirty = true, false
		m.cache.known[hashKey(alertHash(&c.a))] = struct{}{}
	}
	for _, o := range w.Outbox {
		m.cache.byID[o.AlertID].noted(o)
	}
	m.dirty = m.dirty[:0]
	m.lastWrite = now
	m.failedTries = 0
	if m.stopTimer != nil {
		m.stopTimer()
		m.stopTimer = nil
	}
	if m.stored != nil {
		m.stored()
	}
	return nil
}

// arm schedules the store of waiting changes FlushInterval after the last
// write, unless it is scheduled already.
func (m *Manager) arm(now time.Time) {
	if len(m.dirty) == 0 || m.stopTimer != nil {
		return
	}
	wait := m.lastWrite.Add(time.Duration(m.cfg.FlushInterval)).Sub(now)
	m.stopTimer = m.after(max(wait, 0), m.flushWaiting)
}

// maxBackgroundTries bounds the background attempts at storing waiting
// changes; past them the changes wait for the next Handle, Flush or read.
const maxBackgroundTries = 3

// flushWaiting stores waiting changes in the background. A failure is
// logged and tried again an interval later; the changes stay in memory
// meanwhile.
func (m *Manager) flushWaiting() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopTimer = nil
	m.applyMarks()
	now := m.now().UTC()
	err := m.flush(context.Background(), now)
	if err == nil {
		m.failedTries = 0
		return
	}
	m.failedTries++
	if m.failedTries >= maxBackgroundTries {
		m.log.Error("alert changes not stored; they wait for the next change", "alerts", len(m.dirty), "err", err)
		return
	}
	m.log.Warn("alert changes not stored, will retry", "alerts", len(m.dirty), "err", err)
	m.lastWrite = now
	m.arm(now)
}

// Flush stores the changes waiting for Config.FlushInterval now.
func (m *Manager) Flush(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.applyMarks()
	return m.flush(ctx, m.now().UTC())
}

// Close stores waiting changes; from then on Handle stores every change
// before it returns. Call it before closing the store.
func (m *Manager) Close(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	if m.stopTimer != nil {
		m.stopTimer()
		m.stopTimer = nil
	}
	m.applyMarks()
	return m.flush(ctx, m.now().UTC())
}

// unsure reports whether the manager must read what became of the alert's
// notifications before queuing more: it lost the sender's reports, or it
// has none and a notification it knows as waiting has fallen due (the
// sender may have sent it since).
func (m *Manager) unsure(c *cached, now time.Time) bool {
	if c.stale {
		return true
	}
	if m.tracked {
		return false
	}
	for i := range m.cfg.Notifiers {
		n := &m.cfg.Notifiers[i]
		if !n.Routes(&c.a) {
			continue
		}
		if o, ok := c.latest[n.Name]; ok && o.State == store.OutboxPending && !o.Due.After(now) {
			return true
		}
	}
	return false
}

// maxMarks bounds the sender's reports waiting for the manager; past it
// they are dropped and the outbox is read again.
const maxMarks = 10_000

// outboxMarked takes a sender's report; it never waits for Handle.
func (m *Manager) outboxMarked(o outboxMark) {
	m.marksMu.Lock()
	defer m.marksMu.Unlock()
	if len(m.marks) >= maxMarks {
		m.marks, m.marksLost = nil, true
		return
	}
	m.marks = append(m.marks, o)
}

// applyMarks brings the cached outbox rows up to the sender's reports.
func (m *Manager) applyMarks() {
	m.marksMu.Lock()
	marks, lost := m.marks, m.marksLost
	m.marks, m.marksLost = nil, false
	m.marksMu.Unlock()
	if lost {
		for _, c := range m.cache.byID {
			c.stale = true
		}
		return
	}
	for _, o := range marks {
		c := m.cache.byID[o.AlertID]
		if c == nil {
			continue
		}
		if r, ok := c.latest[o.Notifier]; ok && r.ID == o.ID {
			r.State, r.Attempts, r.Due, r.DoneAt = o.State, o.Attempts, o.Due, o.DoneAt
			c.latest[o.Notifier] = r
		}
	}
}

// repeated reports whether an alert of the group already counts the
// match's event. Past a full id list a resolved alert also claims events
// inside its time range, so that replaying history over a large, closed
// alert does not page again.
func (m *Manager) repeated(cands []*cached, mt *Match) bool {
	t := mt.EventTime.UTC()
	for _, c := range cands {
		if c.has(mt.EventID) {
			return true
		}
		if c.a.Status == Resolved && len(c.a.EventIDs) >= m.cfg.MaxEventIDs &&
			!t.Before(c.a.FirstSeen) && !t.After(c.a.LastSeen) {
			return true
		}
	}
	return false
}

// pick returns the unresolved alert whose events lie within window of t,
// the most recently seen if several do.
func pick(cands []*cached, t time.Time, window time.Duration) *cached {
	var best *cached
	for _, c := range cands {
		a := &c.a
		if a.Status == Resolved || t.Before(a.FirstSeen.Add(-window)) || t.After(a.LastSeen.Add(window)) {
			continue
		}
		if best == nil || a.LastSeen.After(best.a.LastSeen) {
			best = c
		}
	}
	return best
}

// openStorm returns the unresolved storm alert last seen, if any.
func openStorm(cands []*cached) *cached {
	var best *cached
	for _, c := range cands {
		if c.a.Status != Resolved && (best == nil || c.a.LastSeen.After(best.a.LastSeen)) {
			best = c
		}
	}
	return best
}

func (m *Manager) newAlert(mt *Match, now time.Time) (*cached, error) {
	id, err := m.newID(now)
	if err != nil {
		return nil, err
	}
	t := mt.EventTime.UTC()
	a := Alert{
		ID: id, RuleID: mt.RuleID, RuleTitle: mt.RuleTitle, Severity: Severity(mt.Severity), Summary: mt.Summary,
		Dataset: mt.Dataset, Correlation: mt.Correlation, GroupKey: append([]string{}, mt.GroupKey...),
		FirstSeen: t, LastSeen: t, EventIDs: []string{}, Status: Open, Created: now,
	}
	a.Title = m.renderTitle(&a)
	if a.Summary == "" {
		a.Summary = a.Title
	}
	return &cached{a: a, ids: map[string]struct{}{}}, nil
}
