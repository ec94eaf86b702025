package alert

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Value reads a counter's or gauge's value.
func Value(c prometheus.Collector) float64 {
	ch := make(chan prometheus.Metric, 1)
	c.Collect(ch)
	var m dto.Metric
	if err := (<-ch).Write(&m); err != nil {
		panic(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

// Accessors of the metrics for the external tests.

func MetricsSent(m *Metrics, notifier, kind string) prometheus.Collector {
	return m.sent.WithLabelValues(notifier, kind)
}

func MetricsRetried(m *Metrics, notifier string) prometheus.Collector {
	return m.retried.WithLabelValues(notifier)
}

func MetricsFailed(m *Metrics, notifier string) prometheus.Collector {
	return m.failed.WithLabelValues(notifier)
}

func MetricsPending(m *Metrics, notifier string) prometheus.Collector {
	return m.pending.WithLabelValues(notifier)
}

func MetricsRaised(m *Metrics, severity string) prometheus.Collector {
	return m.raised.WithLabelValues(severity)
}

func MetricsUpdated(m *Metrics, severity string) prometheus.Collector {
	return m.updated.WithLabelValues(severity)
}

func MetricsStormSuppressed(m *Metrics, rule string) prometheus.Collector {
	return m.stormMatches.WithLabelValues(rule)
}

func MetricsStormGroups(m *Metrics, rule string) prometheus.Collector {
	return m.stormGroups.WithLabelValues(rule)
}

func MetricsCachedGroups(m *Metrics) prometheus.Collector { return m.cached }

func MetricsCacheLoads(m *Metrics) prometheus.Collector { return m.loads }

func MetricsCacheEvictions(m *Metrics) prometheus.Collector { return m.evictions }
