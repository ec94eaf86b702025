package mapping_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/cef"
	"github.com/mamori-sec/mamori/internal/datasets/json"
	"github.com/mamori-sec/mamori/internal/datasets/kv"
	"github.com/mamori-sec/mamori/internal/datasets/leef"
	"github.com/mamori-sec/mamori/internal/datasets/syslog"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/pipeline"
	"github.com/mamori-sec/mamori/internal/search"
	"github.com/mamori-sec/mamori/internal/search/searchtest"
)

// registry builds the registry the way internal/datasets.Builtin does (the
// syslog and json datasets ask the registry about bodies and wrapped
// lines), with the custom datasets registered first.
func registry(custom ...dataset.Dataset) *dataset.Registry {
	var reg *dataset.Registry
	body := func(data []byte) (dataset.Dataset, bool) {
		switch name := dataset.Detect(data); name {
		case dataset.CEF, dataset.LEEF:
			return reg.Lookup(name)
		}
		return dataset.Dataset{}, false
	}
	inner := func(data []byte) (dataset.Dataset, bool) { return reg.Detect(data) }
	claim := func(l dataset.Line) (dataset.Dataset, bool) { return reg.Claim(l) }
	now := func() time.Time { return received }
	all := append(slices.Clone(custom),
		syslog.New(syslog.Options{Now: now, Body: body, Claim: claim}),
		cef.New(cef.Options{}),
		leef.New(leef.Options{}),
		kv.New(kv.Options{}),
		json.New(json.Options{Inner: inner}),
	)
	reg = dataset.NewRegistry(all...)
	return reg
}

// acmeApp is a JSON mapping that claims its records by a marker.
const acmeApp = `name: acme.app
format: json
keys: ["**/acme/app/*.json"]
lines: {contains: '"app":"acme"'}
timestamp: time
fields:
  - {from: user.name, to: user.name}
  - {from: action, to: event.action}
  - {from: client, to: source.ip, type: ip}
set: {event.kind: event, event.category: [authentication]}
`

// Records written for this test in Deep Security's documented CEF layout.
const (
	dsUDP = `<134>Mar  1 11:50:00 dsa01 CEF:0|Trend Micro|Deep Security Agent|20.0.0|21|Log for UDP Port 53|3|cn1=7 cn1Label=Host ID hostname=web-07 act=Log src=192.0.2.10 spt=53000 dst=198.51.100.53 dpt=53 proto=UDP in=120 cnt=3`
	dsApp = `<134>Mar  1 11:51:00 dsa01 CEF:0|Trend Micro|Deep Security Agent|20.0.0|6001200|AppControl detectOnly|6|cn1=8 cn1Label=Host ID hostname=web-08 act=detectOnly suser=root filePath=/opt/tool.sh cs1=notWhitelisted cs1Label=actionReason`
	dsTCP = `CEF:0|Trend Micro|Deep Security Agent|20.0.0|20|Log for TCP Port 443|0|cn1=9 cn1Label=Host ID act=Reset src=192.0.2.30 spt=40000 dst=10.0.0.5 dpt=443 proto=TCP`
	sshd  = `<38>Mar  1 11:52:00 web-01 sshd[4242]: Failed password for invalid user admin from 203.0.113.9 port 52144 ssh2`
	waf   = `CEF:0|Acme|WAF|2.1|942100|SQL Injection|8|src=192.0.2.44 act=blocked`
	// A fluentd record around a Deep Security line, as agents' log files
	// are shipped.
	fluentd = `{"message":"` + dsTCP + `","hostname":"web-09","timestamp":"2024-03-01T11:53:00Z"}`
	appOK   = `{"app":"acme","time":"2024-03-01T11:54:00Z","user":{"name":"alice"},"action":"login","client":"192.0.2.77"}`
	appBad  = `{"app":"acme","time":"2024-03-01T11:55:00Z","user":{"name":"bob"}`
)

// TestBehavesLikeBuiltin puts mapped datasets into a registry beside the
// generic ones and checks that they are recognised, normalised, stored
// and searched as a built-in dataset is.
func TestBehavesLikeBuiltin(t *testing.T) {
	ds := loadExample(t)
	app := load(t, acmeApp)
	reg := registry(ds, app)

	// Unnamed records are routed to the mapping that claims them.
	for line, want := range map[string]string{
		dsTCP:   ds.Name,
		dsUDP:   ds.Name,
		appOK:   app.Name,
		appBad:  app.Name,
		waf:     "cef",
		sshd:    "syslog",
		fluentd: "json", // which unwraps it and asks the registry about the line
	} {
		if got, ok := reg.Detect([]byte(line)); !ok || got.Name != want {
			t.Errorf("Detect(%.40q...) = %q, want %q", line, got.Name, want)
		}
	}
	if got, ok := reg.ForKey("exports/acme/app/2024-03-01.json"); !ok || got.Name != app.Name {
		t.Errorf("ForKey: %q, %v", got.Name, ok)
	}

	// Normalize completes a mapped event as it does a built-in one.
	syslogDS, _ := reg.Lookup("syslog")
	key := "raw/syslog/2024/03/01/11/obj.ndjson.zst"
	evs, failed := pipeline.Normalize(syslogDS, dataset.Record{Data: []byte(dsUDP), Received: received}, key, 3, received)
	if failed || len(evs) != 1 {
		t.Fatalf("Normalize: %d events, failed %v", len(evs), failed)
	}
	ev := evs[0]
	for f, want := range map[string]any{
		"event.dataset":  ds.Name,
		"event.id":       event.ID(key, 3, 0),
		"event.original": dsUDP,
		"@timestamp":     time.Date(2024, 3, 1, 11, 50, 0, 0, time.UTC),
		"source.bytes":   int64(120),
		"server.name":    "web-07",
		"host.name":      "dsa01",
	} {
		if got, _ := ev.Get(f); got != want {
			t.Errorf("normalized %s = %#v, want %#v", f, got, want)
		}
	}
	for f, want := range map[string][]string{
		"related.ip":    {"192.0.2.10", "198.51.100.53"},
		"related.hosts": {"dsa01", "web-07"},
	} {
		if got := ev.Strings(f); !slices.Equal(got, want) {
			t.Errorf("normalized %s = %q, want %q", f, got, want)
		}
	}
	evs, failed = pipeline.Normalize(app, dataset.Record{Data: []byte(appBad), Received: received}, "k", 0, received)
	if !failed || len(evs) != 1 || !strings.HasPrefix(evs[0].String(event.FieldError), "acme.app: json:") ||
		evs[0].String(event.FieldOriginal) != appBad || !evs[0].Time().Equal(received) {
		t.Errorf("bad record: failed %v, %v", failed, evs)
	}

	// Through the processor, the store and search.
	s := storeObjects(t, reg, map[string][]string{
		"syslog":   {dsUDP, dsApp, sshd, waf},
		"json":     {fluentd},
		"acme.app": {appOK, appBad},
	})
	for _, tc := range []struct {
		query string
		want  int
		check func(*event.Event) bool
	}{
		{"event.dataset:trendmicro.deepsecurity_custom", 3, nil},
		{"rule.category:notWhitelisted", 1, func(e *event.Event) bool { return e.String("host.id") == "8" }},
		{"notWhitelisted", 1, func(e *event.Event) bool { return e.String("file.path") == "/opt/tool.sh" }},
		{"source.user.name:root", 1, nil},
		{"destination.port:443", 1, func(e *event.Event) bool {
			// Unwrapped from fluentd: the line is the original, the
			// wrapper gives the host and time.
			return e.String("event.dataset") == ds.Name && e.String("event.original") == dsTCP &&
				e.String("host.name") == "web-09" && e.Time().Equal(time.Date(2024, 3, 1, 11, 53, 0, 0, time.UTC))
		}},
		{"related.ip:198.51.100.53", 1, func(e *event.Event) bool { return e.String("server.name") == "web-07" }},
		{"198.51.100.53", 1, nil},
		{"network.transport:udp AND event.count:3", 1, nil},
		{"user.name:alice", 1, func(e *event.Event) bool {
			return e.String("event.dataset") == app.Name && e.String("source.ip") == "192.0.2.77"
		}},
		{"_exists_:error.message", 1, func(e *event.Event) bool {
			return e.String("event.dataset") == app.Name && e.String("event.kind") == "pipeline_error" &&
				strings.HasPrefix(e.String(event.FieldError), "acme.app: ")
		}},
		{"event.dataset:syslog AND process.name:sshd", 1, nil},
		{"event.dataset:cef", 1, nil},
	} {
		res, err := s.Search(context.Background(), search.Request{Query: tc.query, Count: true, ExactCount: true})
		if err != nil {
			t.Errorf("%q: %v", tc.query, err)
			continue
		}
		if res.Total != int64(tc.want) || len(res.Events) != tc.want {
			t.Errorf("%q: total %d, %d events; want %d", tc.query, res.Total, len(res.Events), tc.want)
			continue
		}
		for _, e := range res.Events {
			if tc.check != nil && !tc.check(e) {
				b, _ := e.MarshalJSON()
				t.Errorf("%q: unexpected event %s", tc.query, b)
			}
		}
	}
}

// storeObjects processes one archive object per dataset through the real
// processor into a fresh store, and returns a searcher over it.
func storeObjects(t *testing.T, reg *dataset.Registry, objects map[string][]string) *search.Searcher {
	t.Helper()
	var objs []searchtest.Object
	for name, lines := range objects {
		objs = append(objs, searchtest.Object{Key: "raw/" + name + "/2024/03/01/11/obj.ndjson.zst", Dataset: name,
			Records: searchtest.Records(lines, received, 0, "192.0.2.1:514")})
	}
	st := searchtest.Load(t, searchtest.Options{Datasets: reg, Index: search.IndexBlock, Created: received, Now: received, BatchRecords: 3, BlockRecords: 2}, objs...)
	return search.New(st, reg, nil)
}
