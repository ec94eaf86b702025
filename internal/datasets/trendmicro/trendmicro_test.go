package trendmicro_test

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/trendmicro"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

var (
	received = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	plus9    = time.FixedZone("+09:00", 9*3600)
)

func newParser() dataset.Parser {
	return trendmicro.New(trendmicro.Options{Location: plus9}).Parser
}

func TestGolden(t *testing.T) {
	testutil.RunParserCases(t, "testdata", newParser(), received)
}

func parseOne(t *testing.T, line string) *event.Event {
	t.Helper()
	evs, err := newParser().Parse(dataset.Record{Data: []byte(line), Received: received})
	if err != nil || len(evs) != 1 {
		t.Fatalf("Parse(%q): %d events, %v", line, len(evs), err)
	}
	return evs[0]
}

// TestSeedMapping checks the mapping the dataset must keep on a firewall
// record: the CEF keys the brief names and their ECS fields.
func TestSeedMapping(t *testing.T) {
	ev := parseOne(t, `CEF:0|Trend Micro|Deep Security Agent|10.0.1.1234|20|Log for TCP Port Scan|5|cn1=1 cn1Label=Host ID dvchost=web-01 act=Reset dmac=00:50:56:00:00:01 smac=00:50:56:00:00:02 TrendMicroDsFrameType=IP src=192.0.2.10 dst=10.0.0.5 in=60 cs1=scan cs1Label=Reason proto=TCP spt=44521 dpt=22 cs2=0x00 ACK cs2Label=TCP Flags cnt=4 fname=/var/log/x msg=port scan TrendMicroDsPacketData=AAAA`)
	testutil.CheckFields(t, ev, map[string]any{
		"event.action":      "Reset",
		"destination.ip":    "10.0.0.5",
		"destination.port":  int64(22),
		"destination.mac":   "00-50-56-00-00-01",
		"source.ip":         "192.0.2.10",
		"source.port":       int64(44521),
		"source.mac":        "00-50-56-00-00-02",
		"source.bytes":      int64(60),
		"network.transport": "tcp",
		"network.type":      "ipv4",
		"server.name":       "web-01",
		"host.name":         "web-01",
		"file.path":         "/var/log/x",
		"event.count":       int64(4),
		"rule.category":     "scan",
		"host.id":           "1",
		"message":           "port scan",
		"event.severity":    int64(5),
		"event.kind":        "event",
		"event.category":    []string{"network"},
		"event.type":        []string{"connection", "denied"},
		"event.original":    nil, // the record itself: the pipeline's to set
		// Labelled custom fields under their labels, vendor keys in the
		// dataset's namespace and no longer under cef.extensions.
		"trendmicro.deepsecurity.tcp_flags":          "0x00 ACK",
		"trendmicro.deepsecurity.host_id":            int64(1),
		"trendmicro.deepsecurity.frame_type":         "IP",
		"trendmicro.deepsecurity.packet_data":        "AAAA",
		"trendmicro.deepsecurity.event_class":        "firewall",
		"cef.extensions.TrendMicroDsFrameType":       nil,
		"cef.extensions.deviceCustomString2":         "0x00 ACK",
		"cef.extensions.deviceCustomString2Label":    "TCP Flags",
		"trendmicro.deepsecurity.fragmentation_bits": nil,
	})
}

func TestEventClasses(t *testing.T) {
	cases := []struct {
		id, product, class, kind string
		category                 []string
	}{
		{"20", "Deep Security Agent", "firewall", "event", []string{"network"}},
		{"25", "Deep Security Agent", "firewall", "event", []string{"network"}},
		{"1000552", "Deep Security Agent", "intrusion_prevention", "alert", []string{"intrusion_detection", "network"}},
		{"2002779", "Deep Security Agent", "integrity_monitoring", "event", []string{"file"}},
		{"3002795", "Deep Security Agent", "log_inspection", "alert", []string{"intrusion_detection"}},
		{"4000000", "Deep Security Agent", "anti_malware", "alert", []string{"malware"}},
		{"5000000", "Deep Security Agent", "web_reputation", "alert", []string{"web"}},
		{"6001200", "Deep Security Agent", "application_control", "event", []string{"process"}},
		{"7000000", "Deep Security Agent", "device_control", "event", []string{"host"}},
		{"600", "Deep Security Manager", "system", "event", []string{"authentication", "session"}},
		{"99", "Deep Security Agent", "other", "event", nil},
		{"x", "Deep Security Agent", "other", "event", nil},
	}
	for _, c := range cases {
		t.Run(c.class+"/"+c.id, func(t *testing.T) {
			name := "User Signed In"
			ev := parseOne(t, "CEF:0|Trend Micro|"+c.product+"|1|"+c.id+"|"+name+"|5|filePath=/tmp/f act=Log")
			want := map[string]any{
				"trendmicro.deepsecurity.event_class": c.class,
				"event.kind":                          c.kind,
				"event.category":                      nil,
			}
			if c.category != nil {
				want["event.category"] = c.category
			}
			testutil.CheckFields(t, ev, want)
		})
	}
}

func TestAntiMalware(t *testing.T) {
	ev := parseOne(t, `CEF:0|Trend Micro|Deep Security Agent|20.0|4000000|Eicar_test_file|6|cn1=12 cn1Label=Host ID dvchost=desk-07 filePath=C:\\Users\\a\\eicar.com act=Delete msg=Realtime TrendMicroDsMalwareTarget=N/A TrendMicroDsFileMD5=44D88612FEA8A8F36DE82E1278ABB02F TrendMicroDsFileSHA256=275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F TrendMicroDsRelevantDetectionNames=A;B; TrendMicroDsDetectionConfidence=95`)
	testutil.CheckFields(t, ev, map[string]any{
		"event.kind":           "alert",
		"event.category":       []string{"malware"},
		"threat.software.name": "Eicar_test_file",
		"file.path":            `C:\Users\a\eicar.com`,
		"file.hash.md5":        "44d88612fea8a8f36de82e1278abb02f",
		"file.hash.sha256":     "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
		"trendmicro.deepsecurity.relevant_detection_names": []string{"A", "B"},
		"trendmicro.deepsecurity.detection_confidence":     int64(95),
		"trendmicro.deepsecurity.malware_target":           nil, // N/A
	})
}

func TestIntegrityMonitoringTypes(t *testing.T) {
	for act, want := range map[string]map[string]any{
		"created": {"event.type": []string{"creation"}, "event.category": []string{"file"}, "file.path": "/etc/x"},
		"updated": {"event.type": []string{"change"}, "event.category": []string{"file"}},
		"deleted": {"event.type": []string{"deletion"}, "event.category": []string{"file"}},
		"renamed": {"event.type": []string{"change"}},
	} {
		ev := parseOne(t, "CEF:0|Trend Micro|Deep Security Agent|1|2000001|IM|6|act="+act+" filePath=/etc/x suser=root sproc=/usr/bin/vi")
		want["user.name"] = "root"
		want["process.executable"] = "/usr/bin/vi"
		want["process.name"] = "vi"
		testutil.CheckFields(t, ev, want)
	}
	ev := parseOne(t, `CEF:0|Trend Micro|Deep Security Agent|1|2000001|IM|6|act=updated filePath=HKLM\\Software\\Run`)
	testutil.CheckFields(t, ev, map[string]any{
		"event.category": []string{"registry"},
		"registry.path":  `HKLM\Software\Run`,
		"file.path":      nil,
	})
}

func TestWebReputationURL(t *testing.T) {
	ev := parseOne(t, `CEF:0|Trend Micro|Deep Security Agent|1|5000000|WebReputation|5|request=https://bad.example.net:8443/a/b?c\=d msg=Highly Suspicious`)
	testutil.CheckFields(t, ev, map[string]any{
		"url.original":                 "https://bad.example.net:8443/a/b?c=d",
		"url.domain":                   "bad.example.net",
		"url.port":                     int64(8443),
		"url.path":                     "/a/b",
		"url.query":                    "c=d",
		"url.scheme":                   "https",
		"event.reason":                 "Highly Suspicious",
		"trendmicro.deepsecurity.risk": "Highly Suspicious",
		"event.type":                   []string{"access", "denied"},
	})
}

// TestHostPrecedence checks that the protected computer (dvchost, or dvc
// when the computer is known by its address) names the host, not the
// manager that relayed the record in the syslog header.
func TestHostPrecedence(t *testing.T) {
	ev := parseOne(t, `<134>Mar  1 11:59:01 dsm-01 CEF:0|Trend Micro|Deep Security Agent|20|21|Deny|5|dvc=192.0.2.60 src=203.0.113.7 dst=192.0.2.60`)
	testutil.CheckFields(t, ev, map[string]any{
		"host.name":           "192.0.2.60",
		"host.ip":             []string{"192.0.2.60"},
		"server.name":         "192.0.2.60",
		"log.syslog.hostname": "dsm-01",
		"@timestamp":          time.Date(2024, 3, 1, 2, 59, 1, 0, time.UTC),
	})
	ev = parseOne(t, `<134>Mar  1 11:59:01 web-01 CEF:0|Trend Micro|Deep Security Manager|20|600|User Signed In|3|suser=admin`)
	testutil.CheckFields(t, ev, map[string]any{"host.name": "web-01", "server.name": "web-01", "user.name": "admin"})
}

func TestFluentdWrapper(t *testing.T) {
	line := `CEF:0|Trend Micro|Deep Security Agent|20|20|Log|3|src=198.51.100.30 dst=192.0.2.50`
	ev := parseOne(t, `{"message":"`+line+`","hostname":"web-01","timestamp":"2026-11-20T10:00:00+09:00"}`)
	testutil.CheckFields(t, ev, map[string]any{
		"event.original": line,
		"host.name":      "web-01",
		"@timestamp":     time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC),
		"source.ip":      "198.51.100.30",
	})
}

func TestMalformed(t *testing.T) {
	p := newParser()
	for _, line := range []string{
		"CEF:0|Trend Micro|Deep Security Agent|broken",
		"<134>Mar  1 11:50:00 web-01 sshd[1]: Accepted password for alice",
		`{"hostname":"web-01"}`,
		`{"message":"not cef"}`,
		`{"message":`,
	} {
		if evs, err := p.Parse(dataset.Record{Data: []byte(line), Received: received}); err == nil {
			t.Errorf("Parse(%q): %d events and no error", line, len(evs))
		} else if !strings.HasPrefix(err.Error(), "trendmicro: ") {
			t.Errorf("Parse(%q): error %q does not name the dataset", line, err)
		}
	}
	evs, err := p.Parse(dataset.Record{Data: []byte("  "), Received: received})
	if err != nil || len(evs) != 0 {
		t.Errorf("blank record: %d events, %v", len(evs), err)
	}
}

func TestClaim(t *testing.T) {
	ds := trendmicro.New(trendmicro.Options{})
	for _, tc := range []struct {
		line string
		want bool
	}{
		{"CEF:0|Trend Micro|Deep Security Agent|20|20|Log|3|src=1.2.3.4", true},
		{"CEF:0|Trend Micro|Deep Security Manager|20|600|User Signed In|3|suser=a", true},
		{"<134>Mar  1 11:59:01 dsm-01 CEF:0|Trend Micro|Deep Security Agent|20|20|Log|3|src=1.2.3.4", true},
		{"<134>Mar  1 11:59:01 web-01 dsa[1]: CEF:0|Trend Micro|Deep Security Agent|20|20|Log|3|", true},
		{"<14>1 2024-03-01T11:59:03Z app-03 ds_agent - - - CEF:0|Trend Micro|Deep Security Agent|1|20|x|3|", true},
		// Other Trend Micro products and other vendors' CEF.
		{"CEF:0|Trend Micro|Apex Central|2019|AV:File quarantined|Eicar|3|dvchost=a", false},
		{"CEF:0|Trend Micro|Deep Discovery Inspector|5.0|100|x|3|", false},
		{"CEF:0|Security|threatmanager|1.0|100|worm stopped|10|src=10.0.0.1", false},
		{"<134>Mar  1 11:59:01 fw CEF:0|Palo Alto Networks|PAN-OS|10|TRAFFIC|end|3|src=1.2.3.4", false},
		// Plain syslog, LEEF, JSON of other sources, the vendor name in text.
		{"<13>Mar  1 11:59:01 web-01 sshd[1]: Accepted password for alice from 192.0.2.1 port 22 ssh2", false},
		{"Mar  1 11:59:01 web-01 app: CEF:0 Trend Micro|Deep Security in free text", false},
		{"LEEF:2.0|Trend Micro|Deep Security Agent|20|20|src=1.2.3.4", false},
		{`{"eventVersion":"1.08","eventSource":"signin.amazonaws.com"}`, false},
		{`{"message":"CEF:0|Trend Micro|Deep Security Agent|1|20|x|3|","hostname":"h"}`, false},
		{"", false},
	} {
		if got := ds.Claim(dataset.LineOf([]byte(tc.line))); got != tc.want {
			t.Errorf("Claim(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

func TestKeys(t *testing.T) {
	ds := trendmicro.New(trendmicro.Options{})
	match := func(key string) bool {
		for _, p := range ds.Keys {
			if dataset.MatchKey(p, key) {
				return true
			}
		}
		return false
	}
	for key, want := range map[string]bool{
		"ds_agent/2026/11/20/10_web-01_0.gz":             true,
		"logs/prod/ds_agent/2026/11/20/23_db-02_17.gz":   true,
		"ds_agent/2026/11/20/10_web-01_0.json":           false,
		"AWSLogs/1/CloudTrail/ap/2026/11/20/x.json.gz":   false,
		"other_agent/2026/11/20/10_web-01_0.gz":          false,
		"ds_agent/2026/11/20/extra/10_web-01_0.gz":       false,
		"ds_agent/2026/11/20/10_web-01_0.gz.tmp/ignored": false,
	} {
		if got := match(key); got != want {
			t.Errorf("key %q matched %v, want %v", key, got, want)
		}
	}
}

// TestCorpus compares the Deep Security samples Elastic's CEF integration
// parses with its expected documents. The samples are raw CEF lines (the
// .json file holds them in event.original); Elastic's documents have no
// host.name or @timestamp for them, so the comparison is on actions,
// addresses, ports, transport and related.*.
func TestCorpus(t *testing.T) {
	a := testutil.CorpusAgreement(t, newParser(), "trendmicro_deepsecurity/test-trend-micro.json", received)
	for _, d := range a.Diffs {
		t.Log(d)
	}
	t.Logf("samples %d, failed %d, fields %d, agreed %d, ratio %.3f", a.Samples, a.Failed, a.Fields, a.Agreed, a.Ratio())
	if a.Failed != 0 || a.Ratio() < 0.95 {
		t.Errorf("agreement: %d failed, ratio %.3f", a.Failed, a.Ratio())
	}
}

// TestCorpusRawCEF parses the raw CEF lines of the same samples (the
// corpus has no expected documents of its own for them), each bare, with
// a syslog header and in a fluentd wrapper, and checks that the three
// arrivals give the same event.
func TestCorpusRawCEF(t *testing.T) {
	lines := corpusLines(t, "trendmicro_deepsecurity/test-trend-micro.raw-cef.log")
	p := newParser()
	for i, line := range lines {
		bare := parseLine(t, p, line)
		syslogged := parseLine(t, p, "<134>Mar  1 11:59:01 relay-01 "+line)
		if bare.String("event.code") == "" || bare.String("trendmicro.deepsecurity.event_class") == "other" {
			t.Errorf("line %d: not classified: code %q", i+1, bare.String("event.code"))
		}
		for _, f := range []string{"event.action", "event.code", "source.ip", "destination.ip", "file.path", "event.category", "rule.name", "host.id"} {
			b, _ := bare.Get(f)
			s, _ := syslogged.Get(f)
			if !reflect.DeepEqual(b, s) {
				t.Errorf("line %d: %s bare %#v, in syslog %#v", i+1, f, b, s)
			}
		}
		if !syslogged.Has("log.syslog.priority") || syslogged.Time().IsZero() {
			t.Errorf("line %d: syslog header not kept", i+1)
		}
	}
}

// corpusLines reads the non-empty lines of a corpus file in place.
func corpusLines(t *testing.T, rel string) []string {
	t.Helper()
	b, err := os.ReadFile(testutil.CorpusFile(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimRight(l, "\r"); strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no lines", rel)
	}
	return out
}

func parseLine(t *testing.T, p dataset.Parser, line string) *event.Event {
	t.Helper()
	evs, err := p.Parse(dataset.Record{Data: []byte(line), Received: received})
	if err != nil || len(evs) != 1 {
		t.Fatalf("Parse(%.60q): %d events, %v", line, len(evs), err)
	}
	return evs[0]
}

func FuzzDeepSecurity(f *testing.F) {
	for _, s := range []string{
		"CEF:0|Trend Micro|Deep Security Agent|20|20|Log|3|cn1=1 cn1Label=Host ID src=192.0.2.1 dvc=10.0.0.1",
		"<134>Mar  1 11:59:01 dsm CEF:0|Trend Micro|Deep Security Manager|20|600|User Signed In|3|suser=a",
		`{"message":"CEF:0|Trend Micro|Deep Security Agent|1|5000000|WebReputation|5|request=http://[::1/","hostname":"h"}`,
	} {
		f.Add([]byte(s))
	}
	p := newParser()
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := p.Parse(dataset.Record{Data: data, Received: received})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "trendmicro: ") {
				t.Fatalf("error %q does not name the dataset", err)
			}
			return
		}
		for _, ev := range evs {
			if !ev.Has("cef.device.vendor") && !ev.Has("cef.version") {
				t.Fatalf("event without its CEF header: %v", ev.Keys())
			}
			for _, k := range ev.Keys() {
				if strings.HasPrefix(k, "trendmicro.deepsecurity.") && !validName(k[len("trendmicro.deepsecurity."):]) {
					t.Fatalf("field name %q from the record is not a clean name", k)
				}
			}
			b, err := ev.MarshalJSON()
			if err != nil || !utf8.Valid(b) && utf8.Valid(data) {
				t.Fatalf("marshal: %v", err)
			}
		}
	})
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func BenchmarkParse(b *testing.B) {
	line := []byte(`<134>Mar  1 11:59:01 dsm-01 CEF:0|Trend Micro|Deep Security Agent|20.0.877|1011143|WordPress Plugin Privilege Escalation Vulnerability (CVE-2021-34621)|8|cn1=1035 cn1Label=Host ID dvchost=web-07.example.com TrendMicroDsTenant=Primary TrendMicroDsTenantId=0 dmac=00:50:56:1E:E4:CB smac=00:1C:73:4A:0E:01 TrendMicroDsFrameType=IP src=10.40.8.228 dst=10.50.20.41 in=283 cs3=DF cs3Label=Fragmentation Bits proto=TCP spt=53439 dpt=80 cs2=0x18 ACK PSH cs2Label=TCP Flags cnt=1 act=IDS:Reset cn3=34 cn3Label=Intrusion Prevention Packet Position cs5=1046 cs5Label=Intrusion Prevention Stream Position cs6=8 cs6Label=Intrusion Prevention Flags TrendMicroDsPacketData=UE9TVCAvd3AtYWRtaW4v`)
	p := newParser()
	rec := dataset.Record{Data: line, Received: received}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
