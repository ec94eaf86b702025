package syslog

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus collectors of the syslog listeners, labelled by
// listener name. Create one per registry and share it among listeners.
type Metrics struct {
	received      *prometheus.CounterVec
	bytes         *prometheus.CounterVec
	truncated     *prometheus.CounterVec
	dropped       *prometheus.CounterVec
	framingErrors *prometheus.CounterVec
	batches       *prometheus.CounterVec
	writeErrors   *prometheus.CounterVec
	connections   *prometheus.CounterVec
	rejected      *prometheus.CounterVec
	active        *prometheus.GaugeVec
}

// NewMetrics makes the collectors and registers them with reg; a nil reg
// registers them nowhere (the counters still count).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "mamori", Subsystem: "syslog", Name: name, Help: help,
		}, []string{"listener"})
	}
	m := &Metrics{
		received:      counter("messages_received_total", "Messages received and put in a batch."),
		bytes:         counter("bytes_received_total", "Bytes read from the network, framing included."),
		truncated:     counter("messages_truncated_total", "Messages cut to the maximum message size."),
		dropped:       counter("messages_dropped_total", "Messages lost: dropped by the kernel (UDP), empty, or still unwritten when shutdown timed out."),
		framingErrors: counter("framing_errors_total", "TCP frames that were malformed: an octet count that was zero or implausible."),
		batches:       counter("batches_written_total", "Batches the sink made durable."),
		writeErrors:   counter("write_errors_total", "Failed attempts to write a batch to the sink (each is retried)."),
		connections:   counter("connections_total", "TCP connections accepted and served."),
		rejected:      counter("connections_rejected_total", "TCP connections closed at once because max_connections were open."),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "mamori", Subsystem: "syslog", Name: "connections_active",
			Help: "TCP connections open now.",
		}, []string{"listener"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if errors.As(err, &already) {
				return nil, fmt.Errorf("register syslog metrics: %w (create Metrics once per registry and share it)", err)
			}
			return nil, fmt.Errorf("register syslog metrics: %w", err)
		}
	}
	return m, nil
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.received, m.bytes, m.truncated, m.dropped, m.framingErrors,
		m.batches, m.writeErrors, m.connections, m.rejected, m.active}
}

// listenerMetrics are one listener's children of Metrics, looked up once so
// that the hot path does no label lookups.
type listenerMetrics struct {
	received, bytes, truncated, dropped, framingErrors prometheus.Counter
	batches, writeErrors, connections, rejected        prometheus.Counter
	active                                             prometheus.Gauge
}

func (m *Metrics) forListener(name string) listenerMetrics {
	return listenerMetrics{
		received:      m.received.WithLabelValues(name),
		bytes:         m.bytes.WithLabelValues(name),
		truncated:     m.truncated.WithLabelValues(name),
		dropped:       m.dropped.WithLabelValues(name),
		framingErrors: m.framingErrors.WithLabelValues(name),
		batches:       m.batches.WithLabelValues(name),
		writeErrors:   m.writeErrors.WithLabelValues(name),
		connections:   m.connections.WithLabelValues(name),
		rejected:      m.rejected.WithLabelValues(name),
		active:        m.active.WithLabelValues(name),
	}
}
