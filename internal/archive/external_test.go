package archive

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func gzipBytes(t testing.TB, parts ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	// One gzip member per part, as appending writers (fluentd) produce.
	for _, p := range parts {
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func zstdBytes(t testing.TB, s string) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll([]byte(s), nil)
}

// line is an expected record of an external object.
type line struct {
	index int
	data  string
}

func TestExternalObjects(t *testing.T) {
	a, dir := openTemp(t)
	mtime := time.Date(2024, 11, 5, 6, 7, 8, 0, time.UTC)
	cloudtrail := `{"Records":[{"eventVersion":"1.08","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin"}]}`

	cases := []struct {
		key  string
		body []byte
		want []line
	}{{
		key:  "AWSLogs/123456789012/CloudTrail/us-east-1/2024/11/05/123456789012_CloudTrail_us-east-1_20241105T0605Z_abc.json.gz",
		body: gzipBytes(t, cloudtrail),
		want: []line{{0, cloudtrail}},
	}, {
		key:  "fluentd/syslog/2024110506_0.gz",
		body: gzipBytes(t, "first\nsecond\n", "third\n"), // two gzip members
		want: []line{{0, "first"}, {1, "second"}, {2, "third"}},
	}, {
		key:  "exports/flows.zst",
		body: zstdBytes(t, "2 123 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1 2 ACCEPT OK\n"),
		want: []line{{0, "2 123 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1 2 ACCEPT OK"}},
	}, {
		key:  "drops/plain.log",
		body: []byte("one\ntwo\n\nfour\n"),
		want: []line{{0, "one"}, {1, "two"}, {3, "four"}},
	}, {
		key:  "drops/windows.log",
		body: []byte("crlf one\r\ncrlf two\r\n\r\ninner\rcr kept\r\n"),
		want: []line{{0, "crlf one"}, {1, "crlf two"}, {3, "inner\rcr kept"}},
	}, {
		key:  "drops/no-final-newline.log",
		body: []byte("a\nb"),
		want: []line{{0, "a"}, {1, "b"}},
	}, {
		key:  "drops/no-final-newline-crlf.log",
		body: []byte("a\r\nb\r"),
		want: []line{{0, "a"}, {1, "b"}},
	}, {
		// Named .gz but plain: the magic number decides.
		key:  "drops/misnamed.gz",
		body: []byte("not compressed\n"),
		want: []line{{0, "not compressed"}},
	}, {
		// Named .log but gzip.
		key:  "drops/misnamed.log",
		body: gzipBytes(t, "\n\ncompressed after all\n"),
		want: []line{{2, "compressed after all"}},
	}, {
		key:  "drops/empty.log",
		body: nil,
		want: nil,
	}, {
		key:  "drops/only-newlines.log",
		body: []byte("\n\r\n\n"),
		want: nil,
	}, {
		key:  "drops/binary.log",
		body: []byte("nul\x00inside\n\xff\xfe invalid utf-8\n"),
		want: []line{{0, "nul\x00inside"}, {1, "\xff\xfe invalid utf-8"}},
	}}

	for _, c := range cases {
		p := filepath.Join(dir, filepath.FromSlash(c.key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, c.body, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			idx, recs, listeners := readAll(t, a, c.key)
			var got []line
			for i, r := range recs {
				got = append(got, line{idx[i], string(r.Data)})
				if !r.Received.Equal(mtime) {
					t.Errorf("record %d received %v, want the object's mtime %v", i, r.Received, mtime)
				}
				if r.Peer != "" || listeners[i] != "" {
					t.Errorf("record %d: peer %q listener %q, want both empty", i, r.Peer, listeners[i])
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("records = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestExternalLineTooLong(t *testing.T) {
	body := append(bytes.Repeat([]byte("x"), MaxRecordBytes+2), '\n')
	rr, err := NewRecordReader(bytes.NewReader(append([]byte("short\n"), body...)), FormatLines, "big.log", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	if !rr.Next() || string(rr.Record().Data) != "short" {
		t.Fatalf("first record: %q, %v", rr.Record().Data, rr.Err())
	}
	if rr.Next() {
		t.Fatalf("a %d-byte line was read as a record", len(body))
	}
	if rr.Err() == nil {
		t.Errorf("no error for a line over the limit")
	}
}

// readErr reads body to the end and returns the first error.
func readErr(body []byte, name string) error {
	rr, err := NewRecordReader(bytes.NewReader(body), FormatLines, name, time.Time{})
	if err != nil {
		return err
	}
	defer rr.Close()
	for rr.Next() {
	}
	return rr.Err()
}

func TestCorruptCompressedObject(t *testing.T) {
	good := zstdBytes(t, "a\nb\nc\n")
	if err := readErr(good, "good.zst"); err != nil {
		t.Fatalf("intact zstd object: %v", err)
	}
	bad := slices.Clone(good)
	bad[len(bad)-2] ^= 0xff // inside the frame checksum
	if readErr(bad, "bad.zst") == nil {
		t.Errorf("corrupt zstd object read without error")
	}
	gz := gzipBytes(t, "a\nb\n")
	if readErr(gz[:len(gz)-6], "cut.gz") == nil {
		t.Errorf("truncated gzip object read without error")
	}
}

func TestEnvelopeObjectWithBadLine(t *testing.T) {
	body := zstdBytes(t, `{"t":"2025-01-01T00:00:00Z","m":"ok"}`+"\n"+`{"m":"no time"}`+"\n")
	rr, err := NewRecordReader(bytes.NewReader(body), FormatEnvelope, "x", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	if !rr.Next() || string(rr.Record().Data) != "ok" {
		t.Fatalf("first record = %q, err %v", rr.Record().Data, rr.Err())
	}
	if rr.Next() {
		t.Fatal("a line without a time was read as a record")
	}
	if err := rr.Err(); err == nil || !bytes.Contains([]byte(err.Error()), []byte("line 1")) {
		t.Errorf("error %v, want one naming line 1", err)
	}
}

func TestRecordDataIsNotOverwritten(t *testing.T) {
	var body bytes.Buffer
	for i := range 5000 {
		body.WriteString("record number ")
		body.WriteByte(byte('a' + i%26))
		body.WriteByte('\n')
	}
	rr, err := NewRecordReader(bytes.NewReader(body.Bytes()), FormatLines, "x", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	var kept [][]byte
	for rr.Next() {
		kept = append(kept, rr.Record().Data)
	}
	if rr.Err() != nil || len(kept) != 5000 {
		t.Fatalf("read %d records, err %v", len(kept), rr.Err())
	}
	for i, d := range kept {
		if want := "record number " + string(rune('a'+i%26)); string(d) != want {
			t.Fatalf("record %d changed to %q after later reads, want %q", i, d, want)
		}
	}
	// Appending to one record must not write into the next.
	_ = append(kept[0], "XXXXXXXX"...)
	if string(kept[1]) != "record number b" {
		t.Errorf("appending to record 0 changed record 1 to %q", kept[1])
	}
}

func TestAllIterator(t *testing.T) {
	rr, err := NewRecordReader(bytes.NewReader([]byte("a\n\nb\nc\n")), FormatLines, "x", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	var got []line
	for i, r := range rr.All() {
		got = append(got, line{i, string(r.Data)})
		if i == 2 {
			break
		}
	}
	if want := []line{{0, "a"}, {2, "b"}}; !slices.Equal(got, want) {
		t.Errorf("All = %v, want %v", got, want)
	}
	// Reading goes on where the loop stopped.
	if !rr.Next() || rr.Index() != 3 || string(rr.Record().Data) != "c" {
		t.Errorf("after break: Next gives %d %q", rr.Index(), rr.Record().Data)
	}
}

func TestExternalObjectsInPipelineOrder(t *testing.T) {
	// Resuming after a crash: skip records with Index < N.
	a, dir := openTemp(t)
	p := filepath.Join(dir, "drops", "resume.log")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("r0\n\nr2\nr3\n\nr5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	first, _, _ := readAll(t, a, "drops/resume.log")
	second, recs, _ := readAll(t, a, "drops/resume.log")
	if !slices.Equal(first, second) {
		t.Fatalf("positions differ between reads: %v vs %v", first, second)
	}
	var resumed []string
	for i, idx := range second {
		if idx >= 3 { // records 0..2 already processed
			resumed = append(resumed, string(recs[i].Data))
		}
	}
	if !slices.Equal(resumed, []string{"r3", "r5"}) {
		t.Errorf("resumed records = %v, want [r3 r5]", resumed)
	}
}
