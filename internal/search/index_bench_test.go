package search

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/bench"
	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/pipeline"
	"github.com/mamori-sec/mamori/internal/store"
	"github.com/mamori-sec/mamori/internal/tokens"
)

// benchBlock is a block of the synthetic data `mamori bench` loads (Deep
// Security CEF, Linux syslog, CloudTrail-like JSON), normalised as the
// processor does.
func benchBlock(b testing.TB, n int) ([]dataset.Record, [][]*event.Event) {
	b.Helper()
	end := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	g, err := bench.NewGenerator(bench.GenConfig{Events: int64(n), Days: 1, End: end, Seed: 7, Mix: bench.DefaultMix, Needles: bench.DefaultNeedles})
	if err != nil {
		b.Fatal(err)
	}
	reg := datasets.Builtin(datasets.Options{})
	recs := make([]dataset.Record, 0, n)
	evs := make([][]*event.Event, 0, n)
	for {
		kind, line, ok := g.Next(nil)
		if !ok {
			break
		}
		name := "syslog"
		if kind == bench.KindJSON {
			name = "json"
		}
		rec := dataset.Record{Data: line, Received: end}.WithText() // as the processor reads it
		ds := pipeline.Resolve(reg, name)
		if d, ok := reg.Detect(line); ok {
			ds = d
		}
		es, _ := pipeline.Normalize(ds, rec, "raw/bench", int64(len(recs)), end)
		recs = append(recs, rec)
		evs = append(evs, es)
	}
	return recs, evs
}

// BenchmarkIndexBlock times an Indexer, as the processor uses one.
func BenchmarkIndexBlock(b *testing.B) {
	recs, evs := benchBlock(b, 4096)
	var ix Indexer
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		ix.Index(recs, evs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}

// TestIndexBlockSkipsOnlyCoveredValues holds IndexBlock's shortcut (values
// the raw text covers are not tokenized) to giving the very filter that
// tokenizing every value gives.
func TestIndexBlockSkipsOnlyCoveredValues(t *testing.T) {
	recs, evs := benchBlock(t, 2000)
	naive := tokens.NewBuilder(BloomFPR)
	for i, r := range recs {
		naive.Add(r.Data)
		for _, e := range evs[i] {
			e.Range(func(_ string, v any) {
				switch x := v.(type) {
				case string:
					naive.AddString(x)
				case []string:
					for _, s := range x {
						naive.AddString(s)
					}
				case []any:
					for _, el := range x {
						if s, ok := el.(string); ok {
							naive.AddString(s)
						}
					}
				}
			})
		}
	}
	want := naive.Build().Marshal()
	if got := IndexBlock(recs, evs); !bytes.Equal(got, want) {
		t.Fatalf("IndexBlock's filter (%d bytes) differs from the filter of every token (%d bytes)", len(got), len(want))
	}
	// An Indexer that indexed another block first gives the same filter:
	// nothing of the first block stays in its reused state.
	var ix Indexer
	ix.Index(recs[:1000], evs[:1000])
	ix.Index(recs[1000:], evs[1000:])
	if got := ix.Index(recs, evs); !bytes.Equal(got, want) {
		t.Fatalf("a reused Indexer's filter (%d bytes) differs from the filter of every token (%d bytes)", len(got), len(want))
	}
}

func TestOffsetInFindsOnlySlicesOfTheText(t *testing.T) {
	text := string([]byte("src=10.0.0.1 user=alice")) // a string of its own memory
	if i, ok := offsetIn(text, text[4:12]); !ok || i != 4 {
		t.Errorf("offsetIn(text, text[4:12]) = %d, %v; want 4, true", i, ok)
	}
	if i, ok := offsetIn(text, text[18:]); !ok || i != 18 {
		t.Errorf("offsetIn(text, text[18:]) = %d, %v; want 18, true", i, ok)
	}
	if i, ok := offsetIn(text, text); !ok || i != 0 {
		t.Errorf("offsetIn(text, text) = %d, %v; want 0, true", i, ok)
	}
	// Equal contents elsewhere in memory are not a slice of the text.
	if _, ok := offsetIn(text, string([]byte("alice"))); ok {
		t.Error("offsetIn found a copy of a substring in the text")
	}
	// A slice that runs past the text's end is not within it.
	longer := text + "@example.com"
	if _, ok := offsetIn(longer[:len(text)-2], longer[len(text)-5:]); ok {
		t.Error("offsetIn accepted a slice that ends beyond the text")
	}
	if _, ok := offsetIn(text, ""); ok {
		t.Error("offsetIn accepted an empty string")
	}
}

// BenchmarkPrepareBlock times building a block's events rows
// (store.Block.Prepare) from the bench's events: it lives here, beside the
// block those events make.
func BenchmarkPrepareBlock(b *testing.B) {
	recs, evs := benchBlock(b, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		blk := store.Block{Records: recs, Events: evs}
		if err := blk.Prepare(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}

// BenchmarkCommitBlock times storing the bench's events: one 4096-record
// block a batch, each batch an object of its own, in a database on disk
// (appender, transaction and WAL; the block file is written too): what
// the server does under the store's write lock. As in the server, the
// block's rows are prepared beforehand (not timed), and with a local
// archive blocks point at their records there rather than keep a copy.
func BenchmarkCommitBlock(b *testing.B) {
	ctx := context.Background()
	recs, evs := benchBlock(b, 4096)
	s, err := store.Open(ctx, filepath.Join(b.TempDir(), "mamori.duckdb"), store.Options{MemoryLimit: "512MB", Archive: unreadArchive{}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		key := fmt.Sprintf("raw/bench/%d", i)
		if _, err := s.AddObject(ctx, store.Object{Key: key, Dataset: "syslog", Size: 1, Created: at}); err != nil {
			b.Fatal(err)
		}
		blk := store.Block{Object: key, Dataset: "syslog", Records: recs, Events: evs, Ingested: at, Bloom: []byte{1},
			Ref: &store.ArchiveRef{Offset: 0, Length: 1 << 20, First: 0}}
		if err := blk.Prepare(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		p := store.Progress{Key: key, DoneRecords: int64(len(recs)), Finished: true, Events: int64(len(recs)), At: at}
		if err := s.CommitBatch(ctx, 0, p, []store.Block{blk}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/record")
}

// unreadArchive is an archive the benchmark never reads from.
type unreadArchive struct{}

func (unreadArchive) ReadRange(context.Context, string, int64, int64) ([]byte, error) {
	return nil, fmt.Errorf("not read in this benchmark")
}
