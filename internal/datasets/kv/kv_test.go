package kv_test

import (
	"bufio"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/kv"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

var received = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func TestGolden(t *testing.T) {
	p := kv.New(kv.Options{}).Parser
	testutil.RunParserCases(t, "testdata", p, received)
}

// TestCorpusFortiGate checks the fields a generic kv reading can know
// against Elastic's FortiGate documents.
func TestCorpusFortiGate(t *testing.T) {
	path := testutil.CorpusFile(t, "ngfw_fortigate/test-fortinet-7-6.log")
	b, err := os.ReadFile(path + "-expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Expected []json.RawMessage `json:"expected"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := kv.New(kv.Options{}).Parser
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	i := 0
	for sc.Scan() {
		line := sc.Text()
		evs, err := p.Parse(dataset.Record{Data: []byte(line), Received: received})
		if err != nil || len(evs) != 1 {
			t.Fatalf("line %d: %d events, %v", i+1, len(evs), err)
		}
		ev := evs[0]
		var want event.Event
		if err := want.UnmarshalJSON(doc.Expected[i]); err != nil {
			t.Fatal(err)
		}
		if !ev.Time().Equal(want.Time()) {
			t.Errorf("line %d: @timestamp %v, Elastic %v", i+1, ev.Time(), want.Time())
		}
		fields := []string{"source.ip", "destination.ip", "user.name"}
		// Elastic renames configuration actions ("Edit" becomes
		// "FortiGate-event-config-objattr"); compare event.action only
		// where it kept the device's word.
		if a := want.String("event.action"); strings.Contains(line, `action="`+a+`"`) {
			fields = append(fields, "event.action")
		}
		for _, field := range fields {
			g, _ := ev.Get(field)
			w, _ := want.Get(field)
			if field == "user.name" && w == nil {
				// Elastic files a configuration change's user under
				// source.user; the line says user= either way.
				w, _ = want.Get("source.user.name")
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("line %d: %s = %#v, Elastic %#v", i+1, field, g, w)
			}
		}
		if ev.String("message") != line || ev.String("kv.logid") == "" {
			t.Errorf("line %d: message or kv.* missing", i+1)
		}
		i++
	}
	if i != len(doc.Expected) {
		t.Fatalf("%d lines, %d expected", i, len(doc.Expected))
	}
}

func FuzzKVDataset(f *testing.F) {
	f.Add([]byte(`date=2024-03-01 time=10:00:00 tz="+0900" srcip=10.0.0.1 srcport=1 user=x action=y`))
	f.Add([]byte(`a.b=1 a=2 a.b.c=3`))
	p := kv.New(kv.Options{}).Parser
	f.Fuzz(func(t *testing.T, line []byte) {
		evs, err := p.Parse(dataset.Record{Data: line, Received: received})
		if err != nil {
			t.Fatalf("kv never fails, got %v", err)
		}
		for _, ev := range evs {
			if _, err := ev.MarshalJSON(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	p := kv.New(kv.Options{}).Parser
	rec := dataset.Record{Data: []byte(`date=2024-03-01 time=10:00:00 devname="FG-01" devid="FGT60E0000000001" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.0.0.1 srcport=51234 srcintf="port1" dstip=203.0.113.5 dstport=443 dstintf="wan1" proto=6 action="accept" policyid=12 service="HTTPS" sentbyte=1204 rcvdbyte=5311`), Received: received}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(rec); err != nil {
			b.Fatal(err)
		}
	}
}
