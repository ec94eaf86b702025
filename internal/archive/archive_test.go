package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/oklog/ulid/v2"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/intake"
)

// fakeClock is a settable clock for tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func openTemp(t testing.TB, opts ...Option) (*Archive, string) {
	t.Helper()
	dir := t.TempDir()
	a, err := Open(context.Background(), "file://"+dir, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return a, dir
}

// trickyRecords are records whose bytes must survive the envelope exactly.
func trickyRecords(base time.Time) []intake.Record {
	big := make([]byte, 64<<10)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	big[1000] = '\n'
	big[2000] = '"'
	datas := [][]byte{
		[]byte("plain line"),
		[]byte("line one\nline two\r\nline three"),
		[]byte(`she said "hi" \ and left \\ \"`),
		[]byte("tab\tseparated\tvalues"),
		{'b', 'a', 'd', 0xff, 0xfe, ' ', 'u', 't', 'f', '8'},
		[]byte("nul\x00byte\x00"),
		{},
		big,
		[]byte("\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x1f"), // escapes longer than base64
		[]byte("日本語のログ 🛡️ \u2028 <>&"),
		{0xc3}, // a truncated UTF-8 sequence
		[]byte(`CEF:0|Vendor|Product|1.0|100|name|5|src=10.0.0.1 msg=a\=b`),
	}
	recs := make([]intake.Record, len(datas))
	for i, d := range datas {
		recs[i] = intake.Record{
			Data:     d,
			Received: base.Add(time.Duration(i)*time.Millisecond + 123*time.Nanosecond),
			Peer:     fmt.Sprintf("192.0.2.%d:514", i%3),
		}
	}
	recs[3].Peer = "" // unknown peer
	return recs
}

var keyPattern = regexp.MustCompile(`^raw/([a-z0-9][a-z0-9_.-]*)/(\d{4})/(\d{2})/(\d{2})/(\d{2})/([0-9A-HJKMNP-TV-Z]{26})\.ndjson\.zst$`)

func readAll(t *testing.T, a *Archive, key string) ([]int, []dataset.Record, []string) {
	t.Helper()
	rr, err := a.OpenRecords(context.Background(), key)
	if err != nil {
		t.Fatalf("OpenRecords(%s): %v", key, err)
	}
	defer func() {
		if err := rr.Close(); err != nil {
			t.Errorf("Close reader: %v", err)
		}
	}()
	var idx []int
	var recs []dataset.Record
	var listeners []string
	for rr.Next() {
		idx = append(idx, rr.Index())
		recs = append(recs, rr.Record())
		listeners = append(listeners, rr.Listener())
	}
	if err := rr.Err(); err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	return idx, recs, listeners
}

func checkRoundTrip(t *testing.T, a *Archive, batch intake.Batch, obj Object) {
	t.Helper()
	idx, got, listeners := readAll(t, a, obj.Key)
	if len(got) != len(batch.Records) {
		t.Fatalf("read %d records, wrote %d", len(got), len(batch.Records))
	}
	for i, want := range batch.Records {
		if idx[i] != i {
			t.Errorf("record %d: Index() = %d", i, idx[i])
		}
		if !bytes.Equal(got[i].Data, want.Data) {
			t.Errorf("record %d: data = %q, want %q", i, trunc(got[i].Data), trunc(want.Data))
		}
		// the envelope keeps milliseconds (see envelopeTime)
		if !got[i].Received.Equal(want.Received.Truncate(time.Millisecond)) || got[i].Received.Location() != time.UTC {
			t.Errorf("record %d: received = %v, want %v in UTC", i, got[i].Received, want.Received)
		}
		if got[i].Peer != want.Peer {
			t.Errorf("record %d: peer = %q, want %q", i, got[i].Peer, want.Peer)
		}
		if listeners[i] != batch.Listener {
			t.Errorf("record %d: listener = %q, want %q", i, listeners[i], batch.Listener)
		}
	}
}

func trunc(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}

func TestPutRoundTripFile(t *testing.T) {
	clock := &fakeClock{t: time.Date(2025, 3, 9, 23, 59, 59, 999_000_000, time.UTC)}
	a, dir := openTemp(t, WithClock(clock.Now))
	// Receive times in another zone: the key's time path must be UTC.
	tokyo := time.FixedZone("JST", 9*3600)
	base := time.Date(2025, 3, 10, 8, 30, 0, 0, tokyo) // 23:30 UTC on the 9th
	batch := intake.Batch{Dataset: "cef.deep_security", Listener: "syslog-udp", Records: trickyRecords(base)}

	obj, err := a.Put(context.Background(), batch)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	m := keyPattern.FindStringSubmatch(obj.Key)
	if m == nil {
		t.Fatalf("key %q does not follow the layout", obj.Key)
	}
	if got := strings.Join(m[1:6], "/"); got != "cef.deep_security/2025/03/09/23" {
		t.Errorf("key dataset/time path = %s, want cef.deep_security/2025/03/09/23", got)
	}
	id := ulid.MustParseStrict(m[6])
	if !id.Timestamp().Equal(clock.Now().Truncate(time.Millisecond)) {
		t.Errorf("ULID time = %v, want the clock's %v", id.Timestamp(), clock.Now())
	}

	var raw int64
	for _, r := range batch.Records {
		raw += int64(len(r.Data))
	}
	info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(obj.Key)))
	if err != nil {
		t.Fatalf("object file: %v", err)
	}
	want := Object{Key: obj.Key, Dataset: batch.Dataset, Records: len(batch.Records), Bytes: info.Size(), RawBytes: raw, Created: clock.Now()}
	if obj != want {
		t.Errorf("Put returned %+v, want %+v", obj, want)
	}
	checkRoundTrip(t, a, batch, obj)
}

func TestPutFillsMissingReceiveTimes(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 12, 31, 23, 10, 0, 0, time.UTC)}
	a, _ := openTemp(t, WithClock(clock.Now))
	obj, err := a.Put(context.Background(), intake.Batch{Dataset: "syslog", Records: []intake.Record{{Data: []byte("x")}}})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if !strings.HasPrefix(obj.Key, "raw/syslog/2024/12/31/23/") {
		t.Errorf("key %s: want the clock's hour when no record has a receive time", obj.Key)
	}
	_, recs, listeners := readAll(t, a, obj.Key)
	if len(recs) != 1 || !recs[0].Received.Equal(clock.Now()) {
		t.Errorf("records = %+v, want one received at %v", recs, clock.Now())
	}
	if listeners[0] != "" {
		t.Errorf("listener = %q, want empty", listeners[0])
	}
}

func TestKeyTimeIsEarliestReceive(t *testing.T) {
	a, _ := openTemp(t)
	late := time.Date(2025, 1, 2, 4, 0, 0, 0, time.UTC)
	early := time.Date(2025, 1, 2, 3, 59, 59, 0, time.UTC)
	obj, err := a.Put(context.Background(), intake.Batch{Dataset: "kv", Records: []intake.Record{
		{Data: []byte("a"), Received: late},
		{Data: []byte("b"), Received: early},
	}})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if !strings.HasPrefix(obj.Key, "raw/kv/2025/01/02/03/") {
		t.Errorf("key %s: want the hour of the earliest receive time (03)", obj.Key)
	}
}

func TestULIDsSortByTimeAndListFindsThem(t *testing.T) {
	clock := &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	a, _ := openTemp(t, WithClock(clock.Now))
	recv := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var keys []string
	for i := range 20 {
		// Several objects in the same millisecond, then the clock moves.
		if i%5 == 0 {
			clock.Set(clock.Now().Add(3 * time.Millisecond))
		}
		obj, err := a.Put(context.Background(), intake.Batch{Dataset: "http", Records: []intake.Record{{Data: fmt.Appendf(nil, "r%d", i), Received: recv}}})
		if err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
		keys = append(keys, obj.Key)
	}
	if !slices.IsSorted(keys) {
		t.Errorf("keys made in order do not sort in order:\n%s", strings.Join(keys, "\n"))
	}
	var listed []string
	err := a.List(context.Background(), "raw/http/", func(o ObjectInfo) error {
		if o.Size <= 0 || o.ModTime.IsZero() {
			t.Errorf("listing of %s lacks size or time: %+v", o.Key, o)
		}
		listed = append(listed, o.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if !slices.Equal(listed, keys) {
		t.Errorf("List found\n%s\nwant\n%s", strings.Join(listed, "\n"), strings.Join(keys, "\n"))
	}
	// fn's error stops the listing and comes back unchanged.
	stop := errors.New("stop")
	n := 0
	err = a.List(context.Background(), "raw/", func(ObjectInfo) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("List with failing fn: err = %v after %d calls, want stop after 1", err, n)
	}
}

func TestConcurrentPutsMakeDistinctKeys(t *testing.T) {
	clock := &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} // frozen: every ULID in one ms
	a, _ := openTemp(t, WithClock(clock.Now))
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				obj, err := a.Put(context.Background(), intake.Batch{Dataset: "syslog", Records: []intake.Record{{Data: fmt.Appendf(nil, "%d-%d", g, i)}}})
				if err != nil {
					t.Errorf("Put: %v", err)
					return
				}
				mu.Lock()
				if seen[obj.Key] {
					t.Errorf("duplicate key %s", obj.Key)
				}
				seen[obj.Key] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 80 {
		t.Errorf("%d distinct keys, want 80", len(seen))
	}
}

func TestPutIsDurableOnDisk(t *testing.T) {
	a, dir := openTemp(t)
	recv := time.Date(2025, 2, 3, 4, 5, 6, 0, time.UTC)
	batch := intake.Batch{Dataset: "syslog", Listener: "syslog-tcp", Records: trickyRecords(recv)}
	obj, err := a.Put(context.Background(), batch)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	// Read the object through the OS, not the archive: it must be a
	// complete zstd frame (its checksum verified) holding every record.
	raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(obj.Key)))
	if err != nil {
		t.Fatalf("read object file: %v", err)
	}
	if int64(len(raw)) != obj.Bytes {
		t.Errorf("file has %d bytes, Put reported %d", len(raw), obj.Bytes)
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	plain, err := dec.DecodeAll(raw, nil)
	if err != nil {
		t.Fatalf("object is not a complete zstd frame: %v", err)
	}
	lines := bytes.Split(bytes.TrimSuffix(plain, []byte("\n")), []byte("\n"))
	if len(lines) != len(batch.Records) || !bytes.HasSuffix(plain, []byte("\n")) {
		t.Errorf("object holds %d newline-terminated lines, want %d", len(lines), len(batch.Records))
	}

	// Nothing but the object: no temp file, no metadata sidecar.
	var files []string
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(files, []string{obj.Key}) {
		t.Errorf("archive directory holds %v, want only %s", files, obj.Key)
	}
}

func TestStaleTempFilesAreIgnoredAndCleaned(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2025, 5, 5, 5, 5, 5, 0, time.UTC)
	tmp := filepath.Join(dir, tmpDirName)
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(tmp, "01STALE.ndjson.zst.tmp")
	fresh := filepath.Join(tmp, "01FRESH.ndjson.zst.tmp")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(stale, now.Add(-2*time.Hour), now.Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(fresh, now.Add(-time.Minute), now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	a, err := Open(context.Background(), "file://"+dir, WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temp file still there after Open (stat err %v)", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temp file (maybe another writer's) was removed: %v", err)
	}
	err = a.List(context.Background(), "", func(o ObjectInfo) error {
		t.Errorf("List reported %s; temp files must not be listed", o.Key)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPutRejectsBadBatches(t *testing.T) {
	a, dir := openTemp(t)
	rec := []intake.Record{{Data: []byte("x")}}
	cases := []struct {
		name  string
		batch intake.Batch
		want  string
	}{
		{"empty dataset", intake.Batch{Records: rec}, "invalid dataset name"},
		{"upper case", intake.Batch{Dataset: "Syslog", Records: rec}, "invalid dataset name"},
		{"slash", intake.Batch{Dataset: "a/b", Records: rec}, "invalid dataset name"},
		{"dot dot", intake.Batch{Dataset: "..", Records: rec}, "invalid dataset name"},
		{"leading dot", intake.Batch{Dataset: ".hidden", Records: rec}, "invalid dataset name"},
		{"space", intake.Batch{Dataset: "sys log", Records: rec}, "invalid dataset name"},
		{"too long", intake.Batch{Dataset: strings.Repeat("a", 129), Records: rec}, "longer than 128"},
		{"no records", intake.Batch{Dataset: "syslog"}, "empty batch"},
		{"huge record", intake.Batch{Dataset: "syslog", Records: []intake.Record{{Data: make([]byte, MaxRecordBytes+1)}}}, "over the"},
		{"huge peer", intake.Batch{Dataset: "syslog", Records: []intake.Record{{Data: []byte("x"), Peer: strings.Repeat("p", 1025)}}}, "peer longer"},
	}
	for _, c := range cases {
		_, err := a.Put(context.Background(), c.batch)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Put error = %v, want one containing %q", c.name, err, c.want)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != tmpDirName {
			t.Errorf("rejected batches left %s in the archive", e.Name())
		}
	}
}

func TestPutHonoursCancelledContext(t *testing.T) {
	a, _ := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := a.Put(ctx, intake.Batch{Dataset: "syslog", Records: []intake.Record{{Data: []byte("x")}}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Put with cancelled context: err = %v, want context.Canceled", err)
	}
}

func TestValidateDataset(t *testing.T) {
	for _, ok := range []string{"syslog", "aws.cloudtrail", "panw.panos", "a", "0", "x_y-z.9"} {
		if err := ValidateDataset(ok); err != nil {
			t.Errorf("ValidateDataset(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "-x", "_x", "A", "a b", "a/b", "a\\b", "ä", "a\x00"} {
		if err := ValidateDataset(bad); err == nil {
			t.Errorf("ValidateDataset(%q) = nil, want an error", bad)
		}
	}
}

func TestParseKey(t *testing.T) {
	id := ulid.MustParseStrict("01JABCDEFGHJKMNPQRSTVWXYZ0")
	hour := time.Date(2025, 7, 4, 9, 0, 0, 0, time.UTC)
	key := Key("aws.cloudtrail", hour.Add(59*time.Minute), id)
	if key != "raw/aws.cloudtrail/2025/07/04/09/01JABCDEFGHJKMNPQRSTVWXYZ0.ndjson.zst" {
		t.Fatalf("Key = %s", key)
	}
	// in another zone, the same UTC hour
	if p := HourPrefix("aws.cloudtrail", hour.In(time.FixedZone("JST", 9*3600)).Add(30*time.Minute)); p != "raw/aws.cloudtrail/2025/07/04/09/" {
		t.Errorf("HourPrefix = %s", p)
	}
	info, err := ParseKey(key)
	if err != nil {
		t.Fatalf("ParseKey(%s): %v", key, err)
	}
	if info.Dataset != "aws.cloudtrail" || !info.Hour.Equal(hour) || info.ID != id {
		t.Errorf("ParseKey = %+v", info)
	}
	for _, bad := range []string{
		"AWSLogs/123/CloudTrail/us-east-1/2025/07/04/x.json.gz",
		"raw/aws.cloudtrail/2025/07/04/09/01JABCDEFGHJKMNPQRSTVWXYZ0.json.gz",
		"raw/aws.cloudtrail/2025/7/04/09/01JABCDEFGHJKMNPQRSTVWXYZ0.ndjson.zst",
		"raw/aws.cloudtrail/2025/13/04/09/01JABCDEFGHJKMNPQRSTVWXYZ0.ndjson.zst",
		"raw/aws.cloudtrail/2025/02/30/09/01JABCDEFGHJKMNPQRSTVWXYZ0.ndjson.zst",
		"raw/aws.cloudtrail/2025/07/04/24/01JABCDEFGHJKMNPQRSTVWXYZ0.ndjson.zst",
		"raw/aws.cloudtrail/2025/07/04/09/not-a-ulid.ndjson.zst",
		"raw/AWS/2025/07/04/09/01JABCDEFGHJKMNPQRSTVWXYZ0.ndjson.zst",
		"raw/aws.cloudtrail/2025/07/04/09/x/01JABCDEFGHJKMNPQRSTVWXYZ0.ndjson.zst",
	} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%s) = nil error, want one", bad)
		}
		if FormatOf(bad) != FormatLines {
			t.Errorf("FormatOf(%s) = %v, want lines", bad, FormatOf(bad))
		}
	}
	if FormatOf(key) != FormatEnvelope {
		t.Errorf("FormatOf(%s) = %v, want envelope", key, FormatOf(key))
	}
}

func TestOpenRejectsBadURLs(t *testing.T) {
	for _, u := range []string{
		"ftp://host/dir",
		"file://relative/dir",
		"file:///tmp/x?metadata=skip",
		"file:",
		"s3://",
		"/no/scheme",
	} {
		a, err := Open(context.Background(), u)
		if err == nil {
			a.Close()
			t.Errorf("Open(%q) succeeded, want an error", u)
		}
	}
}

func TestMissingObjects(t *testing.T) {
	a, _ := openTemp(t)
	ctx := context.Background()
	key := "raw/syslog/2025/01/01/00/01JABCDEFGHJKMNPQRSTVWXYZ0.ndjson.zst"
	if _, err := a.OpenRecords(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Errorf("OpenRecords of a missing key: %v, want ErrNotFound", err)
	}
	if _, err := a.Stat(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat of a missing key: %v, want ErrNotFound", err)
	}
	if err := a.Delete(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete of a missing key: %v, want ErrNotFound", err)
	}
}

func TestDeleteAndStat(t *testing.T) {
	a, _ := openTemp(t)
	ctx := context.Background()
	obj, err := a.Put(ctx, intake.Batch{Dataset: "syslog", Records: []intake.Record{{Data: []byte("x")}}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := a.Stat(ctx, obj.Key)
	if err != nil || info.Size != obj.Bytes {
		t.Fatalf("Stat = %+v, %v; want size %d", info, err, obj.Bytes)
	}
	if err := a.Delete(ctx, obj.Key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := a.Stat(ctx, obj.Key); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat after Delete: %v, want ErrNotFound", err)
	}
}

// A named batch gets the same key however often it is written; another
// name, or another dataset, gets another.
func TestNamedBatchKeyIsStable(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	a, _ := openTemp(t, WithClock(clock.Now))
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	batch := func(ds, id string) intake.Batch {
		return intake.Batch{Dataset: ds, ID: id, Records: []intake.Record{{Data: []byte(`{"items":[]}`), Received: at}}}
	}
	ctx := context.Background()
	first, err := a.Put(ctx, batch("google_workspace.login", "window-1"))
	if err != nil {
		t.Fatal(err)
	}
	clock.t = clock.t.Add(time.Hour)
	again, err := a.Put(ctx, batch("google_workspace.login", "window-1"))
	if err != nil {
		t.Fatal(err)
	}
	if again.Key != first.Key {
		t.Errorf("rewriting a named batch: key %s, first %s", again.Key, first.Key)
	}
	if !strings.HasPrefix(first.Key, "raw/google_workspace.login/2026/11/20/09/") {
		t.Errorf("key %s: want the batch's receive hour", first.Key)
	}
	if _, err := ParseKey(first.Key); err != nil {
		t.Errorf("a named batch's key does not parse as mamori's own: %v", err)
	}
	for _, other := range []intake.Batch{batch("google_workspace.login", "window-2"), batch("google_workspace.admin", "window-1")} {
		obj, err := a.Put(ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		if obj.Key == first.Key {
			t.Errorf("%s/%s got the key of window-1", other.Dataset, other.ID)
		}
	}
}
