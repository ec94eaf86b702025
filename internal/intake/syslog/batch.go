package syslog

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/mamori-sec/mamori/internal/intake"
)

// Option changes what a listener is given besides its Config.
type Option func(*options)

type options struct {
	metrics *Metrics
	now     func() time.Time
}

// WithMetrics counts into m (shared by the listeners of one registry).
// Without it a listener counts into collectors registered nowhere.
func WithMetrics(m *Metrics) Option { return func(o *options) { o.metrics = m } }

// WithClock sets the clock that stamps Record.Received. Default time.Now.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

func buildOptions(opts []Option) (options, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.metrics == nil {
		m, err := NewMetrics(nil)
		if err != nil {
			return o, err
		}
		o.metrics = m
	}
	if o.now == nil {
		o.now = time.Now
	}
	return o, nil
}

// batchBuilder gathers records for one batch. Message bytes are copied into
// arena chunks that belong to the batch: a batch handed to the sink is never
// touched again, so the sink may keep it. The sizes of the last batch size the
// next one's arrays, so that a steady stream allocates each array once.
type batchBuilder struct {
	dataset, listener string
	maxBytes          int // the flush threshold: no chunk needs to be larger
	records           []intake.Record
	bytes             int
	chunk             []byte
	lastRecords       int
	lastBytes         int
}

const firstChunk = 4 << 10

func newBatchBuilder(cfg Config) batchBuilder {
	return batchBuilder{dataset: cfg.Dataset, listener: cfg.Name, maxBytes: cfg.FlushBytes}
}

func (b *batchBuilder) add(data []byte, received time.Time, peer string) {
	if cap(b.chunk)-len(b.chunk) < len(data) {
		// A new chunk; records already made keep pointing into the old one.
		size := max(2*cap(b.chunk), b.lastBytes, firstChunk)
		size = max(min(size, b.maxBytes), len(data))
		b.chunk = make([]byte, 0, size)
	}
	if b.records == nil {
		b.records = make([]intake.Record, 0, max(b.lastRecords, 16))
	}
	start := len(b.chunk)
	b.chunk = append(b.chunk, data...)
	b.records = append(b.records, intake.Record{
		Data:     b.chunk[start:len(b.chunk):len(b.chunk)],
		Received: received,
		Peer:     peer,
	})
	b.bytes += len(data)
}

func (b *batchBuilder) len() int { return len(b.records) }

// take returns the gathered batch and starts an empty one.
func (b *batchBuilder) take() intake.Batch {
	batch := intake.Batch{Dataset: b.dataset, Listener: b.listener, Records: b.records}
	b.lastRecords, b.lastBytes = len(b.records), b.bytes
	b.records = nil
	b.bytes = 0
	b.chunk = nil
	return batch
}

// batchWriter writes batches to the sink, retrying a failed write until it
// succeeds or ctx ends (ctx outlives Close by ShutdownTimeout).
type batchWriter struct {
	sink  intake.Sink
	log   *slog.Logger
	m     *listenerMetrics
	retry time.Duration
	ctx   context.Context
}

// write makes b durable, retrying with a doubling wait. When ctx ends first
// the batch's records are counted dropped.
func (w *batchWriter) write(b intake.Batch) {
	if len(b.Records) == 0 {
		return
	}
	wait := w.retry
	for attempt := 1; ; attempt++ {
		err := w.sink.Write(w.ctx, b)
		if err == nil {
			w.m.batches.Inc()
			if attempt > 1 {
				w.log.Info("syslog batch written after retries", "records", len(b.Records), "attempts", attempt)
			}
			return
		}
		w.m.writeErrors.Inc()
		if w.ctx.Err() != nil {
			w.m.dropped.Add(float64(len(b.Records)))
			w.log.Error("syslog batch dropped: shutdown timed out before it could be written",
				"records", len(b.Records), "attempts", attempt, "err", err)
			return
		}
		level := slog.LevelWarn
		if errors.Is(err, intake.ErrBusy) {
			level = slog.LevelInfo
		}
		w.log.Log(w.ctx, level, "syslog batch write failed; retrying the same batch",
			"records", len(b.Records), "attempt", attempt, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-w.ctx.Done():
			t.Stop()
		}
		wait = min(2*wait, maxRetryInterval)
	}
}

// contextWatch closes a listener when the context given to Start ends. The
// lock covers a context that is already done: its callback may run before
// context.AfterFunc has returned the stop function.
type contextWatch struct {
	mu     sync.Mutex
	stopFn func() bool
}

func (w *contextWatch) start(ctx context.Context, closeListener func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopFn = context.AfterFunc(ctx, closeListener)
}

// stop forgets the context, so that a long-lived one holds no reference to a
// closed listener.
func (w *contextWatch) stop() {
	w.mu.Lock()
	stop := w.stopFn
	w.mu.Unlock()
	if stop != nil {
		stop()
	}
}
