// Package enrich adds to events, when they are used, fields that come from
// state outside their own record: who held an IP address at the time (DHCP
// leases, package enrich/dhcp) and where an address is (GeoIP, package
// enrich/geoip).
//
// mamori stores raw records and re-derives each event from its record when
// it is read, so a field added at ingest from outside state would not come
// back. Enrichment is therefore a step applied to events when they are
// used — search results and the detection stream — and its fields are not
// searchable: the store's columns and block filters know only what the
// record itself says. Every enricher records the fields it added in
// FieldEnriched, so that a reader can tell them apart.
package enrich

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"

	"github.com/mamori-sec/mamori/internal/event"
)

// FieldEnriched lists the fields enrichment added to an event.
const FieldEnriched = "mamori.enrichment.fields"

// Enricher adds fields to a batch of events in place. It never fails: a
// lookup that goes wrong leaves the event as it was (the enricher logs and
// counts the error). It never overwrites a field the event already has.
// Implementations are safe for concurrent use, and the package's own
// enrichers do nothing when called on a nil pointer.
type Enricher interface {
	Enrich(ctx context.Context, evs []*event.Event)
}

// Added records in FieldEnriched that fields were added to e.
func Added(e *event.Event, fields ...string) {
	switch {
	case len(fields) == 0:
	case !e.Has(FieldEnriched):
		// One allocation, and no aliasing of the caller's buffer.
		e.Set(FieldEnriched, slices.Clone(fields))
	default:
		e.Append(FieldEnriched, fields...)
	}
}

// Chain runs enrichers in order over the same batch. A nil *Chain does
// nothing.
type Chain struct {
	enrichers []Enricher
	logger    *slog.Logger
	panics    atomic.Int64
}

// NewChain returns a chain of the non-nil enrichers given. logger receives
// the report of an enricher that panicked (nil means slog.Default()).
func NewChain(logger *slog.Logger, enrichers ...Enricher) *Chain {
	if logger == nil {
		logger = slog.Default()
	}
	c := &Chain{logger: logger}
	for _, e := range enrichers {
		if e != nil {
			c.enrichers = append(c.enrichers, e)
		}
	}
	return c
}

// Enrich runs every enricher of the chain over evs. It stops early when ctx
// is done (the events keep what was added so far).
func (c *Chain) Enrich(ctx context.Context, evs []*event.Event) {
	if c == nil || len(evs) == 0 {
		return
	}
	for _, e := range c.enrichers {
		if ctx.Err() != nil {
			return
		}
		c.run(ctx, e, evs)
	}
}

// Panics is how many enricher calls panicked and were recovered.
func (c *Chain) Panics() int64 {
	if c == nil {
		return 0
	}
	return c.panics.Load()
}

// run calls one enricher, recovering a panic: enrichment decorates
// results and must never fail the search or stop the detection stream
// that asked for it.
func (c *Chain) run(ctx context.Context, e Enricher, evs []*event.Event) {
	defer func() {
		if r := recover(); r != nil {
			c.panics.Add(1)
			c.logger.Error("enrichment panicked; the batch keeps what was added before",
				"enricher", fmt.Sprintf("%T", e), "panic", fmt.Sprint(r))
		}
	}()
	e.Enrich(ctx, evs)
}
