package api

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/metrics"
	"github.com/mamori-sec/mamori/internal/search"
)

// Sources tracks what GET /api/v1/sources reports beyond the store: the
// listeners' record rates, from periodic samples of the intake counters,
// and when each dataset counts as stale.
type Sources struct {
	Metrics *metrics.Metrics
	// StaleFor is how long a dataset may go without a stored event before
	// it is flagged; 0 never flags it. nil never flags any.
	StaleFor func(dataset string) time.Duration
	Now      func() time.Time
	// Interval is how often Run samples the counters (default 10s).
	Interval time.Duration

	mu      sync.Mutex
	samples []listenerSample // oldest first, at most an hour and a bit
	last    map[listenerKey]time.Time
}

// listenerKey is one series of mamori_intake_records_total.
type listenerKey struct{ listener, dataset string }

type listenerSample struct {
	at     time.Time
	counts map[listenerKey]float64
}

// NewSources returns a tracker; Run samples the counters until its
// context ends.
func NewSources(m *metrics.Metrics, staleFor func(string) time.Duration, now func() time.Time) *Sources {
	return &Sources{Metrics: m, StaleFor: staleFor, Now: now}
}

// sampleKeep is how long samples are kept: the longest window reported.
const sampleKeep = time.Hour

// Run samples the listeners' counters every Interval until ctx ends.
func (t *Sources) Run(ctx context.Context) {
	iv := t.Interval
	if iv <= 0 {
		iv = 10 * time.Second
	}
	t.Sample()
	tick := time.NewTicker(iv)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			t.Sample()
		}
	}
}

// Sample records the listeners' counters now.
func (t *Sources) Sample() {
	now := t.now()
	counts := t.read()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil {
		t.last = map[listenerKey]time.Time{}
	}
	if n := len(t.samples); n > 0 {
		prev := t.samples[n-1].counts
		for k, v := range counts {
			if v > prev[k] {
				t.last[k] = now
			}
		}
	}
	t.samples = append(t.samples, listenerSample{at: now, counts: counts})
	// Keep one sample at or before the hour's start, for the hour's rate.
	drop := 0
	for drop+1 < len(t.samples) && !t.samples[drop+1].at.After(now.Add(-sampleKeep)) {
		drop++
	}
	t.samples = append(t.samples[:0], t.samples[drop:]...)
}

// read returns the current value of every intake counter series.
func (t *Sources) read() map[listenerKey]float64 {
	out := map[listenerKey]float64{}
	if t.Metrics == nil {
		return out
	}
	ch := make(chan prometheus.Metric, 16)
	go func() {
		t.Metrics.RecordsReceived.Collect(ch)
		close(ch)
	}()
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil || d.Counter == nil {
			continue
		}
		var k listenerKey
		for _, l := range d.Label {
			switch l.GetName() {
			case "listener":
				k.listener = l.GetValue()
			case "dataset":
				k.dataset = l.GetValue()
			}
		}
		out[k] = d.Counter.GetValue()
	}
	return out
}

func (t *Sources) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// ListenerSource is one listener and intake dataset on the Sources page.
type ListenerSource struct {
	Listener string `json:"listener"`
	Dataset  string `json:"dataset"`
	// Records counts the records received since the server started.
	Records int64 `json:"records"`
	// PerSecond1m and PerSecond1h are the records per second over the last
	// minute and hour, or over the time sampled when that is shorter
	// (Window1mS, Window1hS, in seconds); absent before two samples.
	PerSecond1m *float64 `json:"per_second_1m,omitempty"`
	PerSecond1h *float64 `json:"per_second_1h,omitempty"`
	Window1mS   float64  `json:"window_1m_s,omitempty"`
	Window1hS   float64  `json:"window_1h_s,omitempty"`
	// LastRecord is when a record was last seen arriving, to the sampling
	// interval; absent when none arrived since sampling began.
	LastRecord *time.Time `json:"last_record,omitempty"`
	// Stale: nothing arrived on this listener for its dataset's
	// StaleAfter (a sender that stopped), counted from the first sample
	// when nothing arrived since.
	Stale      bool   `json:"stale"`
	StaleAfter string `json:"stale_after,omitempty"`
}

// listeners reports every listener series as of now.
func (t *Sources) listeners(now time.Time) []ListenerSource {
	cur := t.read()
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []ListenerSource
	for k, v := range cur {
		ls := ListenerSource{Listener: k.listener, Dataset: k.dataset, Records: int64(v)}
		for _, w := range []struct {
			window time.Duration
			rate   **float64
			secs   *float64
		}{{time.Minute, &ls.PerSecond1m, &ls.Window1mS}, {time.Hour, &ls.PerSecond1h, &ls.Window1hS}} {
			// The base is the newest sample at or before the window's
			// start, or the oldest one when sampling began inside it.
			var base *listenerSample
			for i := range t.samples {
				if t.samples[i].at.After(now.Add(-w.window)) {
					if base == nil {
						base = &t.samples[i]
					}
					break
				}
				base = &t.samples[i]
			}
			if base == nil {
				continue
			}
			el := now.Sub(base.at)
			if el <= 0 {
				continue
			}
			r := (v - base.counts[k]) / el.Seconds()
			*w.rate, *w.secs = &r, el.Seconds()
		}
		if last, ok := t.last[k]; ok {
			ls.LastRecord = &last
		}
		if n := len(t.samples); n > 0 && v > t.samples[n-1].counts[k] {
			ls.LastRecord = &now
		}
		if t.StaleFor != nil && len(t.samples) > 0 {
			if after := t.StaleFor(k.dataset); after > 0 {
				since := t.samples[0].at
				if ls.LastRecord != nil {
					since = *ls.LastRecord
				}
				ls.StaleAfter = formatWidth(after)
				ls.Stale = now.Sub(since) > after
			}
		}
		out = append(out, ls)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Listener != out[j].Listener {
			return out[i].Listener < out[j].Listener
		}
		return out[i].Dataset < out[j].Dataset
	})
	return out
}

// DatasetSource is one dataset on the Sources page.
type DatasetSource struct {
	Dataset string `json:"dataset"`
	Events  int64  `json:"events"`
	// EventsLastMinute and EventsLastHour count the events stored in the
	// last minute and hour (by ingestion time); PerSecond1m and
	// PerSecond1h are the same per second.
	EventsLastMinute int64   `json:"events_last_minute"`
	EventsLastHour   int64   `json:"events_last_hour"`
	PerSecond1m      float64 `json:"per_second_1m"`
	PerSecond1h      float64 `json:"per_second_1h"`
	// LastIngested is when the newest event was stored, LastTimestamp the
	// newest @timestamp.
	LastIngested  time.Time `json:"last_ingested"`
	LastTimestamp time.Time `json:"last_timestamp"`
	// Stale: no event stored for StaleAfter (absent: never flagged).
	Stale      bool   `json:"stale"`
	StaleAfter string `json:"stale_after,omitempty"`
	// Failures count the records that did not parse (event.kind
	// pipeline_error), FailuresLastHour those stored in the last hour;
	// FailureExamples are the newest few.
	Failures         int64            `json:"failures"`
	FailuresLastHour int64            `json:"failures_last_hour"`
	FailureExamples  []FailureExample `json:"failure_examples,omitempty"`
}

// FailureExample is a record that did not parse.
type FailureExample struct {
	ID       string    `json:"id"`
	Time     time.Time `json:"time"`
	Error    string    `json:"error"`
	Original string    `json:"original"`
}

// Processing is the processor's state, from the metrics.
type Processing struct {
	// LagSeconds is the age of the oldest archive object not yet processed.
	LagSeconds   float64 `json:"lag_seconds"`
	QueueObjects int64   `json:"queue_objects"`
	QueueBytes   int64   `json:"queue_bytes"`
	// IngestLatencyAvgS is the mean time from receiving a batch's oldest
	// record to storing it, since the server started.
	IngestLatencyAvgS float64 `json:"ingest_latency_avg_s"`
}

// SourcesResponse is the body of GET /api/v1/sources.
type SourcesResponse struct {
	Now        time.Time        `json:"now"`
	Datasets   []DatasetSource  `json:"datasets"`
	Listeners  []ListenerSource `json:"listeners"`
	Processing Processing       `json:"processing"`
	TookMS     float64          `json:"took_ms"`
}

// failureExamples is how many unparsed records a dataset shows.
const failureExamples = 3

func (s *Server) handleSources(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx := r.Context()
	now := s.now()
	access := search.AccessFrom(ctx)
	acts, err := s.Searcher.Store.Activity(ctx, now)
	if err != nil {
		s.Logger.Error("sources failed", "err", err)
		writeError(w, http.StatusInternalServerError, "sources failed")
		return
	}
	out := SourcesResponse{Now: now.UTC(), Datasets: []DatasetSource{}, Listeners: []ListenerSource{}}
	for _, a := range acts {
		if !access.Sees(a.Dataset) {
			continue
		}
		d := DatasetSource{Dataset: a.Dataset, Events: a.Events, EventsLastMinute: a.LastMinute, EventsLastHour: a.LastHour,
			PerSecond1m: float64(a.LastMinute) / 60, PerSecond1h: float64(a.LastHour) / 3600,
			LastIngested: a.LastIngested, LastTimestamp: a.LastTimestamp, Failures: a.Failures, FailuresLastHour: a.FailuresLastHour}
		if s.Sources != nil && s.Sources.StaleFor != nil {
			if after := s.Sources.StaleFor(a.Dataset); after > 0 {
				d.StaleAfter = formatWidth(after)
				d.Stale = now.Sub(a.LastIngested) > after
			}
		}
		if a.Failures > 0 {
			// Through the searcher, so that the reader's access applies
			// here as everywhere.
			res, err := s.Searcher.Search(ctx, search.Request{
				Query: "event.kind:pipeline_error AND event.dataset:" + quoteValue(a.Dataset), Limit: failureExamples})
			if err != nil {
				s.Logger.Error("sources: failure examples", "dataset", a.Dataset, "err", err)
			}
			for _, e := range res.Events {
				d.FailureExamples = append(d.FailureExamples, FailureExample{ID: e.String(event.FieldID), Time: e.Time(),
					Error: e.String(event.FieldError), Original: e.String(event.FieldOriginal)})
			}
		}
		out.Datasets = append(out.Datasets, d)
	}
	src := s.Sources
	if src == nil {
		src = &Sources{Metrics: s.Metrics}
	}
	for _, l := range src.listeners(now) {
		if access.Sees(l.Dataset) {
			out.Listeners = append(out.Listeners, l)
		}
	}
	if s.Metrics != nil {
		out.Processing = Processing{LagSeconds: gaugeValue(s.Metrics.ProcessingLag),
			QueueObjects: int64(gaugeValue(s.Metrics.QueueDepth)), QueueBytes: int64(gaugeValue(s.Metrics.QueueBytes))}
		var d dto.Metric
		if err := s.Metrics.EndToEndLatency.Write(&d); err == nil && d.Histogram != nil && d.Histogram.GetSampleCount() > 0 {
			out.Processing.IngestLatencyAvgS = d.Histogram.GetSampleSum() / float64(d.Histogram.GetSampleCount())
		}
	}
	out.TookMS = millis(time.Since(start))
	writeJSON(w, http.StatusOK, out)
}

func gaugeValue(g prometheus.Gauge) float64 {
	var d dto.Metric
	if err := g.Write(&d); err != nil || d.Gauge == nil {
		return 0
	}
	return d.Gauge.GetValue()
}

// quoteValue writes a value as a query phrase.
func quoteValue(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}
