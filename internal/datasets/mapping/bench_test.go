package mapping_test

import (
	"path/filepath"
	"testing"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/mapping"
)

// benchParse parses one record repeatedly and reports events/s.
func benchParse(b *testing.B, d dataset.Dataset, line string) {
	rec := dataset.Record{Data: []byte(line), Received: received}
	if evs, err := d.Parser.Parse(rec); err != nil || len(evs) != 1 {
		b.Fatalf("Parse: %d events, %v", len(evs), err)
	}
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Parser.Parse(rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func loadCase(b *testing.B, name string) dataset.Dataset {
	ds, err := mapping.Load(filepath.Join("testdata", name, "mapping.yaml"), opts)
	if err != nil {
		b.Fatal(err)
	}
	return ds[0]
}

// BenchmarkJSON: an application audit record, ten mapped fields of
// several types and the rest copied under the namespace.
func BenchmarkJSON(b *testing.B) {
	benchParse(b, loadCase(b, "json-app"),
		`{"time":"2024-03-01T10:15:30.250+09:00","client":{"address":"192.0.2.10","port":51234},"user":{"name":"alice","id":"u-1042","email":"alice@example.com"},"http.status":200,"action":"LOGIN","result":"OK","roles":["admin","audit"],"tags":["mfa","sso"],"elevated":true,"score":4.5,"session":{"id":"s-7f3a9c","ttl":3600,"agent":"Mozilla/5.0 (X11; Linux x86_64)"},"request_id":"9b2c1e64-7a0f-4f7e-9d55-0e1c2b3a4d5f"}`)
}

// BenchmarkRegex: an Apache combined-format access log line.
func BenchmarkRegex(b *testing.B) {
	benchParse(b, loadCase(b, "regex"),
		`192.0.2.10 - alice [01/Mar/2024:10:15:30 +0100] "GET /shop/cart?item=42&qty=1 HTTP/1.1" 200 5120 "https://example.com/shop/" "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0"`)
}

// BenchmarkCEFExample: the shipped Deep Security example on a firewall
// event behind a syslog header.
func BenchmarkCEFExample(b *testing.B) {
	benchParse(b, loadExample(b),
		`<134>Mar  1 11:59:00 dsa01 CEF:0|Trend Micro|Deep Security Agent|20.0.0|20|Log for TCP Port 80|0|cn1=1 cn1Label=Host ID dvchost=web-01 act=Log dmac=00:50:56:F5:7F:47 smac=00:0C:29:EB:35:DE TrendMicroDsFrameType=IP src=192.168.126.150 dst=198.51.100.192 out=1019 cs3=DF MF cs3Label=Fragmentation Bits proto=TCP spt=49617 dpt=80 cs2=0x00 ACK PSH cs2Label=TCP Flags cnt=1 TrendMicroDsPacketData=AFB`)
}

// BenchmarkLoad: reading and compiling a mapping file.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		loadCase(b, "regex")
	}
}
