package archive

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/intake"
)

// cefBatch is a 1,000-record batch of ~300-byte CEF lines, varied the way
// real ones are (addresses, users, files, times).
func cefBatch() intake.Batch {
	base := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	recs := make([]intake.Record, 1000)
	for i := range recs {
		data := fmt.Appendf(nil,
			`CEF:0|Trend Micro|Deep Security Agent|20.0.0|%d|Eicar_test_file|6|cn1=%d cn1Label=Host ID dvchost=host-%03d.corp.example.com TrendMicroDsTenant=Primary TrendMicroDsTenantId=0 filePath=C:\\Users\\user%d\\Downloads\\file%d.exe act=Clean msg=Realtime suser=user%d src=10.%d.%d.%d rt=%d`,
			4000000+i%7, 1000+i%97, i%50, i%31, i, i%31, i%256, (i/7)%256, (i*13)%256, base.UnixMilli()+int64(i))
		recs[i] = intake.Record{Data: data, Received: base.Add(time.Duration(i) * time.Microsecond), Peer: fmt.Sprintf("10.1.%d.%d:514", i%4, i%9)}
	}
	return intake.Batch{Dataset: "cef", Listener: "syslog-tcp", Records: recs}
}

func rawSize(b intake.Batch) int64 {
	var n int64
	for _, r := range b.Records {
		n += int64(len(r.Data))
	}
	return n
}

func reportPerRecord(b *testing.B, records int) {
	perRecord := float64(b.Elapsed().Nanoseconds()) / float64(b.N*records)
	b.ReportMetric(perRecord, "ns/record")
	b.ReportMetric(1e9/perRecord, "records/s")
}

// BenchmarkPutEncode is Put's CPU work: envelopes and zstd, no I/O.
func BenchmarkPutEncode(b *testing.B) {
	a, _ := openTemp(b)
	batch := cefBatch()
	b.SetBytes(rawSize(batch))
	b.ReportAllocs()
	var packedLen int
	for b.Loop() {
		plain := a.getBuf(0)
		packed := a.getBuf(0)
		a.encode(batch, batch.Records[0].Received, plain, packed)
		packedLen = len(*packed)
		a.putBuf(plain)
		a.putBuf(packed)
	}
	reportPerRecord(b, len(batch.Records))
	b.ReportMetric(float64(rawSize(batch))/float64(packedLen), "ratio")
}

// BenchmarkPutFile is the whole Put on file://, fsyncs included: on a
// real disk those dominate and depend on the device.
func BenchmarkPutFile(b *testing.B) {
	a, err := Open(context.Background(), "file://"+b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	batch := cefBatch()
	b.SetBytes(rawSize(batch))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Put(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	reportPerRecord(b, len(batch.Records))
}

// BenchmarkReadRecords reads a 1,000-record object back from memory:
// zstd, envelope decoding and record copies.
func BenchmarkReadRecords(b *testing.B) {
	a, _ := openTemp(b)
	batch := cefBatch()
	plain, packed := a.getBuf(0), a.getBuf(0)
	a.encode(batch, batch.Records[0].Received, plain, packed)
	obj := bytes.Clone(*packed)
	b.SetBytes(rawSize(batch))
	b.ReportAllocs()
	for b.Loop() {
		rr, err := newRecordReader(bytes.NewReader(obj), FormatEnvelope, "bench", time.Time{}, &a.decoders, nil)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rr.Next() {
			n++
		}
		if rr.Err() != nil || n != len(batch.Records) {
			b.Fatalf("read %d records: %v", n, rr.Err())
		}
		rr.Close()
	}
	reportPerRecord(b, len(batch.Records))
}

// BenchmarkOpenRecordsFile reads an object back through a file:// archive.
func BenchmarkOpenRecordsFile(b *testing.B) {
	a, err := Open(context.Background(), "file://"+b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	batch := cefBatch()
	obj, err := a.Put(context.Background(), batch)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(rawSize(batch))
	b.ReportAllocs()
	for b.Loop() {
		rr, err := a.OpenRecords(context.Background(), obj.Key)
		if err != nil {
			b.Fatal(err)
		}
		for rr.Next() {
		}
		if rr.Err() != nil {
			b.Fatal(rr.Err())
		}
		rr.Close()
	}
	reportPerRecord(b, len(batch.Records))
}

// BenchmarkReadLines reads a plain 1,000-line object written by others.
func BenchmarkReadLines(b *testing.B) {
	batch := cefBatch()
	var buf bytes.Buffer
	for _, r := range batch.Records {
		buf.Write(r.Data)
		buf.WriteByte('\n')
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		rr, err := NewRecordReader(bytes.NewReader(buf.Bytes()), FormatLines, "bench", time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		for rr.Next() {
		}
		rr.Close()
	}
	reportPerRecord(b, len(batch.Records))
}
