// Package pipeline is the processor: it reads archive objects announced on
// the queue, parses each record with its dataset, completes the ECS
// documents, and commits them to the store together with the object's
// progress.
package pipeline

import (
	"fmt"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
)

// Normalize parses one record and completes every event the way the store
// expects it: a deterministic event.id from (key, index), event.dataset,
// event.original, event.ingested, @timestamp (the receive time when the log
// has none) and related.*. A record the parser rejects becomes one event
// with error.message and event.kind "pipeline_error", so it is kept and
// searchable; failed reports that.
func Normalize(ds dataset.Dataset, rec dataset.Record, key string, index int64, now time.Time) (events []*event.Event, failed bool) {
	// One copy of the record's text serves the parser and event.original
	// of all its events.
	rec = rec.WithText()
	parsed, err := safeParse(ds.Parser, rec)
	if err != nil {
		e := event.New(8)
		e.Set(event.FieldError, err.Error())
		e.Set(event.FieldKind, "pipeline_error")
		parsed = []*event.Event{e}
		failed = true
	}
	for sub, e := range parsed {
		complete(e, ds.Name, rec, key, index, sub, now)
	}
	return parsed, failed
}

// CompletedFields are the fields Normalize sets after parsing (and
// related.*): a query naming none of them can be matched on parsed events
// alone (see ParseOnly).
var CompletedFields = []string{event.FieldID, event.FieldDataset, event.FieldOriginal, event.FieldIngested,
	event.FieldTimestamp, event.FieldError, event.FieldKind}

// complete does to one parsed event what Normalize does after parsing.
// The typed setters store the values without boxing each one.
func complete(e *event.Event, dataset string, rec dataset.Record, key string, index int64, sub int, now time.Time) {
	e.SetString(event.FieldID, event.ID(key, index, sub))
	if !e.Has(event.FieldDataset) {
		e.SetString(event.FieldDataset, dataset)
	}
	if !e.Has(event.FieldOriginal) {
		e.SetString(event.FieldOriginal, rec.String())
	}
	e.SetTime(event.FieldIngested, now)
	if e.Time().IsZero() {
		e.SetTime(event.FieldTimestamp, receivedOr(rec.Received, now))
	}
	e.FillRelated()
}

func receivedOr(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}

// safeParse turns a parser panic into an error: one bad record must never
// stop the pipeline. Parsers are fuzzed, so this is a last line of defence.
func safeParse(p dataset.Parser, rec dataset.Record) (events []*event.Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			events, err = nil, fmt.Errorf("parser panic: %v", r)
		}
	}()
	return p.Parse(rec)
}
