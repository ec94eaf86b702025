package archive

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/mamori-sec/mamori/internal/intake"
)

// framedBatch is n records, each naming its index, so that a decoded
// frame shows which records it holds.
func framedBatch(n int) intake.Batch {
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	b := intake.Batch{Dataset: "syslog", Listener: "test"}
	for i := 0; i < n; i++ {
		b.Records = append(b.Records, intake.Record{Data: []byte(fmt.Sprintf("record %06d from host-%d", i, i%7)),
			Received: base.Add(time.Duration(i) * time.Millisecond), Peer: "192.0.2.1:514"})
	}
	return b
}

// decodeRange decompresses a byte range of an object and returns its
// records' data.
func decodeRange(t *testing.T, a *Archive, key string, off, n int64) []string {
	t.Helper()
	raw, err := a.ReadRange(context.Background(), key, off, n)
	if err != nil {
		t.Fatalf("ReadRange(%d, %d): %v", off, n, err)
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	plain, err := dec.DecodeAll(raw, nil)
	if err != nil {
		t.Fatalf("range %d+%d is not whole zstd frames: %v", off, n, err)
	}
	rr, err := NewRecordReader(bytes.NewReader(plain), FormatEnvelope, "range", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rr.Next() {
		out = append(out, string(rr.Record().Data))
	}
	if err := rr.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPutCutsObjectsIntoFramesWithATable(t *testing.T) {
	a, dir := openTemp(t)
	batch := framedBatch(2*FrameRecords + 100)
	obj, err := a.Put(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := a.OpenRecords(context.Background(), obj.Key)
	if err != nil {
		t.Fatal(err)
	}
	frames := rr.Frames()
	n := 0
	for rr.Next() {
		n++
	}
	if err := rr.Close(); err != nil || rr.Err() != nil {
		t.Fatal(err, rr.Err())
	}
	if n != len(batch.Records) {
		t.Fatalf("read %d records through the table, wrote %d", n, len(batch.Records))
	}
	wantCounts := []int{FrameRecords, FrameRecords, 100}
	if len(frames) != len(wantCounts) {
		t.Fatalf("frames = %+v, want %d", frames, len(wantCounts))
	}
	info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(obj.Key)))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		if f.Count != wantCounts[i] || f.First != i*FrameRecords {
			t.Errorf("frame %d = %+v, want %d records from %d", i, f, wantCounts[i], i*FrameRecords)
		}
		if i > 0 && f.Offset != frames[i-1].Offset+frames[i-1].Length {
			t.Errorf("frame %d starts at %d, not where frame %d ends", i, f.Offset, i-1)
		}
		got := decodeRange(t, a, obj.Key, f.Offset, f.Length)
		if len(got) != f.Count || got[0] != string(batch.Records[f.First].Data) || got[len(got)-1] != string(batch.Records[f.First+f.Count-1].Data) {
			t.Errorf("frame %d decodes to %d records (%q...), want records %d to %d", i, len(got), got[0], f.First, f.First+f.Count-1)
		}
	}
	last := frames[len(frames)-1]
	if end := last.Offset + last.Length; end != info.Size() || end != obj.Bytes {
		t.Errorf("frames end at %d; the object is %d bytes (Put said %d)", end, info.Size(), obj.Bytes)
	}
}

func TestSmallObjectIsOneFrame(t *testing.T) {
	a, _ := openTemp(t)
	obj, err := a.Put(context.Background(), framedBatch(3))
	if err != nil {
		t.Fatal(err)
	}
	rr, err := a.OpenRecords(context.Background(), obj.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	if f := rr.Frames(); len(f) != 1 || f[0].Count != 3 || f[0].Offset+f[0].Length != obj.Bytes {
		t.Errorf("frames = %+v, want one of 3 records ending at %d", f, obj.Bytes)
	}
}

// TestFramedObjectReadsWithZstdTool checks that the table does not get in
// the way of the zstd command line tool: it skips skippable frames.
func TestFramedObjectReadsWithZstdTool(t *testing.T) {
	if _, err := exec.LookPath("zstd"); err != nil {
		t.Skip("zstd is not installed (scripts/install-test-deps.sh installs it)")
	}
	a, dir := openTemp(t)
	batch := framedBatch(FrameRecords + 5)
	obj, err := a.Put(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("zstd", "-qdc", filepath.Join(dir, filepath.FromSlash(obj.Key))).Output()
	if err != nil {
		t.Fatalf("zstd -dc: %v", err)
	}
	lines := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if !bytes.Contains(sc.Bytes(), batch.Records[lines].Data) {
			t.Fatalf("line %d = %s, want record %q", lines, sc.Bytes(), batch.Records[lines].Data)
		}
		lines++
	}
	if lines != len(batch.Records) {
		t.Errorf("zstd -dc gave %d lines, want %d", lines, len(batch.Records))
	}
}

func TestSpan(t *testing.T) {
	frames := []Frame{{Offset: 20, Length: 100, First: 0, Count: 10}, {Offset: 120, Length: 50, First: 10, Count: 10}, {Offset: 170, Length: 7, First: 20, Count: 3}}
	for _, c := range []struct {
		first, n  int
		off, len  int64
		spanFirst int
		ok        bool
		what      string
	}{
		{0, 10, 20, 100, 0, true, "exactly the first frame"},
		{10, 10, 120, 50, 10, true, "exactly the second frame"},
		{3, 4, 20, 100, 0, true, "inside one frame"},
		{5, 10, 20, 150, 0, true, "across two frames"},
		{8, 15, 20, 157, 0, true, "to the very end"},
		{20, 3, 170, 7, 20, true, "the last frame"},
		{20, 4, 0, 0, 0, false, "past the end"},
		{23, 1, 0, 0, 0, false, "after the end"},
		{0, 0, 0, 0, 0, false, "no records"},
		{-1, 2, 0, 0, 0, false, "before the start"},
	} {
		off, n, sf, ok := Span(frames, c.first, c.n)
		if ok != c.ok || off != c.off || n != c.len || sf != c.spanFirst {
			t.Errorf("%s: Span(%d, %d) = %d, %d, %d, %v; want %d, %d, %d, %v", c.what, c.first, c.n, off, n, sf, ok, c.off, c.len, c.spanFirst, c.ok)
		}
	}
	if _, _, _, ok := Span(nil, 0, 1); ok {
		t.Error("Span over no frames succeeded")
	}
}

func TestReadRangeOfAMissingObject(t *testing.T) {
	a, _ := openTemp(t)
	_, err := a.ReadRange(context.Background(), "raw/syslog/2026/11/20/10/01JP3Q6W2V5F8K9M0N1P2R3S4T.ndjson.zst", 0, 10)
	if err == nil {
		t.Fatal("ReadRange of a missing object succeeded")
	}
}

// FuzzFrameTable feeds arbitrary payloads to the table parser: it must
// never panic, and what it accepts must be contiguous frames that Span
// can use.
func FuzzFrameTable(f *testing.F) {
	f.Add(appendFrameTable(nil, []Frame{{Length: 100, Count: 4096}, {Length: 7, Count: 3}})[8:])
	f.Add([]byte("MFT1\x00"))
	f.Add([]byte("MFT1\xff\xff\xff\xff\x0f"))
	f.Add([]byte("other"))
	f.Fuzz(func(t *testing.T, payload []byte) {
		frames, err := parseFrameTable(payload, 8+int64(len(payload)))
		if err != nil {
			return
		}
		first := 0
		off := 8 + int64(len(payload))
		for i, fr := range frames {
			if fr.First != first || fr.Offset != off || fr.Length < 0 || fr.Count < 0 {
				t.Fatalf("frame %d = %+v, want first %d at %d", i, fr, first, off)
			}
			first += fr.Count
			off += fr.Length
		}
		if first > 0 {
			if o, n, _, ok := Span(frames, 0, first); !ok || o+n != off {
				t.Fatalf("Span of every record = %d+%d, %v; want to end at %d", o, n, ok, off)
			}
		}
	})
}
