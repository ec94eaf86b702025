package search

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/pipeline"
	"github.com/mamori-sec/mamori/internal/search/searchtest"
	"github.com/mamori-sec/mamori/internal/store"
)

// columns is a dataset whose objects name their columns in the first line.
func columns() dataset.Dataset {
	return dataset.Dataset{Name: "columns", HeaderLine: true, Parser: dataset.ParserFunc(func(rec dataset.Record) ([]*event.Event, error) {
		if string(rec.Data) == string(rec.Header) {
			return nil, nil // the header itself
		}
		names, values := strings.Fields(string(rec.Header)), strings.Fields(string(rec.Data))
		if len(names) == 0 || len(names) != len(values) {
			return nil, errors.New("columns: record does not fit the header")
		}
		ev := event.New(len(names))
		for i, n := range names {
			ev.Set("columns."+n, values[i])
		}
		return []*event.Event{ev}, nil
	})}
}

// stoppingSource cancels the processing context after `after` records,
// once: a shutdown in the middle of an object.
type stoppingSource struct {
	searchtest.MemSource
	after  int
	cancel context.CancelFunc
}

func (f *stoppingSource) OpenRecords(ctx context.Context, key string) (pipeline.RecordReader, error) {
	r, _ := f.MemSource.OpenRecords(ctx, key)
	if f.cancel == nil {
		return r, nil
	}
	cancel := f.cancel
	f.cancel = nil
	return &stoppingReader{RecordReader: r, left: f.after, cancel: cancel}, nil
}

type stoppingReader struct {
	pipeline.RecordReader
	left   int
	cancel context.CancelFunc
}

func (c *stoppingReader) Next() bool {
	if c.left == 0 {
		c.cancel()
	}
	c.left--
	return c.RecordReader.Next()
}

// Every record of an object, in every batch and block, and after a
// restart in the middle of the object, is parsed with the object's first
// line as its header, at ingest and when read back by a search.
func TestHeaderLineReachesEveryRecord(t *testing.T) {
	ctx := context.Background()
	st := searchtest.OpenStore(t)
	reg := dataset.NewRegistry(columns())
	key := "ext/flows/1.log"
	recs := []dataset.Record{{Data: []byte("src action")}}
	for i := 0; i < 9; i++ {
		action := "ACCEPT"
		if i%3 == 2 {
			action = "REJECT"
		}
		recs = append(recs, dataset.Record{Data: []byte("10.0.0." + string(rune('1'+i)) + " " + action), Received: t0.Add(time.Duration(i) * time.Minute)})
	}
	stopCtx, cancel := context.WithCancel(ctx)
	src := &stoppingSource{MemSource: searchtest.MemSource{key: recs}, after: 5, cancel: cancel}
	if _, err := st.AddObject(ctx, store.Object{Key: key, Dataset: "columns", Created: t0}); err != nil {
		t.Fatal(err)
	}
	p := &pipeline.Processor{Source: src, Store: st, Datasets: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return t0 }, BatchRecords: 2, BlockRecords: 1, Index: IndexBlock}
	if _, err := p.Process(stopCtx, key); err == nil {
		t.Fatal("first run was not stopped")
	}
	if obj, _, _ := st.GetObject(ctx, key); obj.DoneRecords == 0 || obj.Finished {
		t.Fatalf("after the stop: %d records done, finished %v; want a partly processed object", obj.DoneRecords, obj.Finished)
	}
	if _, err := p.Process(ctx, key); err != nil {
		t.Fatalf("second run: %v", err)
	}
	s := New(st, reg, nil)
	res, err := s.Search(ctx, Request{Query: "columns.action:REJECT", Count: true, ExactCount: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 3 || len(res.Events) != 3 {
		t.Fatalf("REJECT: total %d, %d events, want 3", res.Total, len(res.Events))
	}
	for _, e := range res.Events {
		if e.String("columns.src") == "" || e.String(event.FieldError) != "" {
			t.Errorf("event %v", e)
		}
	}
	all, err := s.Search(ctx, Request{Query: "_exists_:error.message", Count: true, ExactCount: true})
	if err != nil {
		t.Fatal(err)
	}
	if all.Total != 0 {
		t.Errorf("%d records failed to parse: %v", all.Total, all.Events)
	}
}
