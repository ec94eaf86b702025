// Package searchtest stores log lines through the real processor into a
// fresh event store, for the tests of what reads the store back (search,
// the API, dataset mappings). It is used only by tests.
//
// It does not import internal/search, whose own tests use it: callers
// give it search.IndexBlock and wrap the store it returns in search.New.
package searchtest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/pipeline"
	"github.com/mamori-sec/mamori/internal/query"
	"github.com/mamori-sec/mamori/internal/store"
)

// MemSource serves objects' records from memory, by object key.
type MemSource map[string][]dataset.Record

// OpenRecords implements pipeline.RecordSource.
func (m MemSource) OpenRecords(_ context.Context, key string) (pipeline.RecordReader, error) {
	return &memReader{recs: m[key], i: -1}, nil
}

type memReader struct {
	recs []dataset.Record
	i    int
}

func (r *memReader) Next() bool             { r.i++; return r.i < len(r.recs) }
func (r *memReader) Record() dataset.Record { return r.recs[r.i] }
func (r *memReader) Err() error             { return nil }
func (r *memReader) Close() error           { return nil }

// Records makes a record of each line, the first received at first and
// each next one step later, from peer ("" for none).
func Records(lines []string, first time.Time, step time.Duration, peer string) []dataset.Record {
	recs := make([]dataset.Record, len(lines))
	for i, l := range lines {
		recs[i] = dataset.Record{Data: []byte(l), Received: first.Add(time.Duration(i) * step), Peer: peer}
	}
	return recs
}

// SSHDLines are 40 sshd "Failed password" syslog lines a minute apart
// from Nov 20 00:00: hosts web-00 to web-03 in turn, the i-th from
// 198.51.100.i, alice the user of one in ten (i%10 == 3), bob of the
// others.
func SSHDLines() []string {
	lines := make([]string, 0, 40)
	for i := 0; i < 40; i++ {
		who := "bob"
		if i%10 == 3 {
			who = "alice"
		}
		lines = append(lines, fmt.Sprintf("<38>Nov 20 00:%02d:00 web-%02d sshd[%d]: Failed password for %s from 198.51.100.%d port 22", i, i%4, 100+i, who, i))
	}
	return lines
}

// Object is an archive object to store: its key, dataset and records.
type Object struct {
	Key     string
	Dataset string
	Records []dataset.Record
}

// Options say how Load processes the objects.
type Options struct {
	Datasets *dataset.Registry
	// Index builds the blocks' token filters: search.IndexBlock.
	Index func(recs []dataset.Record, events [][]*event.Event) []byte
	// Created is when the objects were archived, Now when they are
	// processed (ingest time).
	Created, Now time.Time
	// BatchRecords and BlockRecords are the processor's; small blocks
	// give a search several to choose from.
	BatchRecords, BlockRecords int
}

// OpenStore opens an empty store in t.TempDir(), with the query functions
// registered, and closes it when the test ends.
func OpenStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "db"), store.Options{Functions: query.RegisterFunctions})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Load opens a store as OpenStore does and processes the objects into
// it, in order, through the real processor.
func Load(t testing.TB, opts Options, objects ...Object) *store.Store {
	t.Helper()
	ctx := context.Background()
	st := OpenStore(t)
	src := MemSource{}
	for _, o := range objects {
		src[o.Key] = append(src[o.Key], o.Records...)
	}
	p := &pipeline.Processor{Source: src, Store: st, Datasets: opts.Datasets, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return opts.Now }, BatchRecords: opts.BatchRecords, BlockRecords: opts.BlockRecords, Index: opts.Index}
	for _, o := range objects {
		if _, err := st.AddObject(ctx, store.Object{Key: o.Key, Dataset: o.Dataset, Created: opts.Created}); err != nil {
			t.Fatalf("add %s: %v", o.Key, err)
		}
		if _, err := p.Process(ctx, o.Key); err != nil {
			t.Fatalf("process %s: %v", o.Key, err)
		}
	}
	return st
}
