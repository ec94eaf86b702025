package auth

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mamori-sec/mamori/internal/datasets/mamoriaudit"
	"github.com/mamori-sec/mamori/internal/intake"
)

// Auditor writes audit records through the intake path, as any log: each
// batch is archived before it is indexed as dataset mamori.audit. Records
// are buffered and written together (Flush), so that a busy console does
// not write an archive object per request; the server flushes every
// auth.audit_flush_interval and at shutdown.
type Auditor struct {
	sink   intake.Sink
	logger *slog.Logger
	now    func() time.Time

	mu  sync.Mutex
	buf []intake.Record
	// dropped counts records lost because the archive refused them for
	// too long (the buffer is bounded).
	dropped int
}

// maxAuditBuffer bounds the records held while the archive cannot take
// them.
const maxAuditBuffer = 100_000

// NewAuditor returns an auditor writing to sink.
func NewAuditor(sink intake.Sink, logger *slog.Logger, now func() time.Time) *Auditor {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Auditor{sink: sink, logger: logger, now: now}
}

// Record queues a record (its time is now when unset). A nil Auditor
// records nothing.
func (a *Auditor) Record(rec mamoriaudit.Record) {
	if a == nil {
		return
	}
	if rec.Time.IsZero() {
		rec.Time = a.now()
	}
	rec.Time = rec.Time.UTC()
	r := intake.Record{Data: rec.Marshal(), Received: rec.Time}
	if rec.SourceIP != "" {
		r.Peer = rec.SourceIP
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.buf) >= maxAuditBuffer {
		a.buf = a.buf[1:]
		a.dropped++
	}
	a.buf = append(a.buf, r)
}

// Flush writes the queued records as one batch. Records the sink refuses
// stay queued for the next flush.
func (a *Auditor) Flush(ctx context.Context) error {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	recs := a.buf
	a.buf = nil
	dropped := a.dropped
	a.dropped = 0
	a.mu.Unlock()
	if dropped > 0 {
		a.logger.Error("audit records dropped: the archive refused them for too long", "records", dropped)
	}
	if len(recs) == 0 {
		return nil
	}
	err := a.sink.Write(ctx, intake.Batch{Dataset: mamoriaudit.Name, Listener: "audit", Records: recs})
	if err != nil {
		a.mu.Lock()
		a.buf = append(recs, a.buf...)
		if over := len(a.buf) - maxAuditBuffer; over > 0 {
			a.buf = a.buf[over:]
			a.dropped += over
		}
		a.mu.Unlock()
		return fmt.Errorf("audit: %d records not archived yet: %w", len(recs), err)
	}
	return nil
}

// Pending counts the records waiting for a flush.
func (a *Auditor) Pending() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.buf)
}

// WriteBatch writes a batch of its own at once (the named batches of
// token changes).
func (a *Auditor) WriteBatch(ctx context.Context, b intake.Batch) error {
	if a == nil {
		return nil
	}
	if err := a.sink.Write(ctx, b); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}
