package json_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets"
	jsonds "github.com/mamori-sec/mamori/internal/datasets/json"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

var received = time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC)

// parser returns the json dataset as the registry wires it, so that
// fluentd wrappers are unwrapped.
func parser(t testing.TB) dataset.Parser {
	t.Helper()
	ds, ok := datasets.Builtin(datasets.Options{}).Lookup(jsonds.Name)
	if !ok {
		t.Fatal("json dataset not registered")
	}
	return ds.Parser
}

func TestGolden(t *testing.T) {
	p := parser(t)
	testutil.RunParserCases(t, "testdata", p, received)
}

func TestFluentdWrapperCEF(t *testing.T) {
	msg := `CEF:0|Trend Micro|Deep Security Agent|10.0.1.1234|20|Log for TCP Port Scan|5|cn1=1 cn1Label=Host ID dvc=10.0.0.5 act=Reset dmac=00:50:56:00:00:01 smac=00:50:56:00:00:02 TrendMicroDsFrameType=IP src=192.0.2.10 dst=10.0.0.5 in=60 cs3= cs3Label=Fragmentation Bits proto=TCP spt=44521 dpt=22 cs2=0x00 ACK cs2Label=TCP Flags cnt=1 TrendMicroDsPacketData=AAAA`
	rec := `{"message":"` + msg + `","hostname":"web-01","timestamp":"2026-11-20T10:00:00+09:00"}`
	evs, err := parser(t).Parse(dataset.Record{Data: []byte(rec), Received: received})
	if err != nil || len(evs) != 1 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	want := map[string]any{
		event.FieldDataset:   "trendmicro.deepsecurity",
		event.FieldOriginal:  msg,
		event.FieldTimestamp: time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC),
		// The protected computer, known by its address (dvc); the
		// wrapper's host is the collector that shipped the file.
		"host.name":         "10.0.0.5",
		"server.name":       "10.0.0.5",
		"fluentd.hostname":  "web-01",
		"source.ip":         "192.0.2.10",
		"destination.ip":    "10.0.0.5",
		"destination.port":  int64(22),
		"event.action":      "Reset",
		"network.transport": "tcp",
	}
	for f, w := range want {
		if got, _ := evs[0].Get(f); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", f, got, w)
		}
	}
}

func TestNotAnObject(t *testing.T) {
	p := parser(t)
	for _, rec := range []string{"[1]", "3", "", "{", `{"a":1}x`} {
		if _, err := p.Parse(dataset.Record{Data: []byte(rec)}); err == nil {
			t.Errorf("Parse(%q): no error", rec)
		}
	}
}

func TestEpochTimestamps(t *testing.T) {
	p := parser(t)
	want := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, rec := range []string{`{"ts":1709283600}`, `{"ts":1709283600000}`, `{"ts":1709283600000000}`, `{"ts":"1709283600"}`, `{"time":"2024-03-01T09:00:00Z"}`} {
		evs, err := p.Parse(dataset.Record{Data: []byte(rec)})
		if err != nil || len(evs) != 1 || !evs[0].Time().Equal(want) {
			t.Errorf("Parse(%s): %v (%v)", rec, evs, err)
		}
	}
}

func FuzzJSON(f *testing.F) {
	for _, s := range []string{
		`{"@timestamp":"2024-03-01T00:00:00Z","a":{"b":[1,{"c":null}]}}`,
		`{"message":"CEF:0|V|P|1|s|n|5|src=1.2.3.4","hostname":"h"}`,
		`{"message":"{\"message\":\"x\",\"hostname\":\"y\"}","hostname":"h"}`,
		`{"ts":1e300}`, `[]`,
	} {
		f.Add([]byte(s))
	}
	p := parser(f)
	f.Fuzz(func(t *testing.T, rec []byte) {
		evs, err := p.Parse(dataset.Record{Data: rec, Received: received})
		if err != nil {
			return
		}
		for _, ev := range evs {
			if _, err := ev.MarshalJSON(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	p := parser(b)
	rec := dataset.Record{Data: []byte(`{"time":"2024-03-01T10:00:00.123+09:00","level":"warn","msg":"disk almost full","host":{"name":"db01"},"usage":0.93,"count":3,"user":"alice","src":"192.0.2.1"}`), Received: received}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(rec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseFluentdCEF(b *testing.B) {
	p := parser(b)
	rec := dataset.Record{Data: []byte(`{"message":"CEF:0|Trend Micro|Deep Security Agent|10.0.1.1234|20|Log for TCP Port Scan|5|cn1=1 cn1Label=Host ID dvc=10.0.0.5 act=Reset src=192.0.2.10 dst=10.0.0.5 proto=TCP spt=44521 dpt=22","hostname":"web-01","timestamp":"2026-11-20T10:00:00+09:00"}`), Received: received}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(rec); err != nil {
			b.Fatal(err)
		}
	}
}
