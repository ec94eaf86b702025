package pipeline

import (
	"fmt"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/store"
)

// Resolve returns the dataset an object's records are parsed with. A name
// the registry does not know (a dataset removed from the configuration
// since the object was archived) falls back to recognising each record.
func Resolve(reg *dataset.Registry, name string) dataset.Dataset {
	if ds, ok := reg.Lookup(name); ok {
		return ds
	}
	return dataset.Dataset{Name: name, Parser: dataset.ParserFunc(func(rec dataset.Record) ([]*event.Event, error) {
		ds, ok := reg.Detect(rec.Data)
		if !ok {
			return nil, fmt.Errorf("no dataset named %q and none recognises the record", name)
		}
		return ds.Parser.Parse(rec)
	})}
}

// Derive re-creates the events of one record of a stored block. Parsing is
// deterministic, and the block keeps everything Normalize used at ingest
// (the record, its object key and position, the ingest time), so the events
// are the ones that were indexed.
func Derive(reg *dataset.Registry, b *store.BlockData, off int) []*event.Event {
	if off < 0 || off >= len(b.Records) {
		return nil
	}
	evs, _ := Normalize(Resolve(reg, b.Dataset), b.Records[off], b.Object, b.FirstRecord+int64(off), b.Ingested)
	return evs
}

// ParseOnly re-parses one record of a stored block without completing its
// events (no event.id, related.* and the rest Normalize adds): cheaper, and
// enough to match a query that names none of CompletedFields, related.* or
// a keyword. A record that fails to parse gives no events. Complete
// finishes an event of it.
func ParseOnly(reg *dataset.Registry, b *store.BlockData, off int) []*event.Event {
	if off < 0 || off >= len(b.Records) {
		return nil
	}
	evs, err := safeParse(Resolve(reg, b.Dataset).Parser, b.Records[off])
	if err != nil {
		return nil
	}
	return evs
}

// Complete finishes event sub of record off of a block, as parsed by
// ParseOnly, into the event Derive gives.
func Complete(b *store.BlockData, off, sub int, e *event.Event) {
	complete(e, b.Dataset, b.Records[off], b.Object, b.FirstRecord+int64(off), sub, b.Ingested)
}
