package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func testEvent(key string, i int, ts time.Time) *event.Event {
	e := event.New(16)
	e.Set(event.FieldTimestamp, ts)
	e.Set(event.FieldID, event.ID(key, int64(i), 0))
	e.Set(event.FieldDataset, "syslog")
	e.Set(event.FieldMessage, fmt.Sprintf("message %d", i))
	e.Set(event.FieldOriginal, fmt.Sprintf("<13>raw %d", i))
	e.Set("source.ip", "192.0.2.1")
	e.Set("source.port", int64(1000+i))
	e.Set("event.category", []string{"network"})
	e.Set("custom.value", int64(i))
	e.FillRelated()
	return e
}

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mamori.duckdb")
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s, path
}

func TestCommitBatchIsAtomicAndOrdered(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	key := "raw/syslog/a"
	if added, err := s.AddObject(ctx, Object{Key: key, Dataset: "syslog", Created: t0}); err != nil || !added {
		t.Fatalf("add: %v %v", added, err)
	}
	if added, _ := s.AddObject(ctx, Object{Key: key, Dataset: "syslog", Created: t0}); added {
		t.Fatal("adding a known key again reported added")
	}
	var batch []*event.Event
	for i := 0; i < 10; i++ {
		// out of time order on purpose
		batch = append(batch, testEvent(key, i, t0.Add(time.Duration(10-i)*time.Second)))
	}
	if err := s.CommitBatch(ctx, 0, Progress{Key: key, DoneRecords: 10, Events: 10, At: t0}, batch); err != nil {
		t.Fatal(err)
	}
	// The same batch again does not follow the stored progress.
	err := s.CommitBatch(ctx, 0, Progress{Key: key, DoneRecords: 10, Events: 10, At: t0}, batch)
	if !errors.Is(err, ErrStale) {
		t.Fatalf("re-commit: got %v, want ErrStale", err)
	}
	// A batch with an invalid event rolls back entirely, progress included.
	bad := testEvent(key, 10, t0)
	bad.Delete(event.FieldTimestamp)
	if err := s.CommitBatch(ctx, 10, Progress{Key: key, DoneRecords: 12, Finished: true, At: t0},
		[]*event.Event{testEvent(key, 11, t0), bad}); err == nil {
		t.Fatal("batch with an event without @timestamp committed")
	}
	o, _, err := s.GetObject(ctx, key)
	if err != nil || o.DoneRecords != 10 || o.Finished || o.Events != 10 {
		t.Fatalf("progress after failed batch: %+v %v", o, err)
	}
	s.Close()

	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Search(ctx, Search{Asc: true, Count: true, Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 10 || len(res.Events) != 4 || res.Next == "" {
		t.Fatalf("first page: total %d, %d events, next %q", res.Total, len(res.Events), res.Next)
	}
	var seen []time.Time
	cur := ""
	for {
		r, err := s.Search(ctx, Search{Asc: true, Limit: 4, Cursor: cur})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range r.Events {
			seen = append(seen, e.Time())
		}
		if r.Next == "" {
			break
		}
		cur = r.Next
	}
	if len(seen) != 10 {
		t.Fatalf("paged through %d events, want 10", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if !seen[i].After(seen[i-1]) {
			t.Fatalf("not in ascending time order at %d: %v", i, seen)
		}
	}
	// The document comes back whole.
	e := res.Events[0]
	if e.String("message") == "" || e.String("event.original") == "" || e.String("custom.value") == "" ||
		e.String("source.ip") != "192.0.2.1" || len(e.Strings("related.ip")) != 1 {
		t.Fatalf("document not restored: %v", e.Keys())
	}
}

func TestSearchFilterAndRange(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	key := "k"
	if _, err := s.AddObject(ctx, Object{Key: key, Dataset: "syslog", Created: t0}); err != nil {
		t.Fatal(err)
	}
	var batch []*event.Event
	for i := 0; i < 100; i++ {
		batch = append(batch, testEvent(key, i, t0.Add(time.Duration(i)*time.Minute)))
	}
	if err := s.CommitBatch(ctx, 0, Progress{Key: key, DoneRecords: 100, Finished: true, At: t0}, batch); err != nil {
		t.Fatal(err)
	}
	n, err := s.Count(ctx, Search{From: t0.Add(10 * time.Minute), To: t0.Add(20 * time.Minute)})
	if err != nil || n != 10 {
		t.Fatalf("range count %d %v, want 10", n, err)
	}
	n, err = s.Count(ctx, Search{Where: "source_port >= ?", Args: []any{1090}})
	if err != nil || n != 10 {
		t.Fatalf("filter count %d %v, want 10", n, err)
	}
	if _, err := s.Search(ctx, Search{Cursor: "not-a-cursor"}); !errors.Is(err, ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
	deleted, err := s.DeleteBefore(ctx, "syslog", t0.Add(50*time.Minute))
	if err != nil || deleted != 50 {
		t.Fatalf("retention deleted %d %v, want 50", deleted, err)
	}
	pending, err := s.PendingObjects(ctx, 10)
	if err != nil || len(pending) != 0 {
		t.Fatalf("pending %v %v", pending, err)
	}
}
