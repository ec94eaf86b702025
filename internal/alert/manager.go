package alert

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
// calls for. It is safe for concurrent use; changes are serialised. It
// must be the only writer of alerts to its store: it keeps recently
// matched alerts in memory as stored.
type Manager struct {
	st      Store
	cfg     Config
	title   *template.Template
	now     func() time.Time
	ids     io.Reader
	metrics *Metrics
	stored  func()
	log     *slog.Logger
	after   func(time.Duration, func()) func() bool

	mu sync.Mutex // serialises read-modify-write of alerts
	// cache holds the alerts of recently matched groups.
	cache *cache
	// dirty lists the cached alerts changed and not yet stored.
	dirty []*cached
	// lastWrite is when changes were last stored (by m.now); a change to
	// a stored alert waits until FlushInterval after it.
	lastWrite time.Time
	// stopTimer cancels the armed flush of waiting changes (nil: none).
	stopTimer   func() bool
	failedTries int // background stores failed in a row
	closed      bool
	// storms holds each rule's storm guard.
	storms map[string]*stormState

	// tracked is set when a Sender reports its changes to the outbox
	// (Options.Sender): the manager then knows what became of the
	// notifications it queued without reading the store. marks holds the
	// reports until the next Handle applies them.
	tracked   bool
	marksMu   sync.Mutex
	marks     []outboxMark
	marksLost bool
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
	// Sender, the sender of the same store, tells the manager what became
	// of the notifications it queued (sent, failed, retried), so that the
	// manager decides when the next update of an alert is due without
	// reading the outbox. Without it the manager reads the rows that fell
	// due since it queued them. Stored defaults to its Wake.
	Sender *Sender
	// Logger logs changes that could not be stored in the background
	// (default: discarded).
	Logger *slog.Logger
	// AfterFunc runs f after d, for the background store of waiting
	// changes, and returns a function that cancels it (default
	// time.AfterFunc).
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
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
	m := &Manager{st: st, cfg: cfg, title: title, now: opts.Now, metrics: opts.Metrics, stored: opts.Stored,
		cache: newCache(cfg.CacheGroups), storms: map[string]*stormState{}}
	if m.now == nil {
		m.now = time.Now
	}
	entropy := opts.Entropy
	if entropy == nil {
		entropy = crand.Reader
	}
	m.ids = &ulid.LockedMonotonicReader{MonotonicReader: ulid.Monotonic(entropy, 0)}
	m.log = opts.Logger
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.after = opts.AfterFunc
	if m.after == nil {
		m.after = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	if opts.Sender != nil {
		m.tracked = true
		opts.Sender.observe(m.outboxMarked)
		if m.stored == nil {
			m.stored = opts.Sender.Wake
		}
	}
	return m, nil
}

func (m *Manager) newID(at time.Time) (string, error) {
	id, err := ulid.New(ulid.Timestamp(at), m.ids)
	if err != nil {
		return "", fmt.Errorf("alert id: %w", err)
	}
	return id.String(), nil
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
	m.applyMarks()
	if err := m.flush(ctx, m.now().UTC()); err != nil {
		return Alert{}, fmt.Errorf("alert %s: %w", id, err)
	}
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
	if c := m.cache.byID[id]; c != nil {
		c.a = a
		for _, o := range w.Outbox {
			c.noted(o)
		}
	}
	if m.stored != nil {
		m.stored()
	}
	return a, nil
}

// Get returns an alert; ErrNotFound when there is none. Get, List and
// Deliveries store waiting changes first, so that they show them.
func (m *Manager) Get(ctx context.Context, id string) (Alert, error) {
	if err := m.Flush(ctx); err != nil {
		return Alert{}, fmt.Errorf("alert %s: %w", id, err)
	}
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
	if err := m.Flush(ctx); err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
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
	if err := m.Flush(ctx); err != nil {
		return nil, fmt.Errorf("alert %s: %w", id, err)
	}
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
