package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/archive"
	"github.com/mamori-sec/mamori/internal/config"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/intake"
	"github.com/mamori-sec/mamori/internal/search"
)

// numberedLines are RFC 5424 lines dated from start a millisecond apart,
// each with a token of its own (line-00042).
func numberedLines(n int, start time.Time) []intake.Record {
	var recs []intake.Record
	for i := 0; i < n; i++ {
		ts := start.Add(time.Duration(i) * time.Millisecond).UTC().Format(time.RFC3339Nano)
		recs = append(recs, intake.Record{Data: []byte(fmt.Sprintf("<38>1 %s web-01 app 7 - - served line-%05d", ts, i)), Received: start})
	}
	return recs
}

func (a testApp) write(t *testing.T, recs []intake.Record) string {
	t.Helper()
	ctx := context.Background()
	if err := a.Intake.Write(ctx, intake.Batch{Dataset: "syslog", Listener: "test", Records: recs}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := a.Archive.List(ctx, archive.RawPrefix, func(o archive.ObjectInfo) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Fatalf("archive holds %d objects, want 1", len(keys))
	}
	return keys[0]
}

func (a testApp) find(t *testing.T, q string) ([]*event.Event, error) {
	t.Helper()
	res, err := a.Searcher.Search(context.Background(), search.Request{Query: q, Limit: 10})
	return res.Events, err
}

// TestBlocksReadTheirRecordsFromTheArchive: with a local archive, events
// are re-derived from the archive's frames, in every block of an object
// of several frames, and the store keeps no copy of the records (without
// the object, they cannot be shown).
func TestBlocksReadTheirRecordsFromTheArchive(t *testing.T) {
	a := openTestApp(t, nil)
	recs := numberedLines(2*archive.FrameRecords+50, time.Now().Add(-time.Minute))
	key := a.write(t, recs)
	for _, i := range []int{0, 4095, 4096, 6000, 8191, 8192, len(recs) - 1} {
		evs, err := a.find(t, fmt.Sprintf("line-%05d", i))
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].String(event.FieldOriginal) != string(recs[i].Data) {
			t.Fatalf("line-%05d: found %d events, want its record %q", i, len(evs), recs[i].Data)
		}
	}
	if err := os.Remove(filepath.Join(a.Config.DataDir, "archive", filepath.FromSlash(key))); err != nil {
		t.Fatal(err)
	}
	a.Searcher = search.New(a.Store, a.Datasets, a.Metrics) // no cached blocks
	if _, err := a.find(t, "line-00042"); err == nil || !strings.Contains(err.Error(), key) {
		t.Errorf("search after the archive object went = %v, want an error naming %s", err, key)
	}
}

// TestArchiveRetentionKeepsObjectsTheStoreReads: an object past the
// archive's retention stays while stored events come from it, and goes
// once the store's retention has removed them.
func TestArchiveRetentionKeepsObjectsTheStoreReads(t *testing.T) {
	a := openTestApp(t, func(c *config.Config) {
		c.Archive.Retention = config.Duration(time.Hour)
		c.Retention.Default = 0 // events forever, for now
	})
	old := time.Now().Add(-3 * time.Hour)
	recs := numberedLines(100, old)
	key := a.write(t, recs)
	ctx := context.Background()
	if err := a.ApplyRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Archive.Stat(ctx, key); err != nil {
		t.Fatalf("archive retention deleted an object the store reads: %v", err)
	}
	if evs, err := a.find(t, "line-00099"); err != nil || len(evs) != 1 {
		t.Fatalf("after archive retention: %d events, %v; want the event", len(evs), err)
	}

	a.Config.Retention.Default = config.Duration(2 * time.Hour)
	if err := a.ApplyRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if evs, err := a.find(t, "line-00099"); err != nil || len(evs) != 0 {
		t.Fatalf("after store retention: %d events, %v; want none", len(evs), err)
	}
	if _, err := a.Archive.Stat(ctx, key); !errors.Is(err, archive.ErrNotFound) {
		t.Errorf("object no block reads from: Stat = %v, want it deleted", err)
	}
}
