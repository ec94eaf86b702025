package leef_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/leef"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

var received = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func TestGolden(t *testing.T) {
	p := leef.New(leef.Options{Location: time.FixedZone("+09:00", 9*3600)}).Parser
	testutil.RunParserCases(t, "testdata", p, received)
}

func TestECSMapping(t *testing.T) {
	line := "LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5^srcPort=81^dstPort=21^proto=17^usrName=alice^srcMAC=00:1a:2b:3c:4d:5e^devTime=1709283600000"
	evs, err := leef.New(leef.Options{}).Parser.Parse(dataset.Record{Data: []byte(line), Received: received})
	if err != nil || len(evs) != 1 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	want := map[string]any{
		"source.ip": "10.0.1.8", "destination.ip": "10.0.0.5", "source.port": int64(81), "destination.port": int64(21),
		"event.severity": int64(5), "network.transport": "udp", "user.name": "alice", "source.mac": "00-1A-2B-3C-4D-5E",
		"event.code": "41", "observer.vendor": "Lancope", "leef.attributes.srcPort": "81",
		event.FieldTimestamp: time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC),
	}
	for f, w := range want {
		if got, _ := evs[0].Get(f); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", f, got, w)
		}
	}
}

func FuzzLEEFDataset(f *testing.F) {
	f.Add([]byte("LEEF:2.0|V|P|1|E|^|src=1.2.3.4^devTimeFormat=yyyy 'x' MMM^devTime=2024 x Mar"))
	f.Add([]byte("LEEF:1.0|V|P|1|E|sev=x\tproto=6\tsrcMAC=zz"))
	p := leef.New(leef.Options{}).Parser
	f.Fuzz(func(t *testing.T, line []byte) {
		evs, err := p.Parse(dataset.Record{Data: line, Received: received})
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
	p := leef.New(leef.Options{}).Parser
	rec := dataset.Record{Data: []byte("LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5^srcPort=81^dstPort=21^proto=TCP^usrName=alice^devTime=Mar 01 2024 09:00:00.123 UTC^cat=policy"), Received: received}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(rec); err != nil {
			b.Fatal(err)
		}
	}
}
