package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestBlocksInKeptInMemoryMatchesTheTable: the list BlocksIn keeps up to
// date as batches commit and retention runs is the one the table gives.
func TestBlocksInKeptInMemoryMatchesTheTable(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	defer s.Close()
	key := "k"
	mustAddObject(t, s, Object{Key: key, Dataset: "syslog", Created: t0})
	// Blocks out of time order, overlapping, and with ties on max_ts.
	times := func(i int) time.Time {
		return t0.Add(time.Duration((i*37)%50)*time.Minute + 123456789*time.Nanosecond)
	}
	ranges := []struct {
		from, to time.Time
		asc      bool
	}{
		{time.Time{}, time.Time{}, false}, {time.Time{}, time.Time{}, true},
		{t0.Add(10 * time.Minute), t0.Add(20 * time.Minute), false},
		{t0.Add(10 * time.Minute), time.Time{}, true},
		{time.Time{}, t0.Add(5 * time.Minute), false},
	}
	check := func(when string) {
		t.Helper()
		var kept [][]BlockInfo
		for _, r := range ranges {
			got, err := s.BlocksIn(ctx, r.from, r.to, r.asc)
			if err != nil {
				t.Fatal(err)
			}
			kept = append(kept, got)
		}
		s.index.reset() // the table's answer
		for i, r := range ranges {
			want, err := s.BlocksIn(ctx, r.from, r.to, r.asc)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(kept[i], want) {
				t.Errorf("%s, range %d: kept %+v\ntable %+v", when, i, kept[i], want)
			}
		}
	}
	done := 0
	commit := func(n, per int) {
		var blocks []Block
		for b := 0; b < n; b++ {
			blocks = append(blocks, testBlock(key, done+b*per, per, times))
		}
		if err := s.CommitBatch(ctx, int64(done), Progress{Key: key, DoneRecords: int64(done + n*per), At: t0}, blocks); err != nil {
			t.Fatal(err)
		}
		done += n * per
	}
	commit(3, 4)
	check("first commit")
	commit(4, 3) // the list is loaded: these are added to it
	commit(1, 5)
	check("later commits")
	if _, err := s.DeleteBefore(ctx, "syslog", t0.Add(12*time.Minute)); err != nil {
		t.Fatal(err)
	}
	check("retention")
	all, _ := s.BlocksIn(ctx, time.Time{}, time.Time{}, true)
	trimmed := 0
	for _, b := range all {
		if !b.Complete {
			trimmed++
		}
	}
	if trimmed == 0 {
		t.Error("retention trimmed no block: the test should have some")
	}
}
