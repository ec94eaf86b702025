package fortinet_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/fortinet"
	"github.com/mamori-sec/mamori/internal/datasets/syslog"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

var received = time.Date(2024, 3, 1, 5, 0, 0, 0, time.UTC)

func TestGolden(t *testing.T) {
	p := fortinet.New(fortinet.Options{}).Parser
	testutil.RunParserCases(t, "testdata", p, received)
}

func parseOne(t *testing.T, opts fortinet.Options, line string) *event.Event {
	t.Helper()
	evs, err := fortinet.New(opts).Parser.Parse(dataset.Record{Data: []byte(line), Received: received})
	if err != nil || len(evs) != 1 {
		t.Fatalf("Parse(%q): %d events, %v", line, len(evs), err)
	}
	return evs[0]
}

const trafficLine = `date=2024-03-01 time=10:00:00 devname="FG100F-HQ" devid="FG100FTK19000001" eventtime=1709254800123456789 tz="+0900" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.1.1.20 srcport=51234 srcintf="port2" srcintfrole="lan" dstip=198.51.100.10 dstport=443 dstintf="wan1" dstintfrole="wan" srccountry="Reserved" dstcountry="United States" sessionid=123456 proto=6 action="close" policyid=12 policytype="policy" poluuid="0a1b2c3d-4e5f-51a2-b3c4-d5e6f7a8b9c0" policyname="LAN-to-WAN" service="HTTPS" trandisp="snat" transip=203.0.113.5 transport=61234 appid=40568 app="HTTPS.BROWSER" appcat="Web.Client" apprisk="medium" applist="default" duration=125 sentbyte=4200 rcvdbyte=98000 sentpkt=40 rcvdpkt=80 utmaction="allow" countapp=1 srcmac="00:1a:2b:3c:4d:5e" user="alice" group="staff"`

// TestTrafficMapping checks the ECS meaning of a forward traffic log.
func TestTrafficMapping(t *testing.T) {
	ev := parseOne(t, fortinet.Options{}, trafficLine)
	testutil.CheckFields(t, ev, map[string]any{
		"@timestamp":                      time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC),
		"event.start":                     time.Unix(0, 1709254800123456789).UTC(),
		"event.timezone":                  "+0900",
		"event.kind":                      "event",
		"event.action":                    "close",
		"event.category":                  []string{"network"},
		"event.type":                      []string{"connection", "end", "allowed"},
		"event.outcome":                   "success",
		"event.code":                      "0000000013",
		"event.duration":                  int64(125 * time.Second),
		"observer.name":                   "FG100F-HQ",
		"observer.serial_number":          "FG100FTK19000001",
		"observer.vendor":                 "Fortinet",
		"observer.ingress.interface.name": "port2",
		"observer.egress.interface.name":  "wan1",
		"source.ip":                       "10.1.1.20",
		"source.port":                     int64(51234),
		"source.nat.ip":                   "203.0.113.5",
		"source.nat.port":                 int64(61234),
		"source.mac":                      "00-1A-2B-3C-4D-5E",
		"source.bytes":                    int64(4200),
		"source.packets":                  int64(40),
		"source.user.name":                "alice",
		"source.user.group.name":          "staff",
		"user.name":                       "alice",
		"source.geo.country_name":         nil,
		"destination.ip":                  "198.51.100.10",
		"destination.port":                int64(443),
		"destination.bytes":               int64(98000),
		"destination.geo.country_name":    "United States",
		"network.bytes":                   int64(102200),
		"network.packets":                 int64(120),
		"network.iana_number":             "6",
		"network.transport":               "tcp",
		"network.protocol":                "https",
		"network.application":             "https.browser",
		"rule.id":                         "12",
		"rule.name":                       "LAN-to-WAN",
		"rule.uuid":                       "0a1b2c3d-4e5f-51a2-b3c4-d5e6f7a8b9c0",
		"log.level":                       "notice",
		"fortinet.firewall.sessionid":     "123456",
		"fortinet.firewall.vd":            "root",
		"fortinet.firewall.srcip":         nil,
	})
}

// TestHeaderOrNot checks that a log gives the same event with FortiGate's
// PRI-only framing, a BSD header, an RFC 5424 header or none.
func TestHeaderOrNot(t *testing.T) {
	bare := parseOne(t, fortinet.Options{}, trafficLine)
	for _, line := range []string{
		"<189>" + trafficLine,
		"<189>Mar  1 10:00:01 FG100F-HQ " + trafficLine,
		"<189>1 2024-03-01T10:00:01+09:00 FG100F-HQ - - - - " + trafficLine,
		"2024-03-01T01:00:01.5+00:00 192.0.2.1 " + trafficLine,
	} {
		ev := parseOne(t, fortinet.Options{}, line)
		bare.Range(func(f string, v any) {
			if got, _ := ev.Get(f); !reflect.DeepEqual(got, v) {
				t.Errorf("%.30q: %s = %#v, without header %#v", line, f, got, v)
			}
		})
	}
}

// TestTimestamps checks the time forms FortiOS writes: no tz (6.0, read in
// the configured location), eventtime in seconds, microseconds and
// nanoseconds, and tz written for people.
func TestTimestamps(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	base := `devid="FG100FTK19000001" logid="0000000013" type="traffic" subtype="forward" `
	cases := []struct {
		line      string
		loc       *time.Location
		ts, start time.Time
		tz        string
	}{
		{"date=2024-03-01 time=10:00:00 " + base, tokyo, time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC), time.Time{}, "JST"},
		{"date=2024-03-01 time=10:00:00 tz=\"UTC+9:00\" eventtime=1709254801 " + base, nil, time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC), time.Unix(1709254801, 0).UTC(), "UTC+9:00"},
		{"date=2024-03-01 time=10:00:00 tz=\"-05:30\" eventtime=1709254801500000 " + base, nil, time.Date(2024, 3, 1, 15, 30, 0, 0, time.UTC), time.UnixMicro(1709254801500000).UTC(), "-05:30"},
		{"eventtime=1709254801000000001 " + base, nil, time.Unix(0, 1709254801000000001).UTC(), time.Unix(0, 1709254801000000001).UTC(), ""},
	}
	for _, c := range cases {
		ev := parseOne(t, fortinet.Options{Location: c.loc}, c.line)
		want := map[string]any{"@timestamp": c.ts, "event.timezone": nil, "event.start": nil}
		if c.tz != "" {
			want["event.timezone"] = c.tz
		}
		if !c.start.IsZero() {
			want["event.start"] = c.start
		}
		testutil.CheckFields(t, ev, want)
	}
}

func TestUTMVirus(t *testing.T) {
	ev := parseOne(t, fortinet.Options{}, `date=2024-03-01 time=11:00:00 devid="FG100FTK19000001" tz="+0900" logid="0211008192" type="utm" subtype="virus" eventtype="infected" action="blocked" srcip=10.1.1.20 dstip=198.51.100.66 filename="eicar.com" virus="EICAR_TEST_FILE" url="http://malware.example.net/eicar.com" analyticscksum="275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F"`)
	testutil.CheckFields(t, ev, map[string]any{
		"event.kind":              "alert",
		"event.category":          []string{"malware", "network"},
		"event.type":              []string{"denied"},
		"event.outcome":           "failure",
		"event.action":            "blocked",
		"file.name":               "eicar.com",
		"file.hash.sha256":        "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
		"url.original":            "http://malware.example.net/eicar.com",
		"url.domain":              "malware.example.net",
		"url.path":                "/eicar.com",
		"url.scheme":              "http",
		"fortinet.firewall.virus": "EICAR_TEST_FILE",
		"fortinet.firewall.url":   nil,
	})
}

func TestUTMWebfilterAndDNS(t *testing.T) {
	web := parseOne(t, fortinet.Options{}, `date=2024-03-01 time=11:03:00 devid="FG100FTK19000001" logid="0317013312" type="utm" subtype="webfilter" action="passthrough" hostname="news.example.com" url="/world/index.html?page=2" catdesc="News and Media"`)
	testutil.CheckFields(t, web, map[string]any{
		"event.category":     []string{"web", "network"},
		"event.type":         []string{"access", "allowed"},
		"url.original":       "news.example.com/world/index.html?page=2",
		"url.domain":         "news.example.com",
		"url.path":           "/world/index.html",
		"url.query":          "page=2",
		"destination.domain": "news.example.com",
	})
	dns := parseOne(t, fortinet.Options{}, `date=2024-03-01 time=11:04:00 devid="FG100FTK19000001" logid="1501054802" type="utm" subtype="dns" eventtype="dns-response" xid=4242 qname="www.example.com" qtype="A" qclass="IN" ipaddr="192.0.2.34, 2001:db8::34" action="pass"`)
	testutil.CheckFields(t, dns, map[string]any{
		"dns.question.name":  "www.example.com",
		"dns.question.type":  "A",
		"dns.question.class": "IN",
		"dns.id":             "4242",
		"dns.resolved_ip":    []string{"192.0.2.34", "2001:db8::34"},
		"network.protocol":   "dns",
		"event.action":       "pass",
	})
}

func TestEventLogs(t *testing.T) {
	login := parseOne(t, fortinet.Options{}, `date=2024-03-01 time=12:00:00 devid="FG100FTK19000001" tz="+0900" logid="0100032002" type="event" subtype="system" logdesc="Admin login failed" user="admin" srcip=192.0.2.200 dstip=192.0.2.1 action="login" status="failed" reason="passwd_invalid" msg="Administrator admin login failed"`)
	testutil.CheckFields(t, login, map[string]any{
		"event.category":   []string{"authentication"},
		"event.type":       []string{"start"},
		"event.outcome":    "failure",
		"event.action":     "login",
		"event.reason":     "passwd_invalid",
		"user.name":        "admin",
		"source.user.name": "admin",
		"source.ip":        "192.0.2.200",
		"rule.description": "Admin login failed",
		"message":          "Administrator admin login failed",
	})
	cfg := parseOne(t, fortinet.Options{}, `date=2024-03-01 time=12:05:00 devid="FG100FTK19000001" logid="0100044546" type="event" subtype="system" logdesc="Attribute configured" user="admin" action="Edit" cfgpath="firewall.policy" cfgobj="12" cfgattr="action[deny->accept]"`)
	testutil.CheckFields(t, cfg, map[string]any{
		"event.category":            []string{"configuration"},
		"event.type":                []string{"change"},
		"event.action":              "Edit",
		"fortinet.firewall.cfgpath": "firewall.policy",
		"fortinet.firewall.cfgattr": "action[deny->accept]",
	})
	vpn := parseOne(t, fortinet.Options{}, `date=2024-03-01 time=12:30:00 devid="FG100FTK19000001" logid="0101037138" type="event" subtype="vpn" action="tunnel-up" remip=203.0.113.40 locip=198.51.100.1 remport=500 locport=500 user="N/A" xauthuser="dave"`)
	testutil.CheckFields(t, vpn, map[string]any{
		"event.category":   []string{"network"},
		"event.type":       []string{"connection", "start"},
		"source.ip":        "203.0.113.40",
		"source.port":      int64(500),
		"destination.ip":   "198.51.100.1",
		"destination.port": int64(500),
		"source.user.name": "dave",
		"user.name":        "dave",
	})
}

// TestEscapedQuotes checks that a quoted value keeps its spaces and
// escaped quotes.
func TestEscapedQuotes(t *testing.T) {
	ev := parseOne(t, fortinet.Options{}, `date=2024-03-01 time=12:50:00 devid="FG100FTK19000001" logid="0100022921" type="event" subtype="system" msg="route said \"link down\" to wan1" name="a b"`)
	testutil.CheckFields(t, ev, map[string]any{
		"message":                `route said "link down" to wan1`,
		"fortinet.firewall.name": "a b",
	})
}

func TestErrors(t *testing.T) {
	p := fortinet.New(fortinet.Options{}).Parser
	for _, line := range []string{
		"this is not a fortigate log",
		"foo=bar baz=qux",
		"<14>Mar  1 10:00:00 web-01 sshd[123]: Accepted password for alice",
	} {
		evs, err := p.Parse(dataset.Record{Data: []byte(line), Received: received})
		if err == nil || !strings.HasPrefix(err.Error(), "fortinet: ") {
			t.Errorf("Parse(%q) = %d events, %v; want a fortinet error", line, len(evs), err)
		}
	}
	for _, line := range []string{"", " ", "<189>", "<189>Mar  1 10:00:00 FG100F-HQ "} {
		evs, err := p.Parse(dataset.Record{Data: []byte(line), Received: received})
		if err != nil || len(evs) != 0 {
			t.Errorf("Parse(%q) = %d events, %v; want none and no error", line, len(evs), err)
		}
	}
}

// TestThroughSyslogDataset checks that a message arriving unnamed on a
// syslog listener is claimed and handed here whole by the syslog dataset,
// as the registry wires it.
func TestThroughSyslogDataset(t *testing.T) {
	var reg *dataset.Registry
	claim := func(l dataset.Line) (dataset.Dataset, bool) { return reg.Claim(l) }
	reg = dataset.NewRegistry(syslog.New(syslog.Options{Claim: claim}), fortinet.New(fortinet.Options{}))
	ds, _ := reg.Lookup(syslog.Name)
	evs, err := ds.Parser.Parse(dataset.Record{Data: []byte("<189>" + trafficLine), Received: received})
	if err != nil || len(evs) != 1 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	if got := evs[0].String(event.FieldDataset); got != fortinet.Name {
		t.Errorf("event.dataset = %q, want %q", got, fortinet.Name)
	}
	if evs[0].String("source.ip") == "" || evs[0].Has(event.FieldError) {
		t.Errorf("not parsed by the dataset: %v", evs[0].Keys())
	}
}

func TestClaim(t *testing.T) {
	claims := []string{
		trafficLine,
		"<189>" + trafficLine,
		"<189>Mar  1 10:00:01 FG100F-HQ " + trafficLine,
		`<189>logver=700 date=2024-03-01 time=10:00:00 devname=FWF61E devid=FWF61ETK19000003 logid=0100032001 type=event`,
	}
	rejects := []string{
		"<14>Mar  1 10:00:00 web-01 sshd[123]: Accepted password for alice from 192.0.2.1 port 5022 ssh2",
		"Mar  1 10:00:00 web-01 kernel: eth0: link up",
		`date=2024-03-01 time=10:00:00 devname="FortiWeb" devid="FV-1KD3A00000000" log_id=11000000 type=attack`,
		`date=2024-03-01 time=10:00:00 device_id=FE-3KE0000000000 log_id=0003000001 type=event subtype=smtp`,
		`user=alice action=login status=success srcip=10.0.0.1`,
		"CEF:0|Fortinet|FortiGate|7.2|0000000013|traffic:forward close|3|deviceExternalId=FG100FTK19000001 src=10.0.0.1",
		"1,2024/03/01 10:15:30,007200001234,TRAFFIC,end,2561,2024/03/01 10:15:30,10.1.1.20",
		`{"devid":"FG100FTK19000001","logid":"0000000013"}`,
		"",
	}
	for _, s := range claims {
		if !fortinet.Claim(dataset.LineOf([]byte(s))) {
			t.Errorf("Claim(%.60q) = false, want true", s)
		}
	}
	for _, s := range rejects {
		if fortinet.Claim(dataset.LineOf([]byte(s))) {
			t.Errorf("Claim(%.60q) = true, want false", s)
		}
	}
}

// TestCorpus76 compares with Elastic's documents for FortiOS 7.6 admin
// login and configuration events. The one intended difference: Elastic
// names a configuration change's event.action from a table of log ids
// ("FortiGate-event-config-objattr"); this dataset uses the log's own
// action ("Edit"), see the README.
func TestCorpus76(t *testing.T) {
	a := testutil.CorpusAgreement(t, fortinet.New(fortinet.Options{}).Parser, "ngfw_fortigate/test-fortinet-7-6.log", received)
	for _, d := range a.Diffs {
		t.Log(d)
	}
	t.Logf("%d samples, %d failed, %d/%d core fields agree (%.3f)", a.Samples, a.Failed, a.Agreed, a.Fields, a.Ratio())
	if a.Failed != 0 || a.Ratio() < 0.95 {
		t.Errorf("%d failed, agreement %.3f; want 0 and >= 0.95", a.Failed, a.Ratio())
	}
}

func FuzzFortiGate(f *testing.F) {
	f.Add([]byte("<189>" + trafficLine))
	f.Add([]byte(`date=2024-03-01 time=10:00:00 tz="UTC-3:30" eventtime=1709254801500000 devid=FG1 logid=1 type=utm subtype=webfilter url="https://[2001:db8::1]:8443/a?b#c" hostname="x" msg="a \"b\" \\ c"`))
	f.Add([]byte(`devid=FG1 logid=1 type=event subtype=vpn remip=203.0.113.40 remport=500 locip=x xauthuser=d`))
	p := fortinet.New(fortinet.Options{}).Parser
	f.Fuzz(func(t *testing.T, line []byte) {
		evs, err := p.Parse(dataset.Record{Data: line, Received: received})
		if err != nil {
			if len(evs) != 0 || !strings.HasPrefix(err.Error(), "fortinet: ") {
				t.Fatalf("error %v with %d events", err, len(evs))
			}
			return
		}
		for _, ev := range evs {
			if ev.String("observer.vendor") != "Fortinet" || ev.String("event.kind") == "" {
				t.Fatalf("event without observer.vendor or event.kind: %v", ev.Keys())
			}
			if _, err := ev.MarshalJSON(); err != nil {
				t.Fatalf("event does not marshal: %v", err)
			}
		}
	})
}

func BenchmarkParseTraffic(b *testing.B) {
	p := fortinet.New(fortinet.Options{}).Parser
	rec := dataset.Record{Data: []byte("<189>" + trafficLine), Received: received}
	b.ReportAllocs()
	b.SetBytes(int64(len(rec.Data)))
	for i := 0; i < b.N; i++ {
		if _, err := p.Parse(rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkClaim(b *testing.B) {
	l := dataset.Line{Body: []byte(trafficLine)}
	for i := 0; i < b.N; i++ {
		if !fortinet.Claim(l) {
			b.Fatal("not claimed")
		}
	}
}
