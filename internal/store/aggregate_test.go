package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
)

// aggBlock makes a block of one event per record; ev fills each event.
func aggBlock(key, ds string, first, n int, ingested time.Time, ev func(i int, e *event.Event)) Block {
	b := Block{Object: key, Dataset: ds, FirstRecord: int64(first), Ingested: ingested, Bloom: []byte{1}}
	for i := first; i < first+n; i++ {
		e := event.New(16)
		e.Set(event.FieldID, event.ID(key, int64(i), 0))
		e.Set(event.FieldDataset, ds)
		ev(i, e)
		b.Records = append(b.Records, dataset.Record{Data: []byte(fmt.Sprintf("raw %d", i)), Received: ingested})
		b.Events = append(b.Events, []*event.Event{e})
	}
	return b
}

func commitBlocks(t *testing.T, s *Store, key string, blocks ...Block) {
	t.Helper()
	ctx := context.Background()
	mustAddObject(t, s, Object{Key: key, Dataset: blocks[0].Dataset, Created: t0})
	n := 0
	for _, b := range blocks {
		n += len(b.Records)
	}
	if err := s.CommitBatch(ctx, 0, Progress{Key: key, DoneRecords: int64(n), Finished: true, Events: int64(n), At: t0}, blocks); err != nil {
		t.Fatal(err)
	}
}

func TestBucketsCountPerBucketAndBlock(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	// Block 1: events at minutes 0..9; block 2: minutes 5..14. Host a for
	// even minutes, b for odd ones.
	fill := func(off int) func(i int, e *event.Event) {
		return func(i int, e *event.Event) {
			e.Set(event.FieldTimestamp, t0.Add(time.Duration(i-off+off/2)*time.Minute))
			e.Set("host.name", []string{"a", "b"}[i%2])
		}
	}
	commitBlocks(t, s, "k1", aggBlock("k1", "syslog", 0, 10, t0, fill(0)))
	commitBlocks(t, s, "k2", aggBlock("k2", "syslog", 10, 10, t0, fill(10)))

	width := 5 * time.Minute
	got, err := s.Buckets(ctx, RowQuery{}, t0, width)
	if err != nil {
		t.Fatal(err)
	}
	// minutes 0-4: 5 events; 5-9: 5 + 5; 10-14: 5.
	want := []BucketCount{{Bucket: 0, Count: 5}, {Bucket: 1, Count: 10}, {Bucket: 2, Count: 5}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("buckets = %v, want %v", got, want)
	}
	// A filter and a range apply as in a search.
	got, err = s.Buckets(ctx, RowQuery{Where: "host_name = ?", Args: []any{"a"}, From: t0.Add(5 * time.Minute)}, t0, width)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, c := range got {
		n += c.Count
	}
	if want, _ := s.Count(ctx, RowQuery{Where: "host_name = ?", Args: []any{"a"}, From: t0.Add(5 * time.Minute)}); n != want || n == 0 {
		t.Fatalf("filtered buckets sum to %d, count says %d", n, want)
	}
	byBlock, err := s.BlockBuckets(ctx, RowQuery{}, t0, width)
	if err != nil {
		t.Fatal(err)
	}
	per := map[[2]int64]int64{}
	for _, c := range byBlock {
		per[[2]int64{c.Blk, c.Bucket}] = c.Count
	}
	if per[[2]int64{1, 0}] != 5 || per[[2]int64{1, 1}] != 5 || per[[2]int64{2, 1}] != 5 || per[[2]int64{2, 2}] != 5 || len(per) != 4 {
		t.Fatalf("per block = %v", per)
	}
	if _, err := s.Buckets(ctx, RowQuery{}, t0, 0); err == nil {
		t.Fatal("a zero width was accepted")
	}
	lo, hi, err := s.TimeBounds(ctx)
	if err != nil || !lo.Equal(t0) || !hi.Equal(t0.Add(14*time.Minute)) {
		t.Fatalf("bounds %v %v %v", lo, hi, err)
	}
}

func TestTopValues(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	commitBlocks(t, s, "k", aggBlock("k", "syslog", 0, 12, t0, func(i int, e *event.Event) {
		e.Set(event.FieldTimestamp, t0.Add(time.Duration(i)*time.Second))
		// host: h0 ×6, h1 ×4, h2 ×2
		e.Set("host.name", fmt.Sprintf("h%d", min(i/6, 1)+i/10))
		e.Set("source.port", int64(22+i%2))
		e.Set("event.category", []string{"network", fmt.Sprintf("c%d", i%3)})
	}))
	top, total, ok, err := s.TopValues(ctx, RowQuery{}, "host.name", 2, 0)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if fmt.Sprint(top) != "[{h0 6} {h1 4}]" || total != 12 {
		t.Fatalf("host.name top = %v total %d", top, total)
	}
	top, total, _, err = s.TopValues(ctx, RowQuery{}, "source.port", 5, 0)
	if err != nil || fmt.Sprint(top) != "[{22 6} {23 6}]" || total != 12 {
		t.Fatalf("source.port top = %v total %d err %v", top, total, err)
	}
	// A list column counts each element.
	top, total, _, err = s.TopValues(ctx, RowQuery{}, "event.category", 2, 0)
	if err != nil || fmt.Sprint(top) != "[{network 12} {c0 4}]" || total != 24 {
		t.Fatalf("event.category top = %v total %d err %v", top, total, err)
	}
	top, _, _, err = s.TopValues(ctx, RowQuery{Where: "source_port = ?", Args: []any{int64(23)}}, "host.name", 10, 0)
	if err != nil || fmt.Sprint(top) != "[{h0 3} {h1 2} {h2 1}]" {
		t.Fatalf("filtered top = %v err %v", top, err)
	}
	if _, _, ok, _ := s.TopValues(ctx, RowQuery{}, "url.path", 10, 0); ok {
		t.Fatal("url.path is not a promoted column")
	}
}

func TestActivity(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	now := t0.Add(24 * time.Hour)
	old := now.Add(-3 * time.Hour)
	ts := func(base time.Time) func(i int, e *event.Event) {
		return func(i int, e *event.Event) {
			e.Set(event.FieldTimestamp, base.Add(-time.Duration(i)*time.Second))
			if i == 2 {
				e.Set(event.FieldKind, "pipeline_error")
			}
		}
	}
	commitBlocks(t, s, "a1", aggBlock("a1", "aws.cloudtrail", 0, 5, old, ts(old)))
	commitBlocks(t, s, "a2", aggBlock("a2", "aws.cloudtrail", 0, 3, now.Add(-30*time.Second), ts(now.Add(-10*time.Minute))))
	commitBlocks(t, s, "s1", aggBlock("s1", "linux.syslog", 0, 4, now.Add(-30*time.Minute), ts(now.Add(-30*time.Minute))))
	got, err := s.Activity(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("activity = %+v", got)
	}
	ct, sl := got[0], got[1]
	if ct.Dataset != "aws.cloudtrail" || ct.Events != 8 || ct.LastMinute != 3 || ct.LastHour != 3 ||
		ct.Failures != 2 || ct.FailuresLastHour != 1 ||
		!ct.LastIngested.Equal(now.Add(-30*time.Second)) || !ct.LastTimestamp.Equal(now.Add(-10*time.Minute)) {
		t.Errorf("cloudtrail = %+v", ct)
	}
	if sl.Dataset != "linux.syslog" || sl.Events != 4 || sl.LastMinute != 0 || sl.LastHour != 4 ||
		!sl.LastIngested.Equal(now.Add(-30*time.Minute)) {
		t.Errorf("syslog = %+v", sl)
	}
}

func TestTopValuesSampled(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	const rows = 500_000
	// In every ten rows: six a, three b, one c.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO events (ts, dataset, host_name, blk, off, sub)
		SELECT make_timestamp(? + i * 1000000), 'syslog', CASE WHEN i % 10 < 6 THEN 'a' WHEN i % 10 < 9 THEN 'b' ELSE 'c' END, i // 4096, (i % 4096)::INTEGER, 0
		FROM range(?) t(i)`, t0.UnixMicro(), rows); err != nil {
		t.Fatal(err)
	}
	exact, total, _, err := s.TopValues(ctx, RowQuery{}, "host.name", 10, 0)
	if err != nil || total != rows || fmt.Sprint(exact) != "[{a 300000} {b 150000} {c 50000}]" {
		t.Fatalf("exact: %v %d %v", exact, total, err)
	}
	sampled, stotal, _, err := s.TopValues(ctx, RowQuery{}, "host.name", 10, 20)
	if err != nil {
		t.Fatal(err)
	}
	// A fifth of the rows, give or take the randomness of whole vectors.
	if stotal < rows/10 || stotal > rows*3/10 || len(sampled) != 3 || sampled[0].Value != "a" || sampled[1].Value != "b" || sampled[2].Value != "c" {
		t.Fatalf("sampled: %v total %d", sampled, stotal)
	}
}
