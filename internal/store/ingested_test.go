package store

import (
	"context"
	"testing"
	"time"
)

func TestBlocksIngestedSinceGoByCommitTimeNotEventTime(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	commit := func(key string, ingested time.Time, blocks ...Block) {
		t.Helper()
		mustAddObject(t, s, Object{Key: key, Dataset: "syslog", Created: ingested})
		n := 0
		for i := range blocks {
			blocks[i].Ingested = ingested
			n += len(blocks[i].Records)
		}
		if err := s.CommitBatch(ctx, 0, Progress{Key: key, DoneRecords: int64(n), Events: int64(n), At: ingested}, blocks); err != nil {
			t.Fatal(err)
		}
	}
	weekAgo := t0.Add(-7 * 24 * time.Hour)
	at := func(ts time.Time) func(int) time.Time {
		return func(i int) time.Time { return ts.Add(time.Duration(i) * time.Second) }
	}
	// Fresh events committed an hour ago; week-old events committed just
	// now, in two blocks, the second with its events in reverse time order.
	commit("raw/syslog/early", t0.Add(-time.Hour), testBlock("raw/syslog/early", 0, 3, at(t0.Add(-time.Hour))))
	rev := func(i int) time.Time { return weekAgo.Add(time.Duration(10-i) * time.Second) }
	commit("raw/syslog/late", t0, testBlock("raw/syslog/late", 0, 4, at(weekAgo)), testBlock("raw/syslog/late", 4, 3, rev))

	got, err := s.BlocksIngestedSince(ctx, t0.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Events != 4 || got[1].Events != 3 || got[0].Blk >= got[1].Blk || !got[0].Ingested.Equal(t0) {
		t.Fatalf("blocks ingested in the last minute: %+v, want the late object's two blocks in commit order", got)
	}
	all, err := s.BlocksIngestedSince(ctx, t0.Add(-2*time.Hour))
	if err != nil || len(all) != 3 || all[0].Events != 3 {
		t.Fatalf("blocks ingested in the last two hours: %+v %v, want all three", all, err)
	}

	pos, err := s.BlockEvents(ctx, []int64{got[0].Blk, got[1].Blk}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pos) != 7 {
		t.Fatalf("%d positions, want 7", len(pos))
	}
	// Commit order: block, then record; not time order (the second block's
	// records go back in time).
	for i, p := range pos {
		wantBlk, wantOff := got[0].Blk, int32(i)
		if i >= 4 {
			wantBlk, wantOff = got[1].Blk, int32(i-4)
		}
		if p.Blk != wantBlk || p.Off != wantOff || p.Sub != 0 {
			t.Fatalf("position %d is %+v, want block %d record %d", i, p, wantBlk, wantOff)
		}
	}
	if !pos[4].TS.After(pos[5].TS) || !pos[0].TS.Equal(weekAgo) {
		t.Errorf("positions carry the wrong times: %+v", pos)
	}

	// Only the datasets asked for.
	if none, err := s.BlockEvents(ctx, []int64{got[0].Blk}, []string{"aws.cloudtrail"}); err != nil || len(none) != 0 {
		t.Errorf("events of another dataset: %v %v", none, err)
	}
	if some, err := s.BlockEvents(ctx, []int64{got[0].Blk}, []string{"aws.cloudtrail", "syslog"}); err != nil || len(some) != 4 {
		t.Errorf("events of the syslog dataset: %v %v", some, err)
	}
	if none, err := s.BlockEvents(ctx, []int64{got[0].Blk}, []string{}); err != nil || len(none) != 0 {
		t.Errorf("an empty dataset list selected %v %v", none, err)
	}
	// The positions lead back to the events that were stored.
	b, err := s.ReadBlock(ctx, pos[0].Blk)
	if err != nil {
		t.Fatal(err)
	}
	if b.Object != "raw/syslog/late" || b.FirstRecord != 0 {
		t.Errorf("block %+v", b)
	}
}
