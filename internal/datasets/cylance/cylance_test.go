package cylance_test

import (
	"bufio"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/cylance"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

var received = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

const (
	sha256 = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
	md5    = "acbd18db4cc2f85cedef654fccc4a4d8"
)

func newParser() dataset.Parser { return cylance.New(cylance.Options{}).Parser }

func TestGolden(t *testing.T) {
	testutil.RunParserCases(t, "testdata", newParser(), received)
}

func parse(t *testing.T, line string) []*event.Event {
	t.Helper()
	evs, err := newParser().Parse(dataset.Record{Data: []byte(line), Received: received})
	if err != nil {
		t.Fatalf("Parse(%q): %v", line, err)
	}
	return evs
}

func parseOne(t *testing.T, line string) *event.Event {
	t.Helper()
	evs := parse(t, line)
	if len(evs) != 1 {
		t.Fatalf("Parse(%q): %d events, want 1", line, len(evs))
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

func TestThreat(t *testing.T) {
	ev := parseOne(t, `<44>1 2026-11-20T10:00:00.797Z sysloghost CylancePROTECT - - - Event Type: Threat, Event Name: threat_found, Device Name: PC1, IP Address: (10.0.0.5), File Name: evil.exe, Path: C:\Program Files (x86)\Vendor, Inc\evil.exe, SHA256: `+strings.ToUpper(sha256)+`, MD5: `+md5+`, Status: Unsafe, Cylance Score: 100, Found Date: 11/20/2026 9:59:58 AM, Is Running: False, Zone Names: (Default, Servers), Is Malware: True, Threat Classification: Trojan - Generic, Device Id: 2f6f`)
	check(t, ev, map[string]any{
		"@timestamp":                            time.Date(2026, 11, 20, 10, 0, 0, 797e6, time.UTC),
		"event.kind":                            "alert",
		"event.category":                        []string{"malware"},
		"event.type":                            []string{"info"},
		"event.action":                          "threat_found",
		"event.risk_score":                      float64(100),
		"host.name":                             "PC1",
		"host.id":                               "2f6f",
		"host.ip":                               []string{"10.0.0.5"},
		"file.name":                             "evil.exe",
		"file.path":                             `C:\Program Files (x86)\Vendor, Inc\evil.exe`,
		"file.hash.sha256":                      sha256,
		"file.hash.md5":                         md5,
		"cylance.protect.status":                "Unsafe",
		"cylance.protect.is_running":            false,
		"cylance.protect.is_malware":            true,
		"cylance.protect.zone_names":            []string{"Default", "Servers"},
		"cylance.protect.found_date":            time.Date(2026, 11, 20, 9, 59, 58, 0, time.UTC),
		"cylance.protect.threat_classification": "Trojan - Generic",
		"log.syslog.hostname":                   "sysloghost",
		event.RelatedHosts:                      []string{"sysloghost"},
	})
}

func TestCategories(t *testing.T) {
	for line, want := range map[string][3]any{
		"CylancePROTECT Event Type: ExploitAttempt, Event Name: blocked, Action: Blocked": {"alert", []string{"intrusion_detection"}, []string{"denied"}},
		"CylancePROTECT Event Type: ScriptControl, Event Name: Alert":                     {"alert", []string{"intrusion_detection"}, []string{"info"}},
		"CylancePROTECT Event Type: DeviceControl, Event Name: Block":                     {"alert", []string{"intrusion_detection"}, []string{"denied"}},
		"CylancePROTECT Event Type: DeviceControl, Event Name: fullaccess":                {"event", []string{"intrusion_detection"}, []string{"allowed"}},
		"CylancePROTECT Event Type: Device, Event Name: Device Removed":                   {"event", []string{"host"}, []string{"end"}},
		"CylancePROTECT Event Type: AuditLog, Event Name: LoginSuccess, User: A (a@b.c)":  {"event", []string{"authentication"}, []string{"start"}},
		"CylancePROTECT Event Type: AuditLog, Event Name: PolicyEdit, User: A (a@b.c)":    {"event", []string{"configuration"}, []string{"change"}},
		"CylancePROTECT Event Type: Threat, Event Name: threat_quarantined":               {"alert", []string{"malware"}, []string{"deletion"}},
		"CylancePROTECT Event Type: Whatever, Event Name: Something":                      {"event", nil, nil},
	} {
		ev := parseOne(t, line)
		check(t, ev, map[string]any{"event.kind": want[0], "event.category": nilIfEmpty(want[1]), "event.type": nilIfEmpty(want[2])})
	}
}

func nilIfEmpty(v any) any {
	if l, ok := v.([]string); ok && len(l) == 0 {
		return nil
	}
	return v
}

func TestAuditUser(t *testing.T) {
	ev := parseOne(t, `CylancePROTECT Event Type: AuditLog, Event Name: LoginSuccess, Message: Provider: Cylance, Source IP: 198.51.100.23, User: Alice Admin (alice@example.com)`)
	check(t, ev, map[string]any{
		"user.name": "alice@example.com", "user.email": "alice@example.com", "user.full_name": "Alice Admin",
		"source.ip": "198.51.100.23", "event.outcome": "success", "cylance.protect.message": "Provider: Cylance",
	})
}

func TestAPIPage(t *testing.T) {
	evs := parse(t, `{"page_number":1,"page_size":2,"total_pages":1,"total_number_of_items":2,"page_items":[{"id":"d1","name":"PC1","state":"Online","agent_version":"3.1","policy":{"id":"p1","name":"Default"},"date_first_registered":"2025-01-15T08:30:00","ip_addresses":["10.0.0.5"],"mac_addresses":["00:0c:29:aa:bb:cc"]},{"name":"evil.exe","sha256":"`+sha256+`","md5":"`+md5+`","cylance_score":-1.0,"file_size":10,"last_found":"2026-11-20T09:59:58"}]}`)
	if len(evs) != 2 {
		t.Fatalf("%d events, want one per page item", len(evs))
	}
	check(t, evs[0], map[string]any{
		"event.kind": "state", "host.name": "PC1", "host.id": "d1", "host.ip": []string{"10.0.0.5"},
		"host.mac": []string{"00-0C-29-AA-BB-CC"}, "cylance.protect.device.policy.name": "Default",
		"cylance.protect.device.date_first_registered": time.Date(2025, 1, 15, 8, 30, 0, 0, time.UTC),
	})
	check(t, evs[1], map[string]any{
		"event.kind": "alert", "file.name": "evil.exe", "file.hash.sha256": sha256, "file.size": int64(10),
		"@timestamp": time.Date(2026, 11, 20, 9, 59, 58, 0, time.UTC), "cylance.protect.threat.cylance_score": float64(-1),
	})
	if evs := parse(t, `{"page_number":3,"page_size":2,"total_pages":2,"total_number_of_items":4,"page_items":[]}`); len(evs) != 0 {
		t.Errorf("empty page: %d events", len(evs))
	}
}

func TestNotCylance(t *testing.T) {
	for _, line := range []string{
		"Nov 20 10:00:00 host app: Event Type: Threat, Event Name: threat_found",
		"CylancePROTECT started",
		`{"page_items":[{"foo":1}]}`,
		`{"eventName":"ConsoleLogin"}`,
	} {
		if evs, err := newParser().Parse(dataset.Record{Data: []byte(line), Received: received}); err == nil {
			t.Errorf("Parse(%q) = %d events, want an error", line, len(evs))
		}
	}
}

// intended are the documented differences from Elastic's document for
// the rsa2elk sample (see README): Elastic's year comes from its test
// run, not the line; the device is the event's host, not the syslog
// sender; and the device's address is host.ip, not source.ip.
var intended = map[string]bool{"@timestamp": true, "host.name": true, "source.ip": true}

// TestCorpusRSA2ELK compares the one sample with Elastic's document.
func TestCorpusRSA2ELK(t *testing.T) {
	a := testutil.CorpusAgreement(t, newParser(), "cylance/test-rsa2elk-output.json", received)
	for _, d := range a.Diffs {
		t.Log(d)
		field := strings.Fields(d)
		if len(field) < 3 || !intended[strings.TrimSuffix(field[2], ":")] {
			t.Errorf("unexplained difference: %s", d)
		}
	}
	t.Logf("samples %d, fields %d, agreed %d, ratio %.3f (documented differences: %d)", a.Samples, a.Fields, a.Agreed, a.Ratio(), len(a.Diffs))
	if a.Failed != 0 {
		t.Errorf("%d samples failed to parse", a.Failed)
	}
	ev := parseOne(t, `24-Feb-2018 7:26:15 very-high idolor3916.www5.home tas <<autfugi>tasun 24T19:26:15.duntutla ntium4450.www5.localdomain CylancePROTECT Event Name:DeviceRemove, Device Name:vol, IP Address: (10.22.94.10)`)
	// The differences are what the README says they are.
	check(t, ev, map[string]any{
		"@timestamp": time.Date(2018, 2, 24, 7, 26, 15, 0, time.UTC), "host.name": "vol",
		"host.ip": []string{"10.22.94.10"}, "log.syslog.hostname": "ntium4450.www5.localdomain",
	})
}

// TestCorpusGenerated parses the synthetic header variants (no expected
// documents exist): each must parse and keep its Event Name.
func TestCorpusGenerated(t *testing.T) {
	f, err := os.Open(testutil.CorpusFile(t, "cylance/test-generated.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	claim := cylance.New(cylance.Options{}).Claim
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		n++
		if !claim(dataset.LineOf([]byte(line))) {
			t.Errorf("line %d not claimed", n)
		}
		ev := parseOne(t, line)
		_, name, _ := strings.Cut(line, "Event Name:")
		name, _, _ = strings.Cut(strings.TrimSpace(name), ",")
		if ev.String("event.action") != name || ev.String("log.syslog.hostname") == "" {
			t.Errorf("line %d: event.action %q (want %q), log.syslog.hostname %q", n, ev.String("event.action"), name, ev.String("log.syslog.hostname"))
		}
	}
	if n == 0 {
		t.Fatal("no lines")
	}
}

func TestClaim(t *testing.T) {
	claim := cylance.New(cylance.Options{}).Claim
	own := []string{
		`<44>1 2026-11-20T10:00:00.797Z sysloghost CylancePROTECT - - - Event Type: Threat, Event Name: threat_found, Device Name: PC1`,
		`<44>Nov 20 10:01:00 sysloghost CylancePROTECT: Event Type: Device, Event Name: Registration, Device Name: PC4`,
		`24-Feb-2018 7:26:15 very-high idolor3916.www5.home tas <<autfugi>tasun 24T19:26:15.duntutla ntium4450.www5.localdomain CylancePROTECT Event Name:DeviceRemove, Device Name:vol`,
		`{"name":"evil.exe","sha256":"` + sha256 + `","cylance_score":-1.0}`,
		`{"page_number":1,"page_items":[{"id":"d1","name":"PC1","agent_version":"3.1","date_first_registered":"2025-01-15T08:30:00"}]}`,
	}
	for _, l := range own {
		if !claim(dataset.LineOf([]byte(l))) {
			t.Errorf("does not claim its own line %q", l)
		}
	}
	others := []string{
		`Nov 20 10:00:04 web sshd[42]: Accepted publickey for alice from 192.0.2.10 port 50000 ssh2`,
		`Nov 20 10:00:04 mail postfix/smtp[1]: CylancePROTECT quarantine notice sent to bob`,
		`CEF:0|Trend Micro|Deep Security Agent|10|20|Log for TCP Port Scan|5|src=192.0.2.10 dst=10.0.0.5`,
		`Oct 08 09:51:57 debian dhcpd[5074]: DHCPACK on 192.168.42.100 to 08:00:27:3c:55:79 (kali) via eth1`,
		`{"eventVersion":"1.08","eventName":"ConsoleLogin","sha256":"x"}`,
		`{"type":"dns","dns":{"question":{"name":"cylance.com"}}}`,
		`<14>1 2026-11-20T10:00:00Z fw01 q - - - LEEF:2.0|V|P|1|41|^|src=10.0.1.8`,
	}
	for _, l := range others {
		if claim(dataset.LineOf([]byte(l))) {
			t.Errorf("claims another source's line %q", l)
		}
	}
}

func FuzzCylance(f *testing.F) {
	p := newParser()
	f.Fuzz(func(t *testing.T, line []byte) {
		evs, err := p.Parse(dataset.Record{Data: line, Received: received})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "cylance: ") {
				t.Fatalf("error %q does not say which dataset failed", err)
			}
			return
		}
		for _, ev := range evs {
			if ev.String("event.kind") == "" {
				t.Fatalf("event without event.kind: %v", ev.Keys())
			}
			for _, alg := range []string{"sha256", "md5"} {
				if h := ev.String("file.hash." + alg); h != strings.ToLower(h) {
					t.Fatalf("file.hash.%s %q not lower case", alg, h)
				}
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
	n := 0
	for b.Loop() {
		evs, err := p.Parse(rec)
		if err != nil {
			b.Fatal(err)
		}
		n += len(evs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkParseSyslogThreat(b *testing.B) {
	benchmark(b, `<44>1 2026-11-20T10:00:00.797Z sysloghost CylancePROTECT - - - Event Type: Threat, Event Name: threat_found, Device Name: PC1, IP Address: (10.0.0.5), File Name: evil.exe, Path: C:\Users\alice\Downloads\evil.exe, Drive Type: Internal Hard Drive, SHA256: `+sha256+`, MD5: `+md5+`, Status: Unsafe, Cylance Score: 100, Found Date: 11/20/2026 9:59:58 AM, File Type: Executable, Is Running: False, Auto Run: False, Detected By: FileWatcher, Zone Names: (Default), Is Malware: True, Is Unique To Cylance: False, Threat Classification: Trojan - Generic, Device Id: 2f6f3a1c-0b7e-4a7e-9a4b-0c1d2e3f4a5b`)
}

func BenchmarkParseAPIThreat(b *testing.B) {
	benchmark(b, `{"name":"evil.exe","sha256":"`+sha256+`","md5":"`+md5+`","cylance_score":-1.0,"av_industry":null,"classification":"Malware","sub_classification":"Trojan","global_quarantined":false,"safelisted":false,"file_size":73802,"unique_to_cylance":true,"last_found":"2026-11-20T09:59:58"}`)
}
