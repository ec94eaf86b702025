package dhcp_test

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/dhcp"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

var received = time.Date(2026, 11, 20, 12, 30, 0, 0, time.UTC)

func newParser() dataset.Parser { return dhcp.New(dhcp.Options{}).Parser }

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

func TestISCAck(t *testing.T) {
	ev := parseOne(t, newParser(), `<30>Nov 20 10:00:01 dhcp1 dhcpd[5074]: DHCPACK on 10.0.0.5 to 0:c:29:aa:bb:cc (host one) via eth0`)
	check(t, ev, map[string]any{
		"@timestamp":                      time.Date(2026, 11, 20, 10, 0, 1, 0, time.UTC),
		"event.action":                    "dhcpack",
		"event.category":                  []string{"network"},
		"event.type":                      []string{"protocol", "allowed"},
		"event.outcome":                   "success",
		"dhcp.lease.state":                dhcp.StateBound,
		"dhcp.lease.ip":                   "10.0.0.5",
		"dhcp.lease.mac":                  "00-0C-29-AA-BB-CC",
		"dhcp.lease.hostname":             "host one",
		"client.ip":                       "10.0.0.5",
		"client.mac":                      "00-0C-29-AA-BB-CC",
		"client.domain":                   "host one",
		"destination.ip":                  "10.0.0.5",
		"destination.mac":                 "00-0C-29-AA-BB-CC",
		"observer.ingress.interface.name": "eth0",
		"host.name":                       "dhcp1",
		"process.name":                    "dhcpd",
		"process.pid":                     int64(5074),
		"source.ip":                       nil,
	})
}

// TestLeaseOnlyOnLeaseEvents checks that requests, discovers and
// refusals carry no dhcp.lease.*, which a lookup of ip -> mac relies on.
func TestLeaseOnlyOnLeaseEvents(t *testing.T) {
	p := newParser()
	for _, line := range []string{
		`DHCPDISCOVER from 00:0c:29:aa:bb:cc (host1) via eth0`,
		`DHCPREQUEST for 10.0.0.5 (10.0.0.1) from 00:0c:29:aa:bb:cc (host1) via eth0`,
		`DHCPNAK on 10.0.0.9 to 00:0c:29:11:02:33 via 10.20.0.1`,
		`DHCPACK to 10.0.0.40 (00:0c:29:aa:bb:f0) via eth0`,
		`DHCPRELEASE of 10.0.0.77 from 00:0c:29:aa:bb:dd via eth0 (not found)`,
		`2026-11-20 10:00:00.101 INFO  [kea-dhcp4.packets/1234.1] DHCP4_PACKET_RECEIVED [hwtype=1 00:0c:29:aa:bb:cc], cid=[no info], tid=0x1: DHCPREQUEST (type 3) received from 0.0.0.0 to 255.255.255.255 on interface eth0`,
	} {
		ev := parseOne(t, p, line)
		for _, k := range ev.Keys() {
			if strings.HasPrefix(k, "dhcp.lease.") {
				t.Errorf("%q: %s set on an event that states no lease", line, k)
			}
		}
	}
}

func TestKeaLeaseAlloc(t *testing.T) {
	ev := parseOne(t, newParser(), `2026-11-20 10:00:00.152 INFO  [kea-dhcp4.leases/1234.140245] DHCP4_LEASE_ALLOC [hwtype=1 00:0c:29:aa:bb:cc], cid=[01:00:0c:29:aa:bb:cc], tid=0x1a2b3c4e: lease 192.0.2.50 has been allocated for 3600 seconds`)
	check(t, ev, map[string]any{
		"@timestamp":          time.Date(2026, 11, 20, 10, 0, 0, 152e6, time.UTC),
		"event.timezone":      "UTC",
		"event.code":          "DHCP4_LEASE_ALLOC",
		"event.action":        "dhcp4-lease-alloc",
		"dhcp.lease.state":    dhcp.StateBound,
		"dhcp.lease.ip":       "192.0.2.50",
		"dhcp.lease.mac":      "00-0C-29-AA-BB-CC",
		"dhcp.lease.duration": int64(3600),
		"dhcp.client_id":      "01:00:0c:29:aa:bb:cc",
		"dhcp.transaction_id": "0x1a2b3c4e",
		"client.ip":           "192.0.2.50",
		"log.level":           "info",
		"log.logger":          "kea-dhcp4.leases",
		"process.name":        "kea-dhcp4",
		"process.pid":         int64(1234),
		"process.thread.id":   int64(140245),
	})
}

// TestKeaLocalTime checks that Kea's zoneless time is read in the
// configured location.
func TestKeaLocalTime(t *testing.T) {
	p := dhcp.New(dhcp.Options{Location: time.FixedZone("+09:00", 9*3600)}).Parser
	ev := parseOne(t, p, `2026-11-20 19:00:00.000 INFO  [kea-dhcp4.leases/1.2] DHCP4_RELEASE [hwtype=1 00:0c:29:aa:bb:cc], cid=[no info], tid=0x5: address 192.0.2.50 was released properly.`)
	check(t, ev, map[string]any{
		"@timestamp":       time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
		"event.timezone":   "+09:00",
		"dhcp.lease.state": dhcp.StateReleased,
	})
}

func TestTransactionIDsAgree(t *testing.T) {
	p := newParser()
	isc := parseOne(t, p, `DHCPDISCOVER from 00:50:56:00:00:0a via eth3 TransID 0A76ECF8 uid 01:00:50:56:00:00:0a`)
	kea := parseOne(t, p, `2026-11-20 10:00:00.101 INFO  [kea-dhcp4.packets/1.2] DHCP4_QUERY_LABEL received query: [hwtype=1 00:50:56:00:00:0a], cid=[no info], tid=0xa76ecf8`)
	if a, b := isc.String("dhcp.transaction_id"), kea.String("dhcp.transaction_id"); a != "0xa76ecf8" || a != b {
		t.Errorf("dhcpd %q, Kea %q: want both 0xa76ecf8", a, b)
	}
}

func TestNotDHCP(t *testing.T) {
	p := newParser()
	for _, line := range []string{
		"Wrote 44 leases to leases file.",
		"DHCPACK(eth0) 192.0.2.5 00:0c:29:aa:bb:cc host1",
		"Nov 20 10:00:00 web sshd[42]: Accepted publickey for alice",
		"2026-11-20 10:00:00.101 INFO  [kea-dhcp4.packets/1.2 DHCP4_X",
	} {
		if evs, err := p.Parse(dataset.Record{Data: []byte(line), Received: received}); err == nil {
			t.Errorf("Parse(%q) = %d events, want an error", line, len(evs))
		}
	}
	if evs, err := p.Parse(dataset.Record{Data: []byte("\r\n"), Received: received}); err != nil || len(evs) != 0 {
		t.Errorf("blank record: %d events, %v", len(evs), err)
	}
}

// TestCorpusInfoblox compares Infoblox's dhcpd samples with Elastic's
// documents.
func TestCorpusInfoblox(t *testing.T) {
	// The headers ("Apr 18", "Mar 27") have no year: received in 2024 as
	// in Elastic's test run.
	a := testutil.CorpusAgreement(t, newParser(), "dhcp/test-dhcp.log", time.Date(2024, 4, 19, 0, 0, 0, 0, time.UTC))
	for _, d := range a.Diffs {
		t.Log(d)
	}
	t.Logf("samples %d, fields %d, agreed %d, ratio %.3f", a.Samples, a.Fields, a.Agreed, a.Ratio())
	if a.Failed != 0 || a.Ratio() < 0.95 {
		t.Errorf("failed %d, agreement %.3f, want 0 and >= 0.95", a.Failed, a.Ratio())
	}
}

func corpusLines(t *testing.T, rel string) []string {
	t.Helper()
	f, err := os.Open(testutil.CorpusFile(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			lines = append(lines, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// TestCorpusKea parses the real kea-dhcp4 lines (no expected documents
// exist) and checks the lease records they state.
func TestCorpusKea(t *testing.T) {
	p := newParser()
	claim := dhcp.New(dhcp.Options{}).Claim
	leases := map[string]*event.Event{}
	for _, rel := range []string{"dhcp/kea/kea-dhcp4-standalone.log", "dhcp/kea/kea-dhcp4-syslog.log"} {
		for i, line := range corpusLines(t, rel) {
			if !claim(dataset.LineOf([]byte(line))) {
				t.Errorf("%s line %d not claimed", filepath.Base(rel), i+1)
			}
			ev := parseOne(t, p, line)
			if ev.Time().IsZero() || ev.String("event.code") == "" || ev.String("log.logger") == "" {
				t.Errorf("%s line %d: @timestamp %v, event.code %q, log.logger %q", filepath.Base(rel), i+1,
					ev.Time(), ev.String("event.code"), ev.String("log.logger"))
			}
			if s := ev.String("dhcp.lease.state"); s != "" {
				leases[s] = ev
			}
		}
	}
	if len(leases) != 2 {
		t.Fatalf("lease states %v, want offered and bound", leases)
	}
	check(t, leases[dhcp.StateOffered], map[string]any{
		"dhcp.lease.ip": "192.168.42.100", "dhcp.lease.mac": "08-00-27-4D-16-E9",
	})
	check(t, leases[dhcp.StateBound], map[string]any{
		"dhcp.lease.ip": "192.168.42.100", "dhcp.lease.mac": "08-00-27-4D-16-E9", "dhcp.lease.duration": int64(7200),
		"@timestamp": time.Date(2025, 8, 13, 14, 23, 38, 856e6, time.UTC), "host.name": "kea-el",
	})
}

// TestCorpusISC parses the real dhcpd lines (no expected documents exist)
// and checks the leases they bind.
func TestCorpusISC(t *testing.T) {
	p := newParser()
	claim := dhcp.New(dhcp.Options{}).Claim
	var bound []string
	for i, line := range corpusLines(t, "dhcp/isc-dhcpd/isc-dhcpd-syslog.log") {
		if !claim(dataset.LineOf([]byte(line))) {
			t.Errorf("line %d not claimed", i+1)
		}
		ev := parseOne(t, p, line)
		if !strings.HasPrefix(ev.String("event.action"), "dhcp") || ev.String("client.mac") == "" {
			t.Errorf("line %d: event.action %q, client.mac %q", i+1, ev.String("event.action"), ev.String("client.mac"))
		}
		if ev.String("dhcp.lease.state") == dhcp.StateBound {
			bound = append(bound, ev.String("dhcp.lease.ip")+" "+ev.String("dhcp.lease.mac")+" "+ev.String("dhcp.lease.hostname"))
		}
	}
	want := []string{"192.168.42.100 08-00-27-3C-55-79 kali", "192.168.42.42 08-00-27-D2-26-79 "}
	if !reflect.DeepEqual(bound, want) {
		t.Errorf("bound leases %q, want %q", bound, want)
	}
}

func TestClaim(t *testing.T) {
	claim := dhcp.New(dhcp.Options{}).Claim
	own := []string{
		`<30>Apr 18 05:02:05 10.50.1.227 dhcpd[2301]: DHCPREQUEST for 192.168.0.4 from 00:50:56:81:14:6c via eth3`,
		`Nov 20 10:00:00 dhcp1 dhcpd[5074]: Wrote 44 leases to leases file.`,
		`Nov 20 10:00:00 fw dhcpd4: DHCPACK on 10.0.0.5 to 00:0c:29:aa:bb:cc via em0`,
		`DHCPOFFER on 10.0.0.13 to 00:0c:29:aa:bb:13 via eth1`,
		`2026-11-20 10:00:00.152 INFO  [kea-dhcp4.leases/1234.140245] DHCP4_LEASE_ALLOC [hwtype=1 00:0c:29:aa:bb:cc], cid=[no info], tid=0x1: lease 192.0.2.50 has been allocated for 3600 seconds`,
		`2026-11-20 10:00:00.152 ERROR [kea-dhcp4.dhcp4/1234.140245] DHCP4_CONFIG_LOAD_FAIL configuration error using file: x`,
		`Nov 20 10:00:00 gw kea-dhcp4[29529]: INFO  [kea-dhcp4.leases.0x3cbfd6817b00] DHCP4_LEASE_ALLOC [hwtype=1 74:83:c2:00:31:7f], cid=[no info], tid=0x4: lease 192.0.2.146 has been allocated for 3600 seconds`,
	}
	for _, l := range own {
		if !claim(dataset.LineOf([]byte(l))) {
			t.Errorf("does not claim its own line %q", l)
		}
	}
	others := []string{
		`Nov 20 10:00:04 gw dnsmasq-dhcp[321]: DHCPACK(eth0) 192.0.2.5 00:0c:29:aa:bb:cc host1`,
		`DHCPACK(eth0) 192.0.2.5 00:0c:29:aa:bb:cc host1`,
		`Nov 20 10:00:04 ns1 named[811]: client 192.0.2.10#53211: query: www.example.com IN A + (10.0.0.1)`,
		`Nov 20 10:00:04 web sshd[42]: Accepted publickey for alice from 192.0.2.10 port 50000 ssh2`,
		`Nov 20 10:00:04 pc NetworkManager[800]: <info>  [1763632800.1] dhcp4 (eth0): state changed bound -> bound`,
		`Nov 20 10:00:04 pc dhclient[900]: DHCPACK of 10.0.0.5 from 10.0.0.1`,
		`2026-11-20 10:00:00.152 INFO  [kea-dhcp6.leases/1234.140245] DHCP6_LEASE_ALLOC x`,
		`2026-11-20 10:00:00 web01 app: DHCPACK on 10.0.0.5`,
		`CEF:0|Trend Micro|Deep Security Agent|10|20|Log for TCP Port Scan|5|src=192.0.2.10 dst=10.0.0.5`,
		`{"eventVersion":"1.08","eventName":"ConsoleLogin","message":"DHCPACK on 10.0.0.5"}`,
		`<44>1 2019-04-02T10:38:52.797Z sysloghost CylancePROTECT - - - Event Type: Threat, Event Name: threat_found`,
	}
	for _, l := range others {
		if claim(dataset.LineOf([]byte(l))) {
			t.Errorf("claims another source's line %q", l)
		}
	}
}

func FuzzDHCP(f *testing.F) {
	p := newParser()
	f.Fuzz(func(t *testing.T, line []byte) {
		evs, err := p.Parse(dataset.Record{Data: line, Received: received})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "dhcp: ") {
				t.Fatalf("error %q does not say which dataset failed", err)
			}
			return
		}
		if len(evs) > 1 {
			t.Fatalf("%d events from one record", len(evs))
		}
		for _, ev := range evs {
			// A lease record is whole or absent: the state always names
			// the address.
			if ev.Has("dhcp.lease.state") != ev.Has("dhcp.lease.ip") {
				t.Fatalf("dhcp.lease.state %q with dhcp.lease.ip %q", ev.String("dhcp.lease.state"), ev.String("dhcp.lease.ip"))
			}
			if mac := ev.String("dhcp.lease.mac"); mac != "" && mac != strings.ToUpper(mac) {
				t.Fatalf("MAC %q not in ECS form", mac)
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

func BenchmarkParseISC(b *testing.B) {
	benchmark(b, `<30>Nov 20 10:00:01 dhcp1 dhcpd[5074]: DHCPACK on 10.0.0.5 to 00:0c:29:aa:bb:cc (host1) via eth0`)
}

func BenchmarkParseKea(b *testing.B) {
	benchmark(b, `2026-11-20 10:00:00.152 INFO  [kea-dhcp4.leases/1234.140245] DHCP4_LEASE_ALLOC [hwtype=1 00:0c:29:aa:bb:cc], cid=[01:00:0c:29:aa:bb:cc], tid=0x1a2b3c4e: lease 192.0.2.50 has been allocated for 3600 seconds`)
}
