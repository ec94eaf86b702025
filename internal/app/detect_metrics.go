package app

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// detectMetrics are the rule engine's Prometheus collectors (the alert
// package registers the alert and notification ones).
type detectMetrics struct {
	evaluation   prometheus.Histogram
	events       prometheus.Counter
	matches      *prometheus.CounterVec
	handleErrors prometheus.Counter
	loaded       prometheus.Gauge
	active       prometheus.Gauge
	rejected     prometheus.Gauge
}

func newDetectMetrics(reg prometheus.Registerer) (*detectMetrics, error) {
	m := &detectMetrics{
		evaluation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "mamori", Subsystem: "rules", Name: "evaluation_seconds",
			Help:    "Time the rules take over one committed batch of events.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 16),
		}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "mamori", Subsystem: "rules", Name: "events_total",
			Help: "Events the rules were evaluated on (stream and replay).",
		}),
		matches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "mamori", Subsystem: "rules", Name: "matches_total",
			Help: "Rule matches handed to the alerts, by severity.",
		}, []string{"severity"}),
		handleErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "mamori", Subsystem: "rules", Name: "store_errors_total",
			Help: "Batches whose matches could not be stored as alerts after retries (found again by the replay at the next start, or by mamori rules run).",
		}),
		loaded: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "mamori", Subsystem: "rules", Name: "loaded", Help: "Rules parsed and compiled.",
		}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "mamori", Subsystem: "rules", Name: "active", Help: "Loaded rules whose logsource maps to a dataset.",
		}),
		rejected: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "mamori", Subsystem: "rules", Name: "rejected",
			Help: "Configured rules that did not load (only with rules.allow_rejected; otherwise the start fails).",
		}),
	}
	for _, c := range []prometheus.Collector{m.evaluation, m.events, m.matches, m.handleErrors, m.loaded, m.active, m.rejected} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register rule metrics: %w", err)
		}
	}
	return m, nil
}
