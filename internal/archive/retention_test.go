package archive

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/intake"
)

func TestDeleteBefore(t *testing.T) {
	a, dir := openTemp(t)
	testDeleteBefore(t, a, func(key string) error {
		p := filepath.Join(dir, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, []byte("not mamori's\n"), 0o644)
	})

	// Emptied directories are gone; ones still holding a foreign file stay.
	for _, gone := range []string{"raw/syslog/2023/06", "raw/syslog/2024", "raw/syslog/2025/02", "raw/syslog/2025/03/09", "raw/syslog/2025/03/10/04"} {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(gone))); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("directory %s still exists after retention emptied it (stat err %v)", gone, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "raw", "syslog", "2023", "01", "01", "00")); err != nil {
		t.Errorf("directory holding a foreign object was removed: %v", err)
	}
}

// testDeleteBefore runs the retention scenario on a; putForeign writes an
// object mamori did not write.
func testDeleteBefore(t *testing.T, a *Archive, putForeign func(key string) error) {
	t.Helper()
	ctx := context.Background()
	cutoff := time.Date(2025, 3, 10, 5, 30, 0, 0, time.UTC)
	put := func(ds string, at time.Time) Object {
		t.Helper()
		obj, err := a.Put(ctx, intake.Batch{Dataset: ds, Records: []intake.Record{{Data: []byte("event at " + at.String()), Received: at}}})
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
		return obj
	}
	var doomed, kept []Object
	for _, at := range []time.Time{
		time.Date(2023, 6, 15, 10, 1, 0, 0, time.UTC),
		time.Date(2024, 12, 31, 23, 59, 0, 0, time.UTC),
		time.Date(2025, 2, 28, 1, 0, 0, 0, time.UTC),
		time.Date(2025, 3, 9, 23, 0, 0, 0, time.UTC),
		time.Date(2025, 3, 10, 4, 59, 59, 0, time.UTC),
	} {
		doomed = append(doomed, put("syslog", at))
	}
	for _, at := range []time.Time{
		time.Date(2025, 3, 10, 5, 0, 0, 0, time.UTC), // its hour ends after the cutoff
		time.Date(2025, 3, 10, 5, 29, 0, 0, time.UTC),
		time.Date(2025, 3, 11, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		kept = append(kept, put("syslog", at))
	}
	other := put("http", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) // another dataset
	foreign := []string{"raw/syslog/2023/01/01/00/notes.txt", "raw/syslog/misc/readme.log"}
	for _, k := range foreign {
		if err := putForeign(k); err != nil {
			t.Fatal(err)
		}
	}

	got, err := a.DeleteBefore(ctx, "syslog", cutoff, nil)
	if err != nil {
		t.Fatalf("DeleteBefore: %v", err)
	}
	var wantBytes int64
	for _, o := range doomed {
		wantBytes += o.Bytes
	}
	if got != (Pruned{Objects: len(doomed), Bytes: wantBytes}) {
		t.Errorf("DeleteBefore = %+v, want %d objects, %d bytes", got, len(doomed), wantBytes)
	}
	var left []string
	if err := a.List(ctx, "raw/", func(o ObjectInfo) error { left = append(left, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	want := append([]string{other.Key}, foreign...)
	for _, o := range kept {
		want = append(want, o.Key)
	}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("after retention:\n%q\nwant\n%q", left, want)
	}

	// Running it again deletes nothing more.
	again, err := a.DeleteBefore(ctx, "syslog", cutoff, nil)
	if err != nil || again != (Pruned{}) {
		t.Errorf("second DeleteBefore = %+v, %v; want nothing deleted", again, err)
	}
	if _, err := a.DeleteBefore(ctx, "../etc", cutoff, nil); err == nil {
		t.Errorf("DeleteBefore accepted an invalid dataset name")
	}
}
