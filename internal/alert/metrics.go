package alert

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus collectors of alerts and notifications.
// Create one per registry; a nil *Metrics counts nothing.
type Metrics struct {
	raised   *prometheus.CounterVec
	updated  *prometheus.CounterVec
	sent     *prometheus.CounterVec
	failed   *prometheus.CounterVec
	retried  *prometheus.CounterVec
	pending  *prometheus.GaugeVec
	delivery *prometheus.HistogramVec

	stormMatches *prometheus.CounterVec
	stormGroups  *prometheus.CounterVec
	cached       prometheus.Gauge
	loads        prometheus.Counter
	evictions    prometheus.Counter
}

// NewMetrics makes the collectors and registers them with reg; a nil reg
// registers them nowhere (the counters still count).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		raised: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "mamori", Subsystem: "alerts", Name: "raised_total", Help: "Alerts raised, by severity.",
		}, []string{"severity"}),
		updated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "mamori", Subsystem: "alerts", Name: "updated_total",
			Help: "Changes of an open alert by new matches (grouped instead of raised), by severity.",
		}, []string{"severity"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "mamori", Subsystem: "notifications", Name: "sent_total", Help: "Notifications delivered.",
		}, []string{"notifier", "kind"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "mamori", Subsystem: "notifications", Name: "failed_total",
			Help: "Notifications given up on: refused by the receiver, or past give_up_after.",
		}, []string{"notifier"}),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "mamori", Subsystem: "notifications", Name: "attempts_failed_total",
			Help: "Delivery attempts that failed and will be retried.",
		}, []string{"notifier"}),
		pending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "mamori", Subsystem: "notifications", Name: "pending",
			Help: "Notifications waiting in the outbox.",
		}, []string{"notifier"}),
		delivery: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "mamori", Subsystem: "notifications", Name: "delivery_seconds",
			Help:    "Time from queuing a notification (storing its alert) to its delivery.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16),
		}, []string{"notifier"}),
		stormMatches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "mamori", Subsystem: "alert_storm", Name: "suppressed_total",
			Help: "Matches counted in a rule's storm alert rather than raising or joining an alert of their own group.",
		}, []string{"rule"}),
		stormGroups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "mamori", Subsystem: "alert_storm", Name: "groups_total",
			Help: "Group keys folded into a rule's storm alert: alerts not raised.",
		}, []string{"rule"}),
		cached: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "mamori", Subsystem: "alerts", Name: "cached_groups",
			Help: "Groups (rule and group key) whose alerts the manager holds in memory.",
		}),
		loads: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "mamori", Subsystem: "alerts", Name: "cache_loads_total",
			Help: "Groups whose alerts were read from the store (not in memory, or needed further back).",
		}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "mamori", Subsystem: "alerts", Name: "cache_evictions_total",
			Help: "Groups dropped from memory to stay within alerts.cache_groups.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.raised, m.updated, m.sent, m.failed, m.retried, m.pending, m.delivery,
		m.stormMatches, m.stormGroups, m.cached, m.loads, m.evictions} {
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if errors.As(err, &already) {
				return nil, fmt.Errorf("register alert metrics: %w (create Metrics once per registry)", err)
			}
			return nil, fmt.Errorf("register alert metrics: %w", err)
		}
	}
	return m, nil
}

func (m *Metrics) alertsChanged(raised, updated []Alert) {
	if m == nil {
		return
	}
	for _, a := range raised {
		m.raised.WithLabelValues(string(a.Severity)).Inc()
	}
	for _, a := range updated {
		m.updated.WithLabelValues(string(a.Severity)).Inc()
	}
}

func (m *Metrics) stormed(rule string, newGroup bool) {
	if m == nil {
		return
	}
	m.stormMatches.WithLabelValues(rule).Inc()
	if newGroup {
		m.stormGroups.WithLabelValues(rule).Inc()
	}
}

func (m *Metrics) cache(groups int, loaded, evicted int) {
	if m == nil {
		return
	}
	m.cached.Set(float64(groups))
	m.loads.Add(float64(loaded))
	m.evictions.Add(float64(evicted))
}

func (m *Metrics) delivered(notifier string, kind Kind, seconds float64) {
	if m == nil {
		return
	}
	m.sent.WithLabelValues(notifier, string(kind)).Inc()
	m.delivery.WithLabelValues(notifier).Observe(seconds)
}

func (m *Metrics) failedFor(notifier string) {
	if m != nil {
		m.failed.WithLabelValues(notifier).Inc()
	}
}

func (m *Metrics) retry(notifier string) {
	if m != nil {
		m.retried.WithLabelValues(notifier).Inc()
	}
}

func (m *Metrics) setPending(notifier string, n int64) {
	if m != nil {
		m.pending.WithLabelValues(notifier).Set(float64(n))
	}
}
