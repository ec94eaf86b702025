package dhcp_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/enrich"
	"github.com/mamori-sec/mamori/internal/enrich/dhcp"
	"github.com/mamori-sec/mamori/internal/event"
)

// flow is a firewall-like event between two addresses.
func flow(t time.Time, src, dst string) *event.Event {
	e := event.New(8)
	e.Set(event.FieldDataset, "fortinet.fortigate")
	e.Set(event.FieldTimestamp, t)
	e.Set("source.ip", src)
	e.Set("destination.ip", dst)
	return e
}

func leaseTable() *dhcp.Table {
	return table(
		lease(at("10:00"), "bound", "10.0.0.5", macA, "ws1", time.Hour),
		lease(at("10:00"), "bound", "10.0.0.6", macB, "laptop-2", time.Hour),
		lease(at("10:00"), "bound", "10.0.0.7", macB, "", time.Hour), // no host name
	)
}

func enrichOne(tb *dhcp.Table, e *event.Event) *event.Event {
	tb.Enrich(context.Background(), []*event.Event{e})
	return e
}

func TestEnrichInsideTheInterval(t *testing.T) {
	e := enrichOne(leaseTable(), flow(at("10:30"), "10.0.0.5", "10.0.0.6"))
	want := map[string]any{
		"source.mac":                                     macA,
		"source.domain":                                  "ws1",
		"destination.mac":                                macB,
		"destination.domain":                             "laptop-2",
		"mamori.enrichment.dhcp.source.mac":              macA,
		"mamori.enrichment.dhcp.source.hostname":         "ws1",
		"mamori.enrichment.dhcp.source.lease_start":      at("10:00"),
		"mamori.enrichment.dhcp.destination.mac":         macB,
		"mamori.enrichment.dhcp.destination.hostname":    "laptop-2",
		"mamori.enrichment.dhcp.destination.lease_start": at("10:00"),
		enrich.FieldEnriched:                             []string{"source.mac", "source.domain", "destination.mac", "destination.domain"},
	}
	for f, w := range want {
		if got, _ := e.Get(f); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", f, got, w)
		}
	}
}

func TestEnrichNotOutsideTheInterval(t *testing.T) {
	tb := leaseTable()
	for _, when := range []string{"09:59", "11:00", "12:00"} {
		e := enrichOne(tb, flow(at(when), "10.0.0.5", "192.0.2.1"))
		if e.Has("source.mac") || e.Has("mamori.enrichment.dhcp.source.mac") || e.Has(enrich.FieldEnriched) {
			t.Errorf("event at %s attributed outside the lease: %v", when, e.Keys())
		}
	}
	// An address never leased, and an event without a time.
	e := enrichOne(tb, flow(at("10:30"), "10.0.0.99", "not-an-ip"))
	untimed := event.New(2)
	untimed.Set("source.ip", "10.0.0.5")
	enrichOne(tb, untimed)
	if e.Has("source.mac") || untimed.Has("source.mac") {
		t.Error("attributed an unleased address or an event without @timestamp")
	}
}

func TestEnrichNeverOverwrites(t *testing.T) {
	e := flow(at("10:30"), "10.0.0.5", "10.0.0.6")
	e.Set("source.mac", "00-11-22-33-44-55")
	e.Set("destination.domain", "printer.example.net")
	enrichOne(leaseTable(), e)
	if got := e.String("source.mac"); got != "00-11-22-33-44-55" {
		t.Errorf("source.mac overwritten: %s", got)
	}
	if got := e.String("destination.domain"); got != "printer.example.net" {
		t.Errorf("destination.domain overwritten: %s", got)
	}
	// The record says what the table knew, so the disagreement is visible.
	if got := e.String("mamori.enrichment.dhcp.source.mac"); got != macA {
		t.Errorf("record of the attribution: source mac %q, want %q", got, macA)
	}
	if got := e.Strings(enrich.FieldEnriched); !reflect.DeepEqual(got, []string{"source.domain", "destination.mac"}) {
		t.Errorf("%s = %v, want only the fields added", enrich.FieldEnriched, got)
	}
}

func TestEnrichClientAndHost(t *testing.T) {
	e := event.New(8)
	e.Set(event.FieldDataset, "linux.auth")
	e.Set(event.FieldTimestamp, at("10:30"))
	e.Set("client.ip", "10.0.0.7")
	e.Set("host.ip", []string{"fe80::1", "10.0.0.6"})
	enrichOne(leaseTable(), e)
	if got := e.String("client.mac"); got != macB {
		t.Errorf("client.mac = %q", got)
	}
	if e.Has("client.domain") || e.Has("mamori.enrichment.dhcp.client.hostname") {
		t.Error("a lease without a host name gave one")
	}
	if got, _ := e.Get("host.mac"); !reflect.DeepEqual(got, []string{macB}) {
		t.Errorf("host.mac = %#v, want a list (ECS)", got)
	}
	if got := e.String("host.hostname"); got != "laptop-2" {
		t.Errorf("host.hostname = %q", got)
	}
}

func TestEnrichLeavesLeaseEventsAlone(t *testing.T) {
	e := lease(at("10:30"), "bound", "10.0.0.5", macA, "ws1", time.Hour)
	e.Set("client.ip", "10.0.0.5")
	before := e.Len()
	enrichOne(leaseTable(), e)
	if e.Len() != before {
		t.Errorf("a dhcp.lease event was enriched: %v", e.Keys())
	}
}

func TestEnrichIsIdempotent(t *testing.T) {
	tb := leaseTable()
	once := enrichOne(tb, flow(at("10:30"), "10.0.0.5", "10.0.0.6"))
	twice := enrichOne(tb, enrichOne(tb, flow(at("10:30"), "10.0.0.5", "10.0.0.6")))
	a, _ := once.MarshalJSON()
	b, _ := twice.MarshalJSON()
	if string(a) != string(b) {
		t.Errorf("enriching twice differs:\n%s\n%s", a, b)
	}
	if s := tb.Stats(); s.Attributed != 6 {
		t.Errorf("Attributed = %d, want 6 (two sides, three times)", s.Attributed)
	}
}

func TestNilAndEmptyTables(t *testing.T) {
	var tb *dhcp.Table
	e := flow(at("10:30"), "10.0.0.5", "10.0.0.6")
	tb.Enrich(context.Background(), []*event.Event{e})
	tb.Observe([]*event.Event{e})
	if err := tb.Replay(context.Background(), nil); err != nil {
		t.Error(err)
	}
	table().Enrich(context.Background(), []*event.Event{e, nil})
	if e.Has("source.mac") {
		t.Error("attributed without leases")
	}
}

func BenchmarkEnrich(b *testing.B) {
	// 5,000 leased addresses with a day of hourly renewals each, and a
	// batch of 1,000 flows of which most name a leased source.
	tb := newTable(&clock{day0.Add(24 * time.Hour)})
	var leases []*event.Event
	for i := range 5000 {
		ip := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		mac := fmt.Sprintf("00-0C-29-00-%02X-%02X", i>>8&255, i&255)
		for h := range 24 {
			leases = append(leases, lease(day0.Add(time.Duration(h)*time.Hour), "bound", ip, mac, fmt.Sprintf("ws-%d", i), 2*time.Hour))
		}
	}
	tb.Observe(leases)
	batch := func() []*event.Event {
		evs := make([]*event.Event, 1000)
		for i := range evs {
			src := fmt.Sprintf("10.0.%d.%d", (i*7)>>8&255, (i*7)&255)
			evs[i] = flow(day0.Add(time.Duration(i)*time.Minute), src, "198.51.100.7")
		}
		return evs
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		evs := batch()
		b.StartTimer()
		tb.Enrich(context.Background(), evs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/event")
}

// BenchmarkObserve measures a committed batch as OnCommit hands it over:
// mostly other datasets' events, which must cost next to nothing, and a
// few lease events.
func BenchmarkObserve(b *testing.B) {
	evs := make([]*event.Event, 20000)
	for i := range evs {
		if i%100 == 0 {
			evs[i] = lease(day0.Add(time.Duration(i)*time.Second), "bound",
				fmt.Sprintf("10.1.%d.%d", i>>8&255, i&255), macA, "ws", time.Hour)
			continue
		}
		evs[i] = flow(day0.Add(time.Duration(i)*time.Second), "10.0.0.5", "198.51.100.7")
	}
	tb := newTable(&clock{day0.Add(24 * time.Hour)})
	b.ReportAllocs()
	for b.Loop() {
		tb.Observe(evs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(evs)), "ns/event")
}
