package search

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/datasets"
	"github.com/mamori-sec/mamori/internal/pipeline"
	"github.com/mamori-sec/mamori/internal/search/searchtest"
	"github.com/mamori-sec/mamori/internal/store"
)

// brokenSource serves an object whose reading fails after its records, as a
// truncated zstd stream does.
type brokenSource struct{ searchtest.MemSource }

func (s brokenSource) OpenRecords(ctx context.Context, key string) (pipeline.RecordReader, error) {
	r, err := s.MemSource.OpenRecords(ctx, key)
	return &brokenReader{RecordReader: r}, err
}

type brokenReader struct {
	pipeline.RecordReader
	done bool
}

func (r *brokenReader) Next() bool {
	if r.RecordReader.Next() {
		return true
	}
	r.done = true
	return false
}

func (r *brokenReader) Err() error {
	if r.done {
		return errors.New("unexpected EOF")
	}
	return nil
}

// A broken object keeps every record read before the break, in every block
// and batch, and adds one failed event that says what broke, searchable.
func TestBrokenObjectKeepsWhatWasRead(t *testing.T) {
	ctx := context.Background()
	st := searchtest.OpenStore(t)
	reg := datasets.Builtin(datasets.Options{})
	key := "raw/syslog/2026/11/20/00/broken.ndjson.zst"
	lines := searchtest.SSHDLines()[:11]
	src := brokenSource{searchtest.MemSource{key: searchtest.Records(lines, t0, time.Minute, "192.0.2.1:514")}}
	if _, err := st.AddObject(ctx, store.Object{Key: key, Dataset: "syslog", Created: t0}); err != nil {
		t.Fatal(err)
	}
	// Batches of 4 records in blocks of 3: the note lands in a block with
	// archive records before it.
	p := &pipeline.Processor{Source: src, Store: st, Datasets: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return t0.Add(time.Hour) }, BatchRecords: 4, BlockRecords: 3, Index: IndexBlock}
	stats, err := p.Process(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Records != 12 || stats.Failures != 1 {
		t.Errorf("stats %+v, want 12 records (11 and the note) and 1 failure", stats)
	}
	if obj, _, _ := st.GetObject(ctx, key); !obj.Finished || obj.DoneRecords != 12 {
		t.Errorf("object done %d finished %v, want 12 and finished", obj.DoneRecords, obj.Finished)
	}
	s := New(st, reg, nil)
	all, err := s.Search(ctx, Request{Query: "sshd", Count: true, ExactCount: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if all.Total != 11 {
		t.Errorf("sshd: %d events, want the 11 records read", all.Total)
	}
	note, err := s.Search(ctx, Request{Query: "unreadable", Count: true, ExactCount: true})
	if err != nil {
		t.Fatal(err)
	}
	if note.Total != 1 || len(note.Events) != 1 {
		t.Fatalf("unreadable: %d events, want the note", note.Total)
	}
	if got := note.Events[0].String("event.original"); got != "mamori: archive object "+key+" unreadable after record 11: unexpected EOF" {
		t.Errorf("the note's text: %q", got)
	}
}
