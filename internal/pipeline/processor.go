package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/mamori-sec/mamori/internal/archive"
	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/metrics"
	"github.com/mamori-sec/mamori/internal/queue"
	"github.com/mamori-sec/mamori/internal/store"
)

// RecordReader iterates an object's records in order, scanner style: Next
// advances and reports whether a record is there; Err tells, once Next
// returns false, whether the end was reached cleanly.
type RecordReader interface {
	Next() bool
	Record() dataset.Record
	Err() error
	Close() error
}

// RecordSource opens archive objects for reading.
type RecordSource interface {
	OpenRecords(ctx context.Context, key string) (RecordReader, error)
}

// Processor turns archive objects into stored events.
type Processor struct {
	Source   RecordSource
	Store    *store.Store
	Datasets *dataset.Registry
	Metrics  *metrics.Metrics
	Logger   *slog.Logger
	Now      func() time.Time
	// BatchRecords is how many records one transaction commits.
	BatchRecords int
	// BlockRecords is how many records one store block holds (the unit of
	// keyword filtering and of reading events back).
	BlockRecords int
	// Index builds a block's token filter from its records and events.
	Index func(recs []dataset.Record, events [][]*event.Event) []byte
	// OnCommit, when set, sees every committed batch (for detection).
	OnCommit func(ctx context.Context, b Committed)
}

// Committed is a batch of events just committed to the store.
type Committed struct {
	Events []*event.Event
	// Datasets counts the events per event.dataset: a consumer of one
	// dataset's events can pass over a batch without looking at each.
	Datasets map[string]int
}

// Stats summarise one Process call.
type Stats struct {
	Records  int64
	Events   int64
	Failures int64
}

// Process processes what is left of one object. It is safe to call again
// for the same object at any time: already committed records are skipped,
// and a batch that another run committed meanwhile is refused by the store.
func (p *Processor) Process(ctx context.Context, key string) (Stats, error) {
	var st Stats
	obj, found, err := p.Store.GetObject(ctx, key)
	if err != nil {
		return st, err
	}
	if !found {
		return st, fmt.Errorf("process %s: object not registered", key)
	}
	if obj.Finished {
		return st, nil
	}
	ds := Resolve(p.Datasets, obj.Dataset)
	rr, err := p.Source.OpenRecords(ctx, key)
	if err != nil {
		return st, fmt.Errorf("process %s: %w", key, err)
	}
	defer rr.Close()
	// The object's frame table lets blocks point at their records in the
	// archive instead of copying them (store.Block.Ref).
	var frames []archive.Frame
	if f, ok := rr.(interface{ Frames() []archive.Frame }); ok {
		frames = f.Frames()
	}

	// A dataset whose objects name their columns in the first record gets
	// that record with every record (and in every block, for reading back).
	var header []byte
	read := func() dataset.Record {
		// The record's text, made here once, is what its events' values
		// are sliced from and what IndexBlock indexes (dataset.Record.Text).
		r := rr.Record().WithText()
		if ds.HeaderLine {
			if header == nil {
				header = bytes.Clone(r.Data)
			}
			r.Header = header
		}
		return r
	}
	var index int64
	for ; index < obj.DoneRecords; index++ {
		if !rr.Next() {
			if err := rr.Err(); err != nil {
				return st, fmt.Errorf("process %s: skip to record %d: %w", key, obj.DoneRecords, err)
			}
			break
		}
		if index == 0 {
			read() // keeps the header, if the dataset has one
		}
	}
	done := obj.DoneRecords
	batchSize := p.BatchRecords
	if batchSize <= 0 {
		batchSize = 20000
	}
	blockSize := p.BlockRecords
	if blockSize <= 0 {
		blockSize = 4096
	}
	// advance reads the next record; nextErr is io.EOF at a clean end.
	var next dataset.Record
	var nextErr error
	advance := func() {
		if rr.Next() {
			next = read()
			return
		}
		nextErr = rr.Err()
		if nextErr == nil {
			nextErr = io.EOF
		}
	}
	advance()
	for {
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		var (
			recs     = make([]dataset.Record, 0, batchSize+1)
			perRec   = make([][]*event.Event, 0, batchSize+1)
			blocks   []store.Block
			cutAt    int // records before it are in blocks
			events   int
			failures int64
			oldest   time.Time
			stored   = map[string]int{} // events per dataset
		)
		first := index
		// Truncated to the store's precision, so that re-deriving an event
		// from its block gives back the same event.ingested.
		now := p.now().UTC().Truncate(time.Microsecond)
		// cut makes a block of the records read since the last cut, as
		// soon as they are parsed (see block).
		cut := func(refs []archive.Frame) {
			if cutAt < len(recs) {
				blocks = append(blocks, p.block(key, obj.Dataset, first+int64(cutAt), recs[cutAt:len(recs):len(recs)], perRec[cutAt:len(recs):len(recs)], now, refs, header))
				cutAt = len(recs)
			}
		}
		// keep adds a record and its events to the batch.
		keep := func(rec dataset.Record, evs []*event.Event) {
			for _, e := range evs {
				stored[e.String(event.FieldDataset)]++
			}
			recs = append(recs, rec)
			perRec = append(perRec, evs)
			events += len(evs)
			index++
		}
		for len(recs) < batchSize && nextErr == nil {
			evs, failed := Normalize(ds, next, key, index, now)
			if failed {
				failures++
			}
			if oldest.IsZero() || next.Received.Before(oldest) {
				oldest = next.Received
			}
			keep(next, evs)
			advance()
			if len(recs)-cutAt == blockSize {
				cut(frames)
			}
		}
		if nextErr != nil && !errors.Is(nextErr, io.EOF) {
			// A broken object (truncated compression, say) keeps what was
			// read; the rest cannot be recovered by retrying. The failure is
			// kept as a record of its own, so it is stored and searchable.
			p.Logger.Error("archive object unreadable", "key", key, "record", index, "err", nextErr)
			rec := dataset.Record{Data: []byte(fmt.Sprintf("mamori: archive object %s unreadable after record %d: %v", key, index, nextErr)), Received: now}
			evs, _ := Normalize(ds, rec, key, index, now)
			keep(rec, evs)
			failures++
			cut(nil) // the last record is mamori's note, not the archive's
		}
		cut(frames)
		n := len(recs)
		finished := nextErr != nil
		prog := store.Progress{Key: key, DoneRecords: done + int64(n), Finished: finished,
			Events: int64(events), Failures: failures, At: now}
		if err := p.Store.CommitBatch(ctx, done, prog, blocks); err != nil {
			return st, err
		}
		batch := make([]*event.Event, 0, events)
		for _, evs := range perRec {
			batch = append(batch, evs...)
		}
		done += int64(n)
		st.Records += int64(n)
		st.Events += int64(len(batch))
		st.Failures += failures
		p.count(stored, failures, ds.Name, oldest)
		if p.OnCommit != nil && len(batch) > 0 {
			p.OnCommit(ctx, Committed{Events: batch, Datasets: stored})
		}
		if finished {
			if p.Metrics != nil {
				p.Metrics.ObjectsProcessed.WithLabelValues(obj.Dataset).Inc()
			}
			return st, nil
		}
	}
}

func (p *Processor) count(stored map[string]int, failures int64, dsName string, oldest time.Time) {
	if p.Metrics == nil {
		return
	}
	for d, n := range stored {
		p.Metrics.EventsStored.WithLabelValues(d).Add(float64(n))
	}
	if failures > 0 {
		p.Metrics.EventsFailed.WithLabelValues(dsName).Add(float64(failures))
	}
	if !oldest.IsZero() {
		p.Metrics.EndToEndLatency.Observe(p.now().Sub(oldest).Seconds())
	}
}

func (p *Processor) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Run processes notifications from q with the given number of workers until
// ctx is cancelled. A failed object is retried with back-off.
func (p *Processor) Run(ctx context.Context, q *queue.Local, workers int) {
	done := make(chan struct{})
	for i := 0; i < workers; i++ {
		go func() {
			defer func() { done <- struct{}{} }()
			p.work(ctx, q)
		}()
	}
	for i := 0; i < workers; i++ {
		<-done
	}
}

func (p *Processor) work(ctx context.Context, q *queue.Local) {
	attempts := map[string]int{}
	for {
		n, err := q.Receive(ctx)
		if err != nil {
			return
		}
		st, err := p.Process(ctx, n.Key)
		switch {
		case err == nil:
			delete(attempts, n.Key)
			q.Done(n)
			p.Logger.Debug("object processed", "key", n.Key, "records", st.Records, "events", st.Events, "failures", st.Failures)
		case errors.Is(err, store.ErrStale):
			// Someone else committed this batch: look again from the top.
			q.Retry(ctx, n, 10*time.Millisecond)
		case ctx.Err() != nil:
			q.Done(n)
			return
		default:
			attempts[n.Key]++
			backoff := time.Duration(1<<min(attempts[n.Key], 8)) * 100 * time.Millisecond
			p.Logger.Error("processing failed, will retry", "key", n.Key, "attempt", attempts[n.Key], "retry_in", backoff, "err", err)
			if p.Metrics != nil {
				p.Metrics.ProcessErrors.WithLabelValues(n.Dataset).Inc()
			}
			q.Retry(ctx, n, backoff)
		}
	}
}

// block makes the store block of consecutive records, with the span of
// frames that hold them when the object has frames, its token filter, and
// its rows prepared (store.Block.Prepare).
func (p *Processor) block(key, dsName string, first int64, recs []dataset.Record, perRec [][]*event.Event, now time.Time, frames []archive.Frame, header []byte) store.Block {
	b := store.Block{Object: key, Dataset: dsName, FirstRecord: first,
		Records: recs, Events: perRec, Ingested: now, Header: header}
	if p.Index != nil {
		b.Bloom = p.Index(b.Records, b.Events)
	}
	if b.Bloom == nil {
		b.Bloom = []byte{}
	}
	if off, n, spanFirst, ok := archive.Span(frames, int(b.FirstRecord), len(b.Records)); ok {
		b.Ref = &store.ArchiveRef{Offset: off, Length: n, First: int64(spanFirst)}
	}
	// An event the store refuses (no @timestamp) fails the commit, which
	// prepares the block again and says why.
	_ = b.Prepare()
	return b
}
