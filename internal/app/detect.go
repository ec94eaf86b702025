package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mamori-sec/mamori/internal/alert"
	"github.com/mamori-sec/mamori/internal/api"
	"github.com/mamori-sec/mamori/internal/detect"
	"github.com/mamori-sec/mamori/internal/detect/sigma"
	"github.com/mamori-sec/mamori/internal/enrich/dhcp"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/notify"
	"github.com/mamori-sec/mamori/internal/pipeline"
	"github.com/mamori-sec/mamori/internal/search"
	"github.com/mamori-sec/mamori/internal/store"
)

// Detection runs the rules over every committed batch and turns their
// matches into alerts, which the alert manager stores (with their
// notifications, in one transaction) before the sender tells anyone. It
// also answers the alert and rule endpoints of the API.
type Detection struct {
	Book   *RuleBook
	Alerts *alert.Manager
	// Sender delivers the outbox; Serve runs it.
	Sender *alert.Sender

	searcher *search.Searcher
	logger   *slog.Logger
	metrics  *detectMetrics
	now      func() time.Time
	// replay is how far back the rules run again at start.
	replay time.Duration
	// datasetQuery selects the events of datasets some rule reads; "" when
	// no rule is active.
	datasetQuery string
	// retryWaits are the pauses between attempts to store a batch's
	// matches.
	retryWaits []time.Duration
	runMu      sync.Mutex // one run over history at a time
}

var (
	_ api.Alerts = (*Detection)(nil)
	_ api.Rules  = (*Detection)(nil)
)

// OpenDetection builds the alert manager and the notifiers of the
// configuration, and from then on runs book's rules over every committed
// batch. A notifier whose secret cannot be read is an error.
func (a *App) OpenDetection(book *RuleBook) error {
	am, err := alert.NewMetrics(a.Metrics.Registry)
	if err != nil {
		return err
	}
	dm, err := newDetectMetrics(a.Metrics.Registry)
	if err != nil {
		return err
	}
	ac := a.Config.Alerts
	notifiers, err := notify.NewAll(ac.Notifiers, notify.Options{ConsoleURL: ac.ConsoleURL,
		Timeout: time.Duration(ac.Outbox.Timeout), Now: a.now})
	if err != nil {
		return fmt.Errorf("alerts.notifiers: %w", err)
	}
	sender, err := alert.NewSender(a.Store, notifiers, ac.Outbox, alert.SenderOptions{Now: a.now, Metrics: am, Logger: a.Logger})
	if err != nil {
		return err
	}
	mgr, err := alert.NewManager(a.Store, ac, alert.Options{Now: a.now, Metrics: am, Stored: sender.Wake, Sender: sender, Logger: a.Logger})
	if err != nil {
		return err
	}
	d := &Detection{Book: book, Alerts: mgr, Sender: sender, searcher: a.Searcher, logger: a.Logger, metrics: dm,
		now: a.now, replay: a.Config.Rules.ReplayWindow(), datasetQuery: datasetQuery(book.ActiveDatasets()),
		retryWaits: []time.Duration{100 * time.Millisecond, 500 * time.Millisecond, 2 * time.Second}}
	dm.loaded.Set(float64(book.Report.Loaded))
	dm.active.Set(float64(book.Report.Active))
	dm.rejected.Set(float64(len(book.Report.Rejected)))
	a.Detect = d
	return nil
}

// onCommit sees every committed batch. The lease table learns from it
// first; then, when rules run, the batch is enriched as search results are
// (so that rules see what analysts see) and evaluated.
func (a *App) onCommit(ctx context.Context, b pipeline.Committed) {
	evs := b.Events
	if a.Leases != nil && b.Datasets[dhcp.Dataset] > 0 {
		a.Leases.Observe(evs)
	}
	if d := a.Detect; d != nil && d.datasetQuery != "" {
		a.Enrich.Enrich(ctx, evs)
		d.Process(ctx, evs)
	}
}

// Process evaluates a committed batch and stores the alerts it raises or
// updates. Storing is retried a few times; matches that still cannot be
// stored are logged and counted, and found again by the replay at the
// next start (within rules.replay) or by `mamori rules run`.
func (d *Detection) Process(ctx context.Context, evs []*event.Event) {
	start := time.Now()
	ms := d.Book.Engines.Evaluate(evs)
	d.metrics.evaluation.Observe(time.Since(start).Seconds())
	d.metrics.events.Add(float64(len(evs)))
	matches := d.alertMatches(ms, "")
	if len(matches) == 0 {
		return
	}
	res, err := d.handle(ctx, matches)
	if err != nil {
		d.metrics.handleErrors.Inc()
		d.logger.Error("rule matches not stored", "matches", len(matches), "err", err)
		return
	}
	for _, al := range res.Raised {
		d.logger.Info("alert raised", "alert", al.ID, "rule", al.RuleID, "severity", al.Severity, "title", al.Title)
	}
}

// handle stores matches as alerts, retrying failures: Handle recognises
// matches it already counted, so a retry never counts twice. The store
// write is not cut short by a shutdown, so that the batch committed just
// before it keeps its alerts.
func (d *Detection) handle(ctx context.Context, ms []alert.Match) (alert.Result, error) {
	hctx := context.WithoutCancel(ctx)
	for attempt := 0; ; attempt++ {
		res, err := d.Alerts.Handle(hctx, ms)
		if err == nil || attempt >= len(d.retryWaits) {
			return res, err
		}
		d.logger.Warn("storing rule matches failed, will retry", "attempt", attempt+1, "err", err)
		time.Sleep(d.retryWaits[attempt])
	}
}

// alertMatches converts the engines' matches for the alert manager,
// leaving out disabled rules' and, with only set, other rules' matches
// (only is a rule reference: fresh engines hold rules of their own).
func (d *Detection) alertMatches(ms []detect.Match, only string) []alert.Match {
	out := make([]alert.Match, 0, len(ms))
	for i := range ms {
		m := &ms[i]
		if d.Book.Disabled(m.Rule) || (only != "" && m.Rule.Ref() != only) {
			continue
		}
		// Native rules render their own title and summary from the event.
		title, summary := m.Rule.Title, m.Summary
		if m.Title != "" {
			title = m.Title
		}
		if summary == "" {
			summary = matchSummary(m)
		}
		am := alert.Match{RuleID: m.Rule.Ref(), RuleTitle: title, Severity: string(m.Severity),
			Dataset: m.Event.String(event.FieldDataset), EventID: m.EventID, EventTime: m.Time,
			Summary: summary, Correlation: m.Correlation, EventIDs: m.EventIDs}
		for _, g := range m.GroupBy {
			am.GroupKey = append(am.GroupKey, g.Value)
		}
		d.metrics.matches.WithLabelValues(am.Severity).Inc()
		out = append(out, am)
	}
	return out
}

// maxSummary bounds an alert summary taken from an event's text.
const maxSummary = 300

// matchSummary describes a match for its alert: what a correlation counted
// and for whom, or the matching event's message.
func matchSummary(m *detect.Match) string {
	if m.Correlation && m.Rule.Correlation != nil {
		what := "matches"
		switch m.Rule.Correlation.Type {
		case sigma.EventCount:
			what = "events"
		case sigma.ValueCount:
			what = "distinct " + m.Rule.Correlation.Field + " values"
		case sigma.Temporal, sigma.TemporalOrdered:
			what = "rules"
		}
		var groups []string
		for _, g := range m.GroupBy {
			groups = append(groups, g.Field+"="+g.Value)
		}
		s := fmt.Sprintf("%d %s", m.Count, what)
		if len(groups) > 0 {
			s += " for " + strings.Join(groups, ", ")
		}
		if !m.First.IsZero() {
			s += fmt.Sprintf(" from %s to %s", m.First.UTC().Format(time.RFC3339), m.Last.UTC().Format(time.RFC3339))
		}
		return s
	}
	text := strings.Join(strings.Fields(eventSummary(m.Event)), " ")
	if len(text) > maxSummary {
		cut := maxSummary
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "…"
	}
	return text
}

// eventSummary says an event in one line, as the console's result list
// does: its message; for a structured log without one (CloudTrail, VPC
// flows), who did what from where; its raw text when none of that is known.
func eventSummary(e *event.Event) string {
	if msg := e.String(event.FieldMessage); msg != "" {
		return msg
	}
	var parts []string
	add := func(prefix, v string) {
		if v != "" {
			parts = append(parts, prefix+v)
		}
	}
	add("", e.String("event.action"))
	add("", e.String("event.outcome"))
	add("user ", e.String("user.name"))
	src, dst := e.String("source.ip"), e.String("destination.ip")
	switch {
	case src != "" && dst != "":
		parts = append(parts, src+" → "+dst)
	case src != "":
		parts = append(parts, "from "+src)
	}
	add("", e.String("url.original"))
	if len(parts) < 2 {
		return e.String(event.FieldOriginal)
	}
	return strings.Join(parts, " · ")
}

// Replay runs the live engine again, before the processor resumes, over
// the events of every batch committed in the last rules.replay, in the
// order they were committed (as the stream saw them): matches of batches
// stored just before a crash (between the commit and the alert) are stored
// now, and correlations pick up where they were. Batches are chosen by
// when they were committed, not by their events' @timestamp, so that old
// events committed just before a crash (a day-old CloudTrail object) are
// evaluated too. Alerts already raised count each event once, so nothing
// is raised or notified twice.
func (d *Detection) Replay(ctx context.Context) {
	if d.replay <= 0 || d.datasetQuery == "" {
		return
	}
	since := d.now().Add(-d.replay)
	t := newRunTally()
	if err := d.replayCommitted(ctx, since, t); err != nil {
		if ctx.Err() == nil {
			d.logger.Error("replaying the rules at start", "committed_since", since, "err", err)
		}
		return
	}
	d.logger.Info("rules replayed", "committed_since", since, "events", t.res.Events, "matches", t.res.Matches,
		"raised", len(t.res.Raised), "updated", t.res.Updated, "repeats", t.res.Repeats)
}

// replayCommitted evaluates the live engines over the events, of the
// datasets some rule reads, of the blocks committed since since, page by
// page (runPage events at most, unless one block holds more).
func (d *Detection) replayCommitted(ctx context.Context, since time.Time, t *runTally) error {
	st := d.searcher.Store
	blocks, err := st.BlocksIngestedSince(ctx, since)
	if err != nil {
		return err
	}
	datasets := d.Book.ActiveDatasets()
	lost := 0
	for i := 0; i < len(blocks); {
		var ids []int64
		n := 0
		for ; i < len(blocks) && (len(ids) == 0 || n+blocks[i].Events <= runPage); i++ {
			ids = append(ids, blocks[i].Blk)
			n += blocks[i].Events
		}
		pos, err := st.BlockEvents(ctx, ids, datasets)
		if err != nil {
			return fmt.Errorf("read committed events: %w", err)
		}
		evs, gone, err := d.deriveAt(ctx, pos)
		if err != nil {
			return err
		}
		lost += gone
		if len(evs) == 0 {
			continue
		}
		if d.searcher.Enrich != nil {
			d.searcher.Enrich(ctx, evs) // as onCommit enriches the stream
		}
		if err := d.evaluatePage(ctx, d.Book.Engines, evs, "", t); err != nil {
			return err
		}
	}
	if lost > 0 {
		d.logger.Warn("events not replayed: their records no longer yield them (was a dataset's parser changed?)", "events", lost)
	}
	return nil
}

// deriveAt re-derives the events at pos (in commit order, so each block
// is read once), and counts those whose record no longer yields them.
func (d *Detection) deriveAt(ctx context.Context, pos []store.Position) (evs []*event.Event, gone int, err error) {
	var b store.BlockData
	var recEvs []*event.Event
	off := int32(-1)
	for _, p := range pos {
		if p.Blk != b.Blk || b.Records == nil {
			if b, err = d.searcher.Store.ReadBlock(ctx, p.Blk); err != nil {
				return nil, 0, fmt.Errorf("read committed events: %w", err)
			}
			off = -1
		}
		if p.Off != off {
			recEvs, off = pipeline.Derive(d.searcher.Datasets, &b, int(p.Off)), p.Off
		}
		if int(p.Sub) >= len(recEvs) {
			gone++
			continue
		}
		evs = append(evs, recEvs[p.Sub])
	}
	return evs, gone, nil
}

// runTally adds up what storing a run's matches did, counting each alert
// once: as raised if the run raised it, else as updated.
type runTally struct {
	res     api.RunResult
	raised  map[string]bool
	updated map[string]bool
}

func newRunTally() *runTally {
	return &runTally{res: api.RunResult{Raised: []alert.Alert{}}, raised: map[string]bool{}, updated: map[string]bool{}}
}

func (t *runTally) add(r alert.Result) {
	for _, al := range r.Raised {
		t.raised[al.ID] = true
		t.res.Raised = append(t.res.Raised, al)
	}
	for _, al := range r.Updated {
		if !t.raised[al.ID] {
			t.updated[al.ID] = true
		}
	}
	t.res.Repeats += r.Repeats
	t.res.Updated = len(t.updated)
}

// Rules implements api.Rules.
func (d *Detection) Rules(context.Context) api.RulesResponse { return d.Book.Summary() }

// Run implements api.Rules: a fresh engine, so that old events neither
// disturb nor borrow the stream's correlation state.
func (d *Detection) Run(ctx context.Context, from, to time.Time, rule string) (api.RunResult, error) {
	only := ""
	if rule != "" {
		r, ok := d.Book.Find(rule)
		if !ok {
			return api.RunResult{}, fmt.Errorf("rule %q: %w", rule, api.ErrUnknownRule)
		}
		only = r.Ref()
	}
	if !d.runMu.TryLock() {
		return api.RunResult{}, api.ErrRunBusy
	}
	defer d.runMu.Unlock()
	res, err := d.runRange(ctx, d.Book.NewEngines(), from, to, only)
	if err == nil {
		// Stored now rather than within alerts.flush_interval: `mamori
		// rules run` exits next.
		err = d.Alerts.Flush(ctx)
	}
	return res, err
}

// runPage is how many events a run reads at a time.
const runPage = 5000

// runRange evaluates eng over the stored events of [from, to), oldest
// first, and stores the alerts.
func (d *Detection) runRange(ctx context.Context, eng Engines, from, to time.Time, only string) (api.RunResult, error) {
	start := time.Now()
	t := newRunTally()
	err := d.evaluateRange(ctx, eng, from, to, only, t)
	t.res.TookMS = float64(time.Since(start).Microseconds()) / 1000
	return t.res, err
}

func (d *Detection) evaluateRange(ctx context.Context, eng Engines, from, to time.Time, only string, t *runTally) error {
	if d.datasetQuery == "" {
		return nil
	}
	req := search.Request{Query: d.datasetQuery, From: from, To: to, Limit: runPage, Asc: true}
	for {
		page, err := d.searcher.Search(ctx, req)
		if err != nil {
			return fmt.Errorf("read stored events: %w", err)
		}
		if err := d.evaluatePage(ctx, eng, page.Events, only, t); err != nil {
			return err
		}
		if page.Next == "" || len(page.Events) == 0 {
			return nil
		}
		req.Cursor = page.Next
	}
}

// evaluatePage runs eng over a page of stored events and stores the
// alerts of its matches.
func (d *Detection) evaluatePage(ctx context.Context, eng Engines, evs []*event.Event, only string, t *runTally) error {
	t.res.Events += int64(len(evs))
	d.metrics.events.Add(float64(len(evs)))
	matches := d.alertMatches(eng.Evaluate(evs), only)
	t.res.Matches += len(matches)
	if len(matches) == 0 {
		return nil
	}
	r, err := d.handle(ctx, matches)
	if err != nil {
		return err
	}
	t.add(r)
	return nil
}

// datasetQuery selects the events of the given datasets.
func datasetQuery(datasets []string) string {
	if len(datasets) == 0 {
		return ""
	}
	return fieldIn(event.FieldDataset, datasets)
}

// fieldIn is field:("a" OR "b" ...), every value a quoted phrase.
func fieldIn(field string, values []string) string {
	var b strings.Builder
	b.WriteString(field)
	b.WriteString(":(")
	for i, v := range values {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteByte('"')
		for j := 0; j < len(v); j++ {
			if v[j] == '"' || v[j] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(v[j])
		}
		b.WriteByte('"')
	}
	b.WriteByte(')')
	return b.String()
}

// contextIDs bounds how many of an alert's events are read to find what
// they relate to.
const contextIDs = 50

// Context implements api.Alerts: it reads the alert's own events (the
// first contextIDs), and searches every event that shares an address, a
// user or a host with them, from 30 minutes before the alert to 30
// minutes after (alert.ContextQuery).
func (d *Detection) Context(ctx context.Context, a alert.Alert, limit int) (api.AlertContext, error) {
	ids := a.EventIDs
	if len(ids) > contextIDs {
		ids = ids[:contextIDs]
	}
	var own []*event.Event
	if len(ids) > 0 {
		// A correlation's events may precede the match that raised the
		// alert by its timespan: look back as far as the context does.
		res, err := d.searcher.Search(ctx, search.Request{Query: fieldIn(event.FieldID, ids),
			From: a.FirstSeen.Add(-alert.ContextWindow), To: a.LastSeen.Add(time.Second), Limit: len(ids), Asc: true})
		if err != nil {
			return api.AlertContext{}, fmt.Errorf("alert %s: read its events: %w", a.ID, err)
		}
		own = res.Events
	}
	q, from, to := alert.ContextQuery(a, own)
	out := api.AlertContext{Query: q, From: from, To: to, Events: []*event.Event{}}
	if q == "" {
		return out, nil
	}
	res, err := d.searcher.Search(ctx, search.Request{Query: q, From: from, To: to, Limit: limit, Asc: true})
	if err != nil {
		return out, fmt.Errorf("alert %s: related events: %w", a.ID, err)
	}
	out.Events, out.Next = res.Events, res.Next
	return out, nil
}

// List implements api.Alerts: only alerts of datasets the reader of ctx
// sees (search.AccessFrom) are listed.
func (d *Detection) List(ctx context.Context, f alert.Filter) ([]alert.Alert, error) {
	return d.listVisible(ctx, f)
}

// Get implements api.Alerts; an alert the reader does not see is not
// found.
func (d *Detection) Get(ctx context.Context, id string) (alert.Alert, error) {
	return d.getVisible(ctx, id)
}

// Deliveries implements api.Alerts.
func (d *Detection) Deliveries(ctx context.Context, id string) ([]alert.Delivery, error) {
	if _, err := d.getVisible(ctx, id); err != nil {
		return nil, err
	}
	return d.Alerts.Deliveries(ctx, id)
}

// Acknowledge implements api.Alerts.
func (d *Detection) Acknowledge(ctx context.Context, id, who string) (alert.Alert, error) {
	if _, err := d.getVisible(ctx, id); err != nil {
		return alert.Alert{}, err
	}
	return d.Alerts.Acknowledge(ctx, id, who)
}

// Resolve implements api.Alerts.
func (d *Detection) Resolve(ctx context.Context, id, who string) (alert.Alert, error) {
	if _, err := d.getVisible(ctx, id); err != nil {
		return alert.Alert{}, err
	}
	return d.Alerts.Resolve(ctx, id, who)
}
