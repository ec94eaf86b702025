// Package app wires mamori's parts together from a configuration: archive,
// store, queue, processor, listeners and API. `mamori serve` runs it;
// `mamori import` without a server uses it to work on the data directory.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mamori-sec/mamori/internal/archive"
	"github.com/mamori-sec/mamori/internal/config"
	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets"
	"github.com/mamori-sec/mamori/internal/datasets/mapping"
	"github.com/mamori-sec/mamori/internal/enrich"
	"github.com/mamori-sec/mamori/internal/enrich/dhcp"
	"github.com/mamori-sec/mamori/internal/enrich/geoip"
	"github.com/mamori-sec/mamori/internal/metrics"
	"github.com/mamori-sec/mamori/internal/pipeline"
	"github.com/mamori-sec/mamori/internal/query"
	"github.com/mamori-sec/mamori/internal/queue"
	"github.com/mamori-sec/mamori/internal/search"
	"github.com/mamori-sec/mamori/internal/store"
)

// App is an opened data directory with its processing parts.
type App struct {
	Config    config.Config
	Logger    *slog.Logger
	Metrics   *metrics.Metrics
	Archive   *archive.Archive
	Store     *store.Store
	Queue     *queue.Local
	Datasets  *dataset.Registry
	Processor *pipeline.Processor
	Intake    *pipeline.Intake
	Scanner   *pipeline.Scanner
	Searcher  *search.Searcher
	Now       func() time.Time
	// Read-time enrichment (nil when not configured).
	Leases *dhcp.Table
	Geo    *geoip.DB
	Enrich *enrich.Chain
	// Detect runs the rules on the stream; nil until OpenDetection (mamori
	// serve). Without it, stored events are not evaluated (local imports).
	Detect *Detection
}

// Registry builds the dataset registry a configuration asks for.
func Registry(cfg config.Config) (*dataset.Registry, error) {
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, fmt.Errorf("timezone: %w", err)
	}
	custom, err := mapping.LoadAll(cfg.Datasets, mapping.Options{Location: loc}, datasets.IsBuiltin)
	if err != nil {
		return nil, err
	}
	return datasets.Builtin(datasets.Options{Location: loc, Custom: custom}), nil
}

// Open opens the archive and the store of a finished (validated) config.
func Open(ctx context.Context, cfg config.Config, logger *slog.Logger) (*App, error) {
	reg, err := Registry(cfg)
	if err != nil {
		return nil, err
	}
	m := metrics.New()
	arc, err := archive.Open(ctx, cfg.Archive.URL, archive.WithCompression(cfg.Archive.Compression))
	if err != nil {
		return nil, fmt.Errorf("open archive %s: %w", cfg.Archive.URL, err)
	}
	opts := store.Options{
		Functions:   query.RegisterFunctions,
		MemoryLimit: cfg.Store.MemoryLimit,
		Threads:     cfg.Store.Threads,
	}
	if arc.Local() {
		// Blocks read their records from a local archive rather than keep
		// a second copy; with S3, a copy keeps search off the network.
		opts.Archive = arc
	}
	st, err := store.Open(ctx, cfg.Store.Path, opts)
	if err != nil {
		arc.Close()
		return nil, fmt.Errorf("open store %s (is another mamori using this data directory?): %w", cfg.Store.Path, err)
	}
	q := queue.NewLocal(st)
	a := &App{Config: cfg, Logger: logger, Metrics: m, Archive: arc, Store: st, Queue: q, Datasets: reg, Now: time.Now}
	a.Processor = &pipeline.Processor{Source: archiveSource{arc}, Store: st, Datasets: reg, Metrics: m,
		Logger: logger, Now: a.now, BatchRecords: cfg.Processing.BatchRecords,
		BlockRecords: cfg.Processing.BlockRecords, Index: new(search.Indexer).Index}
	a.Intake = &pipeline.Intake{Archive: arc, Queue: q, Metrics: m, MaxPendingBytes: int64(cfg.Processing.MaxPendingBytes)}
	var sources []pipeline.SourcePrefix
	for _, s := range cfg.Sources {
		sources = append(sources, pipeline.SourcePrefix{Prefix: s.Prefix, Dataset: s.Dataset})
	}
	a.Scanner = &pipeline.Scanner{Archive: arc, Store: st, Queue: q, Sources: sources, Datasets: reg, Logger: logger}
	a.Searcher = search.New(st, reg, m)
	if err := a.openEnrichment(); err != nil {
		st.Close()
		arc.Close()
		return nil, err
	}
	a.Processor.OnCommit = a.onCommit
	return a, nil
}

func (a *App) now() time.Time { return a.Now() }

// Recover queues what an earlier run left: objects known but unfinished,
// and objects archived but never announced (a crash between the two).
func (a *App) Recover(ctx context.Context) error {
	n, err := a.Queue.Load(ctx)
	if err != nil {
		return err
	}
	found, err := a.Scanner.ScanOwn(ctx)
	if err != nil {
		return err
	}
	if n+found > 0 {
		a.Logger.Info("resuming unfinished work", "unfinished_objects", n, "unannounced_objects", found)
	}
	return nil
}

// Drain processes queued objects until none is left (for local import),
// and returns what was processed.
func (a *App) Drain(ctx context.Context) (pipeline.Stats, error) {
	var total pipeline.Stats
	for {
		objects, _ := a.Queue.Pending()
		if objects == 0 {
			return total, nil
		}
		n, err := a.Queue.Receive(ctx)
		if err != nil {
			return total, err
		}
		st, err := a.Processor.Process(ctx, n.Key)
		a.Queue.Done(n)
		total.Records += st.Records
		total.Events += st.Events
		total.Failures += st.Failures
		if err != nil {
			return total, fmt.Errorf("process %s: %w", n.Key, err)
		}
	}
}

// UpdateGauges refreshes the queue and lag gauges.
func (a *App) UpdateGauges(ctx context.Context) {
	objects, bytes, err := a.Store.QueueDepth(ctx)
	if err != nil {
		return
	}
	a.Metrics.QueueDepth.Set(float64(objects))
	a.Metrics.QueueBytes.Set(float64(bytes))
	oldest, err := a.Store.OldestPending(ctx)
	if err == nil {
		lag := 0.0
		if !oldest.IsZero() {
			lag = a.now().Sub(oldest).Seconds()
		}
		a.Metrics.ProcessingLag.Set(lag)
	}
}

// ApplyRetention deletes events older than each dataset's retention.
func (a *App) ApplyRetention(ctx context.Context) error {
	counts, err := a.Store.Datasets(ctx)
	if err != nil {
		return err
	}
	var errs []error
	deleted := false
	for ds := range counts {
		keep := a.Config.RetentionFor(ds)
		if keep <= 0 {
			continue
		}
		n, err := a.Store.DeleteBefore(ctx, ds, a.now().Add(-keep))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if n > 0 {
			deleted = true
			a.Metrics.RetentionDeleted.WithLabelValues(ds).Add(float64(n))
			a.Logger.Info("retention", "dataset", ds, "deleted", n, "older_than", keep)
		}
	}
	if deleted {
		if err := a.Searcher.Prune(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if keep := time.Duration(a.Config.Archive.Retention); keep > 0 {
		for _, ds := range a.Datasets.Names() {
			cutoff := a.now().Add(-keep)
			// Objects that stored blocks still read their records from
			// stay until the store's own retention has let them go.
			inUse, err := a.Store.ArchiveRefs(ctx, archive.DatasetPrefix(ds), archive.HourPrefix(ds, cutoff.Add(time.Hour)))
			if err != nil {
				errs = append(errs, err)
				continue
			}
			p, err := a.Archive.DeleteBefore(ctx, ds, cutoff, func(key string) bool { return inUse[key] })
			if err != nil {
				errs = append(errs, err)
			} else if p.Objects > 0 || p.Kept > 0 {
				a.Logger.Info("archive retention", "dataset", ds, "deleted_objects", p.Objects, "bytes", p.Bytes,
					"kept_for_store", p.Kept, "older_than", keep)
			}
		}
	}
	return errors.Join(errs...)
}

// Close closes the store and the archive.
func (a *App) Close() error {
	a.Queue.Close()
	return errors.Join(a.Store.Close(), a.Archive.Close())
}

// archiveSource adapts the archive's record reader to the processor.
type archiveSource struct{ a *archive.Archive }

func (s archiveSource) OpenRecords(ctx context.Context, key string) (pipeline.RecordReader, error) {
	return s.a.OpenRecords(ctx, key)
}
