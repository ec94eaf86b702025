package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func testEvent(key string, i int, ts time.Time) *event.Event {
	e := event.New(16)
	e.Set(event.FieldTimestamp, ts)
	e.Set(event.FieldID, event.ID(key, int64(i), 0))
	e.Set(event.FieldDataset, "syslog")
	e.Set("source.ip", "192.0.2.1")
	e.Set("source.port", int64(1000+i))
	e.Set("event.category", []string{"network"})
	e.FillRelated()
	return e
}

// testBlock makes a block of n records starting at record first, one event
// per record, the i-th at times(i).
func testBlock(key string, first, n int, times func(i int) time.Time) Block {
	b := Block{Object: key, Dataset: "syslog", FirstRecord: int64(first), Ingested: t0, Bloom: []byte{1, 2, 3}}
	for i := first; i < first+n; i++ {
		b.Records = append(b.Records, dataset.Record{Data: []byte(fmt.Sprintf("<13>raw %d \xff", i)), Received: t0, Peer: "192.0.2.9:514"})
		b.Events = append(b.Events, []*event.Event{testEvent(key, i, times(i))})
	}
	return b
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

// mustAddObject registers an object or fails the test.
func mustAddObject(t *testing.T, s *Store, o Object) {
	t.Helper()
	if _, err := s.AddObject(context.Background(), o); err != nil {
		t.Fatal(err)
	}
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
	// out of time order on purpose, in two blocks
	rev := func(i int) time.Time { return t0.Add(time.Duration(10-i) * time.Second) }
	blocks := []Block{testBlock(key, 0, 6, rev), testBlock(key, 6, 4, rev)}
	if err := s.CommitBatch(ctx, 0, Progress{Key: key, DoneRecords: 10, Events: 10, At: t0}, blocks); err != nil {
		t.Fatal(err)
	}
	// The same batch again does not follow the stored progress.
	err := s.CommitBatch(ctx, 0, Progress{Key: key, DoneRecords: 10, Events: 10, At: t0}, blocks)
	if !errors.Is(err, ErrStale) {
		t.Fatalf("re-commit: got %v, want ErrStale", err)
	}
	// A batch with an invalid event rolls back entirely, progress included.
	bad := testBlock(key, 10, 2, rev)
	bad.Events[1][0].Delete(event.FieldTimestamp)
	if err := s.CommitBatch(ctx, 10, Progress{Key: key, DoneRecords: 12, Finished: true, At: t0}, []Block{bad}); err == nil {
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
	n, err := s.Count(ctx, RowQuery{})
	if err != nil || n != 10 {
		t.Fatalf("count %d %v, want 10", n, err)
	}
	var seen []Position
	var after *Position
	for {
		rows, err := s.Rows(ctx, RowQuery{Asc: true, Limit: 4, After: after})
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, rows...)
		if len(rows) < 4 {
			break
		}
		after = &rows[len(rows)-1]
	}
	if len(seen) != 10 {
		t.Fatalf("paged through %d events, want 10", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if !seen[i].TS.After(seen[i-1].TS) {
			t.Fatalf("not in ascending time order at %d: %v", i, seen)
		}
	}
	// Every position leads back to its record, byte for byte.
	for _, p := range seen {
		b, err := s.ReadBlock(ctx, p.Blk)
		if err != nil {
			t.Fatal(err)
		}
		rec := b.FirstRecord + int64(p.Off)
		want := fmt.Sprintf("<13>raw %d \xff", rec)
		if got := string(b.Records[p.Off].Data); got != want || b.Object != key || !b.Ingested.Equal(t0) {
			t.Fatalf("position %+v: record %q from %s, want %q", p, got, b.Object, want)
		}
		if b.Records[p.Off].Peer != "192.0.2.9:514" || !b.Records[p.Off].Received.Equal(t0) {
			t.Fatalf("record metadata lost: %+v", b.Records[p.Off])
		}
		// the event at that position was stored at the time the record's event had
		if !p.TS.Equal(rev(int(rec))) {
			t.Fatalf("position %+v: time %v, want %v", p, p.TS, rev(int(rec)))
		}
	}
	// New blocks after a restart get new ids.
	if err := s.CommitBatch(ctx, 10, Progress{Key: key, DoneRecords: 11, Finished: true, At: t0},
		[]Block{testBlock(key, 10, 1, rev)}); err != nil {
		t.Fatal(err)
	}
	infos, err := s.BlocksIn(ctx, time.Time{}, time.Time{}, true)
	if err != nil || len(infos) != 3 || infos[0].Blk == infos[2].Blk || infos[2].Blk == infos[1].Blk {
		t.Fatalf("blocks %+v %v", infos, err)
	}
	blooms, err := s.Blooms(ctx, []int64{infos[0].Blk})
	if err != nil || string(blooms[infos[0].Blk]) != "\x01\x02\x03" {
		t.Fatalf("bloom %v %v", blooms, err)
	}
}

func TestRowsFilterRangeAndRetention(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	key := "k"
	mustAddObject(t, s, Object{Key: key, Dataset: "syslog", Created: t0})
	minute := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	var blocks []Block
	for b := 0; b < 10; b++ {
		blocks = append(blocks, testBlock(key, b*10, 10, minute))
	}
	if err := s.CommitBatch(ctx, 0, Progress{Key: key, DoneRecords: 100, Finished: true, At: t0}, blocks); err != nil {
		t.Fatal(err)
	}
	n, err := s.Count(ctx, RowQuery{From: minute(10), To: minute(20)})
	if err != nil || n != 10 {
		t.Fatalf("range count %d %v, want 10", n, err)
	}
	n, err = s.Count(ctx, RowQuery{Where: "source_port >= ?", Args: []any{1090}})
	if err != nil || n != 10 {
		t.Fatalf("filter count %d %v, want 10", n, err)
	}
	for _, tt := range []struct {
		limit, want int64
		complete    bool
	}{{5, 5, false}, {9, 9, false}, {10, 10, true}, {50, 10, true}} {
		n, complete, err := s.CountUpTo(ctx, RowQuery{Where: "source_port >= ?", Args: []any{1090}}, tt.limit)
		if err != nil || n != tt.want || complete != tt.complete {
			t.Errorf("CountUpTo(limit %d) = %d, %v, %v; want %d, %v", tt.limit, n, complete, err, tt.want, tt.complete)
		}
	}
	infos, err := s.BlocksIn(ctx, minute(25), minute(45), false)
	if err != nil || len(infos) != 3 || infos[0].MinTS.Before(infos[2].MinTS) {
		t.Fatalf("blocks in range, newest first: %+v %v", infos, err)
	}
	n, err = s.Count(ctx, RowQuery{Blocks: []int64{infos[0].Blk}})
	if err != nil || n != 10 {
		t.Fatalf("count in one block %d %v", n, err)
	}
	if _, err := DecodeCursor("not-a-cursor"); !errors.Is(err, ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
	p := Position{TS: minute(3), Blk: 7, Off: 2, Sub: 1}
	if back, err := DecodeCursor(EncodeCursor(p)); err != nil || back != p {
		t.Fatalf("cursor round trip %+v %v", back, err)
	}
	deleted, err := s.DeleteBefore(ctx, "syslog", minute(50))
	if err != nil || deleted != 50 {
		t.Fatalf("retention deleted %d %v, want 50", deleted, err)
	}
	infos, err = s.BlocksIn(ctx, time.Time{}, time.Time{}, true)
	if err != nil || len(infos) != 5 {
		t.Fatalf("blocks left after retention: %d %v, want 5", len(infos), err)
	}
	if files := blockFileCount(t, s.files.dir); files != 5 {
		t.Fatalf("%d block files left after retention, want 5", files)
	}
}

func blockFileCount(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestUncommittedBlockFilesAreRemoved(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	key := "k"
	mustAddObject(t, s, Object{Key: key, Dataset: "syslog", Created: t0})
	same := func(int) time.Time { return t0 }
	if err := s.CommitBatch(ctx, 0, Progress{Key: key, DoneRecords: 2, At: t0}, []Block{testBlock(key, 0, 2, same)}); err != nil {
		t.Fatal(err)
	}
	// A failed commit leaves no file behind.
	if err := s.CommitBatch(ctx, 5, Progress{Key: key, DoneRecords: 7, At: t0}, []Block{testBlock(key, 5, 2, same)}); err == nil {
		t.Fatal("stale batch committed")
	}
	if n := blockFileCount(t, s.files.dir); n != 1 {
		t.Fatalf("%d block files after a failed commit, want 1", n)
	}
	// A crash between writing files and committing leaves some: the next
	// Open removes them, and keeps the committed one.
	if err := s.files.write(s.nextBlk+3, []byte{1}, []byte{2}); err != nil {
		t.Fatal(err)
	}
	dir := s.files.dir
	s.Close()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n := blockFileCount(t, dir); n != 1 {
		t.Fatalf("%d block files after reopening, want 1", n)
	}
	if _, err := s.ReadBlock(ctx, 1); err != nil {
		t.Fatal(err)
	}
}
