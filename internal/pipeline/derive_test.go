package pipeline

import (
	"bytes"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/store"
)

// ParseOnly then Complete gives exactly the events Derive gives, and a
// record that fails to parse gives none.
func TestParseOnlyThenCompleteIsDerive(t *testing.T) {
	reg := datasets.Builtin(datasets.Options{})
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	lines := []string{
		"<38>Nov 20 09:59:00 web-01 sshd[42]: Failed password for bob from 198.51.100.7 port 22 ssh2",
		"CEF:0|Trend Micro|Deep Security Agent|10.0|20|Log for TCP Port Scan|5|src=192.0.2.10 dst=10.0.0.5 suser=alice act=Reset",
		`{"@timestamp":"2026-11-20T09:00:00Z","user":{"name":"carol"},"source":{"ip":"203.0.113.5"}}`,
		"", // no event at all
	}
	b := &store.BlockData{Object: "raw/syslog/x.ndjson.zst", Dataset: "syslog", FirstRecord: 7, Ingested: at}
	for _, l := range lines {
		b.Records = append(b.Records, dataset.Record{Data: []byte(l), Received: at})
	}
	for off := range b.Records {
		want := Derive(reg, b, off)
		got := ParseOnly(reg, b, off)
		if len(got) != len(want) {
			t.Fatalf("record %d: ParseOnly gave %d events, Derive %d", off, len(got), len(want))
		}
		for sub, e := range got {
			Complete(b, off, sub, e)
			g, _ := e.MarshalJSON()
			w, _ := want[sub].MarshalJSON()
			if !bytes.Equal(g, w) {
				t.Errorf("record %d event %d:\n got %s\nwant %s", off, sub, g, w)
			}
		}
	}
	bad := &store.BlockData{Object: "k", Dataset: "json", Ingested: at,
		Records: []dataset.Record{{Data: []byte("{not json"), Received: at}}}
	if evs := ParseOnly(reg, bad, 0); len(evs) != 0 {
		t.Errorf("a record that fails to parse gave %d events", len(evs))
	}
	if evs := Derive(reg, bad, 0); len(evs) != 1 || evs[0].String("error.message") == "" {
		t.Errorf("Derive of a failed record = %v", evs)
	}
}

// A source prefix without a dataset recognises each object by its key and
// skips what no dataset claims.
func TestSourceDatasetByKey(t *testing.T) {
	reg := dataset.NewRegistry(
		dataset.Dataset{Name: "aws.cloudtrail", Parser: dataset.ParserFunc(func(dataset.Record) ([]*event.Event, error) { return nil, nil }),
			Keys: []string{"**/AWSLogs/*/CloudTrail/**"}},
	)
	s := &Scanner{Datasets: reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	of := s.datasetOf(SourcePrefix{Prefix: "logs/"})
	if ds, ok := of("logs/AWSLogs/123/CloudTrail/us-east-1/2026/11/20/a.json.gz"); !ok || ds != "aws.cloudtrail" {
		t.Errorf("CloudTrail key: %q, %v", ds, ok)
	}
	if ds, ok := of("logs/other/a.log"); ok {
		t.Errorf("unclaimed key went to %q", ds)
	}
	if ds, ok := s.datasetOf(SourcePrefix{Prefix: "logs/", Dataset: "json"})("logs/other/a.log"); !ok || ds != "json" {
		t.Errorf("configured dataset: %q, %v", ds, ok)
	}
}
