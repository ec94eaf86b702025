package alert

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"text/template"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/mamori-sec/mamori/internal/store"
)

// Errors of the lifecycle calls.
var (
	ErrNotFound = errors.New("no such alert")
	ErrResolved = errors.New("alert is resolved")
)

// Manager raises and updates alerts from matches, and acknowledges and
// resolves them, storing each change together with the notifications it
// calls for. It is safe for concurrent use; changes are serialised.
type Manager struct {
	st      Store
	cfg     Config
	title   *template.Template
	now     func() time.Time
	ids     io.Reader
	metrics *Metrics
	stored  func()

	mu sync.Mutex // serialises read-modify-write of alerts
}

// Options are a Manager's collaborators; every field is optional.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Metrics counts alerts raised and updated.
	Metrics *Metrics
	// Stored is called after a change and its notifications are stored:
	// wire it to Sender.Wake so that notifications go out at once.
	Stored func()
	// Entropy feeds alert and notification ids (default crypto/rand).
	Entropy io.Reader
}

// NewManager validates cfg (filling its defaults) and returns a Manager.
func NewManager(st Store, cfg Config, opts Options) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("alerts config: %w", err)
	}
	title, err := parseTitle(cfg.Title)
	if err != nil {
		return nil, fmt.Errorf("alerts config: title: %w", err)
	}
	m := &Manager{st: st, cfg: cfg, title: title, now: opts.Now, metrics: opts.Metrics, stored: opts.Stored}
	if m.now == nil {
		m.now = time.Now
	}
	entropy := opts.Entropy
	if entropy == nil {
		entropy = crand.Reader
	}
	m.ids = &ulid.LockedMonotonicReader{MonotonicReader: ulid.Monotonic(entropy, 0)}
	return m, nil
}

func (m *Manager) newID(at time.Time) (string, error) {
	id, err := ulid.New(ulid.Timestamp(at), m.ids)
	if err != nil {
		return "", fmt.Errorf("alert id: %w", err)
	}
	return id.String(), nil
}

// Result says what Handle did.
type Result struct {
	Raised  []Alert // new alerts
	Updated []Alert // alerts that took new matches
	// Repeats counts matches whose event an alert of the same rule and
	// group already holds (a replay over history, or a batch handled
	// twice): they change nothing.
	Repeats int
}

// working is an alert being changed by one Handle call.
type working struct {
	a       Alert
	stored  bool // read from the store (else new in this call)
	changed bool
	ids     map[string]struct{} // a.EventIDs as a set, built on first use
}

func (w *working) has(id string) bool {
	if w.ids == nil {
		w.ids = make(map[string]struct{}, len(w.a.EventIDs))
		for _, x := range w.a.EventIDs {
			w.ids[x] = struct{}{}
		}
	}
	_, ok := w.ids[id]
	return ok
}

// add counts a match's events into the alert, listing ids up to max. An id
// already listed is not counted again; past the list's end, ids cannot be
// checked and each counts.
func (w *working) add(mt *Match, max int) {
	add := func(id string) {
		if id == "" || w.has(id) {
			return
		}
		w.a.EventCount++
		if len(w.a.EventIDs) < max {
			w.a.EventIDs = append(w.a.EventIDs, id)
			w.ids[id] = struct{}{}
		}
	}
	add(mt.EventID)
	for _, id := range mt.EventIDs {
		add(id)
	}
	w.a.MatchCount++
	t := mt.EventTime.UTC()
	if t.Before(w.a.FirstSeen) {
		w.a.FirstSeen = t
	}
	if t.After(w.a.LastSeen) {
		w.a.LastSeen = t
	}
	if sev := Severity(mt.Severity); !w.a.Severity.AtLeast(sev) {
		w.a.Severity = sev
	}
	w.changed = true
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

// Handle groups matches into alerts and stores the new and changed alerts
// with their notifications in one transaction. A match joins the open (or
// acknowledged) alert of its rule and group key whose events lie within the
// rule's window of it; otherwise it raises a new alert. Matches that cannot
// be used (no rule id, event id or time, an unknown severity) are left out
// and reported in the error, after the others are stored. If storing
// fails nothing is stored, and Handle may be called again with the same
// matches: matches already counted are recognised by their event ids.
func (m *Manager) Handle(ctx context.Context, matches []Match) (Result, error) {
	var res Result
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
		return res, errors.Join(bad...)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now().UTC()
	// One read for the alerts of every group in the batch, from the
	// earliest time any of them could reach back to.
	hashes := make([]string, len(order))
	var since time.Time
	for i, k := range order {
		hashes[i] = k.hash
		ms := groups[k]
		sort.SliceStable(ms, func(i, j int) bool { return ms[i].EventTime.Before(ms[j].EventTime) })
		if s := ms[0].EventTime.Add(-m.cfg.window(k.rule)); i == 0 || s.Before(since) {
			since = s
		}
	}
	recs, err := m.st.AlertsForGroups(ctx, hashes, since)
	if err != nil {
		return Result{}, fmt.Errorf("alert: %w", err)
	}
	byGroup := map[string][]*working{}
	for _, r := range recs {
		byGroup[r.GroupHash] = append(byGroup[r.GroupHash], &working{a: fromRecord(r), stored: true})
	}
	var changed []*working
	var storedIDs []string
	for _, k := range order {
		ws, repeats, err := m.group(k, groups[k], byGroup[k.hash], now)
		if err != nil {
			return Result{}, err
		}
		res.Repeats += repeats
		for _, w := range ws {
			changed = append(changed, w)
			if w.stored {
				storedIDs = append(storedIDs, w.a.ID)
			}
		}
	}
	latest, err := m.st.LatestOutbox(ctx, storedIDs)
	if err != nil {
		return Result{}, fmt.Errorf("alert: %w", err)
	}
	var w store.AlertWrite
	for _, c := range changed {
		a := &c.a
		a.Version++
		a.Updated = now
		if c.stored {
			w.Update = append(w.Update, toRecord(a))
			res.Updated = append(res.Updated, *a)
		} else {
			w.Insert = append(w.Insert, toRecord(a))
			res.Raised = append(res.Raised, *a)
		}
		if err := m.queueChange(&w, a, latest[a.ID], now); err != nil {
			return Result{}, err
		}
	}
	if err := m.st.SaveAlerts(ctx, w); err != nil {
		return Result{}, fmt.Errorf("alert: store: %w", err)
	}
	m.metrics.alertsChanged(res.Raised, res.Updated)
	if m.stored != nil {
		m.stored()
	}
	return res, errors.Join(bad...)
}

// group applies one rule and group key's matches, in event time order, to
// the alerts of that group (cands, read from the store), and returns those
// it changed or raised.
func (m *Manager) group(k groupID, ms []*Match, cands []*working, now time.Time) ([]*working, int, error) {
	window := m.cfg.window(k.rule)
	repeats := 0
	for _, mt := range ms {
		if m.repeated(cands, mt) {
			repeats++
			continue
		}
		w := pick(cands, mt.EventTime, window)
		if w == nil {
			var err error
			if w, err = m.newAlert(mt, now); err != nil {
				return nil, 0, err
			}
			cands = append(cands, w)
		}
		w.add(mt, m.cfg.MaxEventIDs)
	}
	var out []*working
	for _, c := range cands {
		if c.changed {
			out = append(out, c)
		}
	}
	return out, repeats, nil
}

// repeated reports whether an alert of the group already counts the
// match's event. Past a full id list a resolved alert also claims events
// inside its time range, so that replaying history over a large, closed
// alert does not page again.
func (m *Manager) repeated(cands []*working, mt *Match) bool {
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
func pick(cands []*working, t time.Time, window time.Duration) *working {
	var best *working
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

func (m *Manager) newAlert(mt *Match, now time.Time) (*working, error) {
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
	return &working{a: a, ids: map[string]struct{}{}}, nil
}

func (m *Manager) renderTitle(a *Alert) string {
	var b bytes.Buffer
	if err := m.title.Execute(&b, a); err != nil || b.Len() == 0 {
		// A template that fails on some alert must not lose the alert.
		if a.RuleTitle != "" {
			return a.RuleTitle
		}
		return a.RuleID
	}
	return b.String()
}

// queueChange adds a's notifications to w: a trigger for every notifier
// it is routed to that has not heard of it, an update for the others.
// An update waits for the notifier's update interval since the previous
// notification, and replaces an update still waiting. latest holds the
// alert's newest outbox row per notifier.
func (m *Manager) queueChange(w *store.AlertWrite, a *Alert, latest map[string]store.OutboxRecord, now time.Time) error {
	payload, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("alert %s: encode: %w", a.ID, err)
	}
	for i := range m.cfg.Notifiers {
		n := &m.cfg.Notifiers[i]
		if !n.Routes(a) {
			continue
		}
		kind, due := Trigger, now
		if prev, ok := latest[n.Name]; ok {
			kind = Update
			switch {
			case prev.State == store.OutboxPending && prev.Kind == string(Update):
				w.Supersede = append(w.Supersede, prev.ID)
				due = prev.Due
			default:
				base := prev.Due
				if !prev.DoneAt.IsZero() {
					base = prev.DoneAt
				}
				if next := base.Add(time.Duration(*n.UpdateInterval)); next.After(due) {
					due = next
				}
			}
		}
		if err := m.queue(w, a, n.Name, kind, payload, now, due); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) queue(w *store.AlertWrite, a *Alert, notifier string, kind Kind, payload []byte, now, due time.Time) error {
	id, err := m.newID(now)
	if err != nil {
		return err
	}
	w.Outbox = append(w.Outbox, store.OutboxRecord{
		ID: id, AlertID: a.ID, Notifier: notifier, Version: a.Version, Kind: string(kind), Payload: payload,
		EventCount: a.EventCount, Created: now, Due: due,
	})
	return nil
}

// Acknowledge marks an alert taken on by who, and tells the notifiers that
// announced it. Acknowledging an acknowledged alert changes nothing; a
// resolved one gives ErrResolved.
func (m *Manager) Acknowledge(ctx context.Context, id, who string) (Alert, error) {
	return m.transition(ctx, id, who, Acknowledged)
}

// Resolve closes an alert, and tells the notifiers that announced it
// (PagerDuty resolves its incident). A resolved alert takes no more
// matches: a later match raises a new alert. Resolving a resolved alert
// changes nothing.
func (m *Manager) Resolve(ctx context.Context, id, who string) (Alert, error) {
	return m.transition(ctx, id, who, Resolved)
}

func (m *Manager) transition(ctx context.Context, id, who string, to Status) (Alert, error) {
	if who == "" {
		return Alert{}, fmt.Errorf("alert %s: %s: say who", id, to)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, found, err := m.st.GetAlert(ctx, id)
	if err != nil {
		return Alert{}, fmt.Errorf("alert %s: %w", id, err)
	}
	if !found {
		return Alert{}, fmt.Errorf("alert %s: %w", id, ErrNotFound)
	}
	a := fromRecord(rec)
	if a.Status == to {
		return a, nil
	}
	if a.Status == Resolved {
		return a, fmt.Errorf("alert %s: cannot mark %s: %w", id, to, ErrResolved)
	}
	now := m.now().UTC()
	kind := Acknowledge
	if to == Acknowledged {
		a.AcknowledgedBy, a.AcknowledgedAt = who, now
	} else {
		kind = Resolve
		a.ResolvedBy, a.ResolvedAt = who, now
	}
	a.Status = to
	a.Version++
	a.Updated = now

	latestAll, err := m.st.LatestOutbox(ctx, []string{id})
	if err != nil {
		return Alert{}, fmt.Errorf("alert %s: %w", id, err)
	}
	latest := latestAll[id]
	payload, err := json.Marshal(&a)
	if err != nil {
		return Alert{}, fmt.Errorf("alert %s: encode: %w", id, err)
	}
	w := store.AlertWrite{Update: []store.AlertRecord{toRecord(&a)}}
	// Tell the configured notifiers that were told of the alert. An update
	// waiting for its digest time is dropped: it would hold this news back,
	// and the news carries the alert's latest state anyway. One already due
	// goes first.
	for _, n := range m.cfg.Notifiers {
		prev, ok := latest[n.Name]
		if !ok {
			continue
		}
		if prev.State == store.OutboxPending && prev.Kind == string(Update) && prev.Due.After(now) {
			w.Supersede = append(w.Supersede, prev.ID)
		}
		if err := m.queue(&w, &a, n.Name, kind, payload, now, now); err != nil {
			return Alert{}, err
		}
	}
	if err := m.st.SaveAlerts(ctx, w); err != nil {
		return Alert{}, fmt.Errorf("alert %s: %s: %w", id, to, err)
	}
	if m.stored != nil {
		m.stored()
	}
	return a, nil
}

// Get returns an alert; ErrNotFound when there is none.
func (m *Manager) Get(ctx context.Context, id string) (Alert, error) {
	rec, found, err := m.st.GetAlert(ctx, id)
	if err != nil {
		return Alert{}, fmt.Errorf("alert %s: %w", id, err)
	}
	if !found {
		return Alert{}, fmt.Errorf("alert %s: %w", id, ErrNotFound)
	}
	return fromRecord(rec), nil
}

// Filter selects alerts for List; zero fields do not filter.
type Filter struct {
	Statuses []Status
	// Since and Until bound the alerts' last event: Since <= last_seen < Until.
	Since, Until time.Time
	RuleID       string
	// MinSeverity keeps alerts at least this severe.
	MinSeverity Severity
	Limit       int // default 100
	Offset      int
}

// List returns alerts, most recently seen first.
func (m *Manager) List(ctx context.Context, f Filter) ([]Alert, error) {
	sf := store.AlertFilter{Since: f.Since, Until: f.Until, RuleID: f.RuleID, Limit: f.Limit, Offset: f.Offset}
	for _, s := range f.Statuses {
		sf.Statuses = append(sf.Statuses, string(s))
	}
	if f.MinSeverity != "" {
		for s := range severityRank {
			if s.AtLeast(f.MinSeverity) {
				sf.Severities = append(sf.Severities, string(s))
			}
		}
		sort.Strings(sf.Severities)
	}
	recs, err := m.st.ListAlerts(ctx, sf)
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	out := make([]Alert, len(recs))
	for i, r := range recs {
		out[i] = fromRecord(r)
	}
	return out, nil
}

// Delivery is the state of one notification of an alert.
type Delivery struct {
	ID        string    `json:"id"`
	Notifier  string    `json:"notifier"`
	Kind      Kind      `json:"kind"`
	Version   int64     `json:"version"`
	State     string    `json:"state"` // pending, sent, failed or superseded
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	Queued    time.Time `json:"queued"`
	Due       time.Time `json:"due"`
	Done      time.Time `json:"done,omitzero"`
}

// Deliveries lists an alert's notifications, oldest first.
func (m *Manager) Deliveries(ctx context.Context, id string) ([]Delivery, error) {
	rows, err := m.st.AlertOutbox(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("alert %s: %w", id, err)
	}
	out := make([]Delivery, len(rows))
	for i, r := range rows {
		out[i] = Delivery{ID: r.ID, Notifier: r.Notifier, Kind: Kind(r.Kind), Version: r.Version, State: r.State,
			Attempts: r.Attempts, LastError: r.LastError, Queued: r.Created, Due: r.Due, Done: r.DoneAt}
	}
	return out, nil
}
