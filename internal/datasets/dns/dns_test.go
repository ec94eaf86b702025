package dns_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/dns"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

var received = time.Date(2026, 11, 20, 10, 0, 30, 0, time.UTC)

func newParser() dataset.Parser { return dns.New(dns.Options{}).Parser }

func TestGolden(t *testing.T) {
	testutil.RunParserCases(t, "testdata", newParser(), received)
}

func parseOne(t *testing.T, p dataset.Parser, line string) *event.Event {
	t.Helper()
	evs, err := p.Parse(dataset.Record{Data: []byte(line), Received: received})
	if err != nil || len(evs) != 1 {
		t.Fatalf("Parse(%q): %d events, %v", line, len(evs), err)
	}
	return evs[0]
}

func check(t *testing.T, ev *event.Event, want map[string]any) {
	t.Helper()
	for f, w := range want {
		got, _ := ev.Get(f)
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", f, got, w)
		}
	}
}

func TestBINDQuery(t *testing.T) {
	ev := parseOne(t, newParser(), `20-Nov-2026 10:00:00.123 queries: info: client @0x7f3a2c01b168 192.0.2.10#53211 (www.example.com): view internal: query: www.example.com IN A +E(0)DK (10.0.0.1)`)
	check(t, ev, map[string]any{
		"@timestamp":                     time.Date(2026, 11, 20, 10, 0, 0, 123e6, time.UTC),
		"event.timezone":                 "UTC",
		"event.category":                 []string{"network"},
		"event.type":                     []string{"protocol"},
		"event.action":                   "dns-query",
		"dns.type":                       "query",
		"dns.question.name":              "www.example.com",
		"dns.question.class":             "IN",
		"dns.question.type":              "A",
		"dns.question.registered_domain": "example.com",
		"dns.question.top_level_domain":  "com",
		"dns.question.subdomain":         "www",
		"dns.header_flags":               []string{"RD", "DO"},
		"dns.query.flags":                "+E(0)DK",
		"dns.query.view":                 "internal",
		"client.ip":                      "192.0.2.10",
		"client.port":                    int64(53211),
		"source.ip":                      "192.0.2.10",
		"server.ip":                      "10.0.0.1",
		"network.transport":              "udp",
		"network.protocol":               "dns",
		"log.logger":                     "queries",
		"log.level":                      "info",
		event.RelatedHosts:               []string{"www.example.com"},
		"event.outcome":                  nil,
		"dns.response_code":              nil,
		"dns.answers":                    nil,
	})
}

func TestBINDTCPFlag(t *testing.T) {
	ev := parseOne(t, newParser(), `client 2001:db8::25#33000 (ns1.example.com): query: ns1.example.com IN A +T (2001:db8::53)`)
	check(t, ev, map[string]any{"network.transport": "tcp", "network.type": "ipv6", "server.ip": "2001:db8::53"})
}

// TestBodyTimeZone checks that BIND's zoneless time is read in the
// configured location and wins over the syslog header's.
func TestBodyTimeZone(t *testing.T) {
	plus9 := time.FixedZone("+09:00", 9*3600)
	p := dns.New(dns.Options{Location: plus9}).Parser
	ev := parseOne(t, p, `<30>Nov 20 19:00:09 ns1 named[1]: 20-Nov-2026 19:00:06.120 client 192.0.2.20#57398 UDP: query: a.example.com IN A response: NOERROR +`)
	check(t, ev, map[string]any{
		"@timestamp":     time.Date(2026, 11, 20, 10, 0, 6, 120e6, time.UTC),
		"event.timezone": "+09:00",
		"host.name":      "ns1",
		"process.name":   "named",
		"process.pid":    int64(1),
	})
}

func TestInfobloxResponse(t *testing.T) {
	ev := parseOne(t, newParser(), `<30>Nov 20 10:00:06 ib.example.net named[17742]: 20-Nov-2026 10:00:06.120 client 192.0.2.20#57398 UDP: query: www.example.com IN A response: NOERROR +AED www.example.com. 300 IN CNAME web.example.com.; web.example.com. 300 IN A 203.0.113.80;`)
	check(t, ev, map[string]any{
		"dns.type":          "answer",
		"event.action":      "dns-response",
		"event.outcome":     "success",
		"dns.response_code": "NOERROR",
		"dns.header_flags":  []string{"AA", "RA", "DO"},
		"dns.answers": []any{
			map[string]any{"name": "www.example.com", "ttl": int64(300), "class": "IN", "type": "CNAME", "data": "web.example.com"},
			map[string]any{"name": "web.example.com", "ttl": int64(300), "class": "IN", "type": "A", "data": "203.0.113.80"},
		},
		"dns.resolved_ip":   []string{"203.0.113.80"},
		"network.transport": "udp",
		"host.name":         "ib.example.net",
		"process.pid":       int64(17742),
		event.RelatedIP:     []string{"203.0.113.80"},
		event.RelatedHosts:  []string{"www.example.com", "web.example.com"},
	})
}

func TestQueryErrors(t *testing.T) {
	p := newParser()
	ev := parseOne(t, p, `client @0x7f 192.0.2.10#53214 (broken.example.com): query failed (SERVFAIL) for broken.example.com/IN/A at query.c:7105`)
	check(t, ev, map[string]any{
		"dns.response_code": "SERVFAIL", "event.outcome": "failure", "dns.question.name": "broken.example.com",
		"dns.question.class": "IN", "dns.question.type": "A", "event.action": "dns-query-failed",
	})
	ev = parseOne(t, p, `client @0x7f 203.0.113.9#4444 (example.com): query (cache) 'example.com/ANY/IN' denied`)
	check(t, ev, map[string]any{
		"event.type": []string{"protocol", "denied"}, "event.outcome": "failure",
		"dns.question.type": "ANY", "dns.question.class": "IN", "event.action": "dns-query-denied",
	})
}

func TestUnbound(t *testing.T) {
	p := newParser()
	ev := parseOne(t, p, `[1795168801] unbound[1234:1] info: 192.0.2.10 www.example.com. A IN NOERROR 0.000171 0 45`)
	check(t, ev, map[string]any{
		"@timestamp":           time.Date(2026, 11, 20, 10, 0, 1, 0, time.UTC),
		"dns.question.name":    "www.example.com",
		"dns.question.type":    "A",
		"dns.question.class":   "IN",
		"dns.response_code":    "NOERROR",
		"dns.type":             "answer",
		"event.duration":       int64(171000),
		"dns.query.from_cache": false,
		"server.bytes":         int64(45),
		"client.ip":            "192.0.2.10",
		"process.name":         "unbound",
		"process.pid":          int64(1234),
		"process.thread.id":    int64(1),
	})
	ev = parseOne(t, p, `Nov 20 10:00:03 resolver unbound: [1234:0] info: 192.0.2.11 example.net. MX IN`)
	check(t, ev, map[string]any{
		"dns.type": "query", "dns.question.type": "MX", "host.name": "resolver", "process.name": "unbound",
		"process.pid": int64(1234), "@timestamp": time.Date(2026, 11, 20, 10, 0, 3, 0, time.UTC),
	})
}

func TestSplitDomainApproximation(t *testing.T) {
	p := newParser()
	for name, want := range map[string][3]any{
		"a.b.example.com":         {"example.com", "com", "a.b"},
		"example.com":             {"example.com", "com", nil},
		"example.co.uk":           {"co.uk", "uk", "example"}, // approximate: documented
		"10.2.0.192.in-addr.arpa": {nil, nil, nil},
		"localhost":               {nil, nil, nil},
	} {
		ev := parseOne(t, p, "client 192.0.2.1#1: query: "+name+" IN A + (10.0.0.1)")
		check(t, ev, map[string]any{
			"dns.question.registered_domain": want[0],
			"dns.question.top_level_domain":  want[1],
			"dns.question.subdomain":         want[2],
		})
	}
}

func TestNotDNS(t *testing.T) {
	p := newParser()
	for _, line := range []string{
		"zone example.com/IN: loaded serial 1",
		"client 192.0.2.10#53211 (x): transfer of 'example.com/IN': AXFR started",
		`{"type":"flow"}`,
		"[1795168800] unbound[1:0] info: start of service",
	} {
		if evs, err := p.Parse(dataset.Record{Data: []byte(line), Received: received}); err == nil {
			t.Errorf("Parse(%q) = %d events, want an error", line, len(evs))
		}
	}
	if evs, err := p.Parse(dataset.Record{Data: []byte("  "), Received: received}); err != nil || len(evs) != 0 {
		t.Errorf("blank record: %d events, %v", len(evs), err)
	}
}

// TestCorpusInfoblox compares the Infoblox NIOS (BIND) samples with
// Elastic's documents.
func TestCorpusInfoblox(t *testing.T) {
	// The syslog headers say "Mar 11": received the next day of 2024, as in
	// Elastic's test run. The @timestamp comes from BIND's own time anyway.
	a := testutil.CorpusAgreement(t, newParser(), "dns/test-dns.log", time.Date(2024, 3, 12, 0, 0, 0, 0, time.UTC))
	for _, d := range a.Diffs {
		t.Log(d)
	}
	t.Logf("samples %d, fields %d, agreed %d, ratio %.3f", a.Samples, a.Fields, a.Agreed, a.Ratio())
	if a.Failed != 0 || a.Ratio() < 0.95 {
		t.Errorf("failed %d, agreement %.3f, want 0 and >= 0.95", a.Failed, a.Ratio())
	}
}

// TestCorpusPacketbeat passes Elastic's Packetbeat DNS document through
// and checks that every field it had is still there with its value.
func TestCorpusPacketbeat(t *testing.T) {
	raw, err := os.ReadFile(testutil.CorpusFile(t, "dns/network_traffic-dns-sample_event.json"))
	if err != nil {
		t.Fatal(err)
	}
	var line bytes.Buffer
	if err := json.Compact(&line, raw); err != nil {
		t.Fatal(err)
	}
	if !dns.New(dns.Options{}).Claim(dataset.LineOf(line.Bytes())) {
		t.Error("Packetbeat DNS document not claimed")
	}
	ev := parseOne(t, newParser(), line.String())
	var want event.Event
	if err := want.UnmarshalJSON(raw); err != nil {
		t.Fatal(err)
	}
	n := 0
	want.Range(func(field string, w any) {
		if field == event.FieldDataset {
			return // becomes dns.query; data_stream.dataset keeps Packetbeat's
		}
		n++
		if got, _ := ev.Get(field); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, Packetbeat had %#v", field, got, w)
		}
	})
	if ev.String(event.FieldDataset) != dns.Name || ev.String("data_stream.dataset") != "network_traffic.dns" {
		t.Errorf("event.dataset %q, data_stream.dataset %q", ev.String(event.FieldDataset), ev.String("data_stream.dataset"))
	}
	t.Logf("%d fields passed through", n)
}

func TestClaim(t *testing.T) {
	claim := dns.New(dns.Options{}).Claim
	own := []string{
		`<30>Mar 11 23:51:31 infoblox.localdomain named[11042]: 07-Apr-2022 08:08:10.043 client 192.168.0.1#57398 UDP: query: a1.foo.com IN A response: NOERROR +ED`,
		`20-Nov-2026 10:00:00.123 queries: info: client @0x7f3a2c01b168 192.0.2.10#53211 (www.example.com): query: www.example.com IN A +E(0)K (10.0.0.1)`,
		`2026-11-20T10:00:02.250Z queries: info: client @0x55d1c0a8 198.51.100.7#5353 (example.co.uk): query: example.co.uk IN TXT +SC (10.0.0.1)`,
		`client 192.0.2.12#1053: query: example.net IN AAAA + (10.0.0.1)`,
		`Nov 20 10:00:04 ns1 named[811]: client @0x7f 192.0.2.10#53214 (b.example.com): query failed (SERVFAIL) for b.example.com/IN/A at query.c:7105`,
		`[1795168800] unbound[1234:0] info: 192.0.2.10 www.example.com. A IN`,
		`Nov 20 10:00:03 resolver unbound: [1234:0] info: 192.0.2.11 example.net. MX IN NOERROR 0.000171 0 45`,
		`Nov 20 10:00:04 resolver unbound[1234]: [1234:2] reply: 2001:db8::1 . NS IN NOERROR 0.1 1 200`,
		`{"type":"dns","dns":{"question":{"name":"a.example"}},"client":{"ip":"192.0.2.1"}}`,
	}
	for _, l := range own {
		if !claim(dataset.LineOf([]byte(l))) {
			t.Errorf("does not claim its own line %q", l)
		}
	}
	others := []string{
		`Nov 20 10:00:04 ns1 named[811]: zone example.com/IN: loaded serial 2026112001`,
		`Nov 20 10:00:04 ns1 named[811]: client @0x7f 192.0.2.10#53211 (example.com): transfer of 'example.com/IN': AXFR started`,
		`[1795168800] unbound[1234:0] info: start of service (unbound 1.19.0).`,
		`Nov 20 10:00:04 gw dnsmasq[321]: query[A] www.example.com from 192.0.2.10`,
		`Nov 20 10:00:04 web sshd[42]: Accepted publickey for alice from 192.0.2.10 port 50000 ssh2`,
		`Nov 20 10:00:04 web app[1]: client 192.0.2.1 sent query: something odd`,
		`Oct 08 09:51:57 debian dhcpd[5074]: DHCPACK on 192.168.42.100 to 08:00:27:3c:55:79 (kali) via eth1`,
		`CEF:0|Trend Micro|Deep Security Agent|10|20|Log for TCP Port Scan|5|src=192.0.2.10 dst=10.0.0.5`,
		`<134>Mar  1 11:59:01 web-01 dsa: CEF:0|Trend Micro|Deep Security Agent|20.0|20|x|5|src=192.0.2.10`,
		`{"eventVersion":"1.08","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","type":"dns"}`,
		`{"type":"flow","network":{"protocol":"dns"},"dns":{"id":1}}`,
		`2026-11-20 10:00:00.123 INFO  [kea-dhcp4.leases/1234.140] DHCP4_LEASE_ALLOC [hwtype=1 00:0c:29:aa:bb:cc], cid=[no info], tid=0x1: lease 192.0.2.50 has been allocated for 3600 seconds`,
	}
	for _, l := range others {
		if claim(dataset.LineOf([]byte(l))) {
			t.Errorf("claims another source's line %q", l)
		}
	}
}

func FuzzDNS(f *testing.F) {
	p := newParser()
	f.Fuzz(func(t *testing.T, line []byte) {
		evs, err := p.Parse(dataset.Record{Data: line, Received: received})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "dns: ") {
				t.Fatalf("error %q does not say which dataset failed", err)
			}
			return
		}
		if len(evs) > 1 {
			t.Fatalf("%d events from one record", len(evs))
		}
		for _, ev := range evs {
			if ev.String("network.protocol") != "dns" {
				t.Fatalf("event without network.protocol dns: %v", ev.Keys())
			}
			if _, err := ev.MarshalJSON(); err != nil {
				t.Fatalf("marshal: %v", err)
			}
		}
	})
}

func benchmark(b *testing.B, line string) {
	p := newParser()
	rec := dataset.Record{Data: []byte(line), Received: received}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkParseBINDSyslog(b *testing.B) {
	benchmark(b, `<30>Nov 20 10:00:03 ns1 named[811]: client @0x7f3a2c01b168 192.0.2.10#53211 (www.example.com): query: www.example.com IN A +E(0)K (10.0.0.1)`)
}

func BenchmarkParseInfobloxResponse(b *testing.B) {
	benchmark(b, `<30>Nov 20 10:00:06 infoblox.example.net named[17742]: 20-Nov-2026 10:00:06.120 client 192.0.2.20#57398 UDP: query: www.example.com IN A response: NOERROR +AED www.example.com. 300 IN CNAME web.example.com.; web.example.com. 300 IN A 203.0.113.80;`)
}

func BenchmarkParseUnbound(b *testing.B) {
	benchmark(b, `[1795168801] unbound[1234:1] info: 192.0.2.10 www.example.com. A IN NOERROR 0.000171 0 45`)
}
