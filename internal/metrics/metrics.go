// Package metrics defines mamori's Prometheus metrics in one place, on a
// registry the caller owns (no global registry).
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the pipeline's counters and gauges.
type Metrics struct {
	Registry *prometheus.Registry

	// RecordsReceived counts raw records accepted by a listener, by dataset
	// and listener.
	RecordsReceived *prometheus.CounterVec
	// BytesArchived counts compressed bytes written to the archive.
	BytesArchived *prometheus.CounterVec
	// ObjectsArchived counts archive objects written, by dataset.
	ObjectsArchived *prometheus.CounterVec
	// IntakeRejected counts intake requests refused, by listener and reason.
	IntakeRejected *prometheus.CounterVec
	// EventsStored counts events committed to the store, by dataset.
	EventsStored *prometheus.CounterVec
	// EventsFailed counts records that failed to parse (stored as errors).
	EventsFailed *prometheus.CounterVec
	// ObjectsProcessed counts archive objects fully processed.
	ObjectsProcessed *prometheus.CounterVec
	// ProcessErrors counts processing attempts that failed and will retry.
	ProcessErrors *prometheus.CounterVec
	// QueueDepth is the number of archive objects waiting to be processed.
	QueueDepth prometheus.Gauge
	// QueueBytes is their size.
	QueueBytes prometheus.Gauge
	// ProcessingLag is the age of the oldest unprocessed object in seconds.
	ProcessingLag prometheus.Gauge
	// EndToEndLatency observes, per committed batch, the time from receiving
	// its oldest record to committing it.
	EndToEndLatency prometheus.Histogram
	// QueryLatency observes search latency.
	QueryLatency *prometheus.HistogramVec
	// RetentionDeleted counts events removed by retention.
	RetentionDeleted *prometheus.CounterVec
}

// New creates the metrics on a new registry, with Go and process collectors.
func New() *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		Registry: r,
		RecordsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mamori_intake_records_total", Help: "Raw records accepted by intake.",
		}, []string{"dataset", "listener"}),
		BytesArchived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mamori_archive_bytes_total", Help: "Compressed bytes written to the archive.",
		}, []string{"dataset"}),
		ObjectsArchived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mamori_archive_objects_total", Help: "Objects written to the archive.",
		}, []string{"dataset"}),
		IntakeRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mamori_intake_rejected_total", Help: "Intake requests refused.",
		}, []string{"listener", "reason"}),
		EventsStored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mamori_events_stored_total", Help: "Events committed to the store.",
		}, []string{"dataset"}),
		EventsFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mamori_events_failed_total", Help: "Records that failed to parse; they are stored with error.message.",
		}, []string{"dataset"}),
		ObjectsProcessed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mamori_objects_processed_total", Help: "Archive objects fully processed.",
		}, []string{"dataset"}),
		ProcessErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mamori_process_errors_total", Help: "Processing attempts that failed and will be retried.",
		}, []string{"dataset"}),
		QueueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mamori_queue_objects", Help: "Archive objects waiting to be processed.",
		}),
		QueueBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mamori_queue_bytes", Help: "Compressed bytes of archive objects waiting to be processed.",
		}),
		ProcessingLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mamori_processing_lag_seconds", Help: "Age of the oldest archive object not yet processed.",
		}),
		EndToEndLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "mamori_ingest_latency_seconds", Help: "Time from receiving a batch's oldest record to committing its events.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}),
		QueryLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mamori_query_seconds", Help: "Search latency.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"kind"}),
		RetentionDeleted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mamori_retention_deleted_total", Help: "Events deleted by retention.",
		}, []string{"dataset"}),
	}
	r.MustRegister(m.RecordsReceived, m.BytesArchived, m.ObjectsArchived, m.IntakeRejected, m.EventsStored,
		m.EventsFailed, m.ObjectsProcessed, m.ProcessErrors, m.QueueDepth, m.QueueBytes, m.ProcessingLag,
		m.EndToEndLatency, m.QueryLatency, m.RetentionDeleted)
	return m
}
