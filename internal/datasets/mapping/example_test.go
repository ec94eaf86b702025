package mapping_test

import (
	"bufio"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/testutil"
)

// dsaLine is a Deep Security firewall event written for this test from
// Trend Micro's documented CEF layout: it carries the keys the corpus
// lines lack (in, fname, hostname beside dvchost, rt).
const dsaLine = `CEF:0|Trend Micro|Deep Security Agent|20.0.0|21|Log for UDP Port 53|3|cn1=7 cn1Label=Host ID dvchost=dsa-ignored hostname=web-07 act=Log src=192.0.2.10 spt=53000 dst=198.51.100.53 dpt=53 proto=UDP in=120 cnt=3 rt=Mar 01 2024 11:58:00 GMT+01:00 fname=dns.cap`

// exampleWant is what the shipped example must make of the corpus's four
// raw Deep Security lines, in order, and of dsaLine: the seed's fields
// (act, src, spt, smac, dst, dpt, dmac, in, proto, hostname/dvchost,
// fname, cnt, cs1, cn1, msg) and the header fields, read off the lines by
// hand.
var exampleWant = []map[string]any{
	{
		"source.ip": "10.52.116.160", "source.user.name": "admin",
		"message": "User signed in from 2001:db8::5", "event.code": "600", "event.severity": int64(3),
		"observer.vendor": "Trend Micro", "observer.product": "Deep Security Manager", "observer.version": "1.2.3",
		"event.kind": "event", "trendmicro.target": "admin",
	},
	{
		"event.action": "Delete", "server.name": "hostname", "host.id": "1",
		"file.path": `C:\Users\trend\Desktop\eicar.exe`, "message": "Realtime", "event.severity": int64(6),
		"file.hash.md5":                  "44d88612fea8a8f36de82e1278abb02f",
		"file.hash.sha1":                 "3395856ce81f2b7382dee72602f798b642f14140",
		"file.hash.sha256":               "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
		"trendmicro.deviceCustomNumber2": "205", "trendmicro.deviceCustomNumber2Label": "Quarantine File Size",
	},
	{
		"event.action": "detectOnly", "host.id": "202", "rule.category": "notWhitelisted",
		"file.path": "/home/user1/Desktop/Directory1//heartbeatSync.sh", "source.user.name": "root",
		"file.hash.sha256": "80d4ac182f97d2ab48ee4310ac51da5974167c596d133d64a83107b9069745e0",
		"message":          "AppControl detectOnly", "observer.version": "10.2.229",
		"trendmicro.deviceAddress": "192.168.33.128",
	},
	{
		"event.action": "Log", "source.ip": "192.168.126.150", "source.port": int64(49617),
		"source.mac": "00-0C-29-EB-35-DE", "destination.ip": "81.2.69.192", "destination.port": int64(80),
		"destination.mac": "00-50-56-F5-7F-47", "destination.bytes": int64(1019), "network.transport": "tcp",
		"event.count": int64(1), "server.name": "hostname", "host.id": "1", "message": "Log for TCP Port 80",
		"event.severity": int64(0), "trendmicro.deviceCustomString2": "0x00 ACK PSH",
	},
	{
		"server.name": "web-07", "host.id": "7", "event.action": "Log", "source.ip": "192.0.2.10",
		"source.port": int64(53000), "destination.ip": "198.51.100.53", "destination.port": int64(53),
		"network.transport": "udp", "source.bytes": int64(120), "event.count": int64(3), "file.path": "dns.cap",
		"@timestamp": time.Date(2024, 3, 1, 10, 58, 0, 0, time.UTC), "message": "Log for UDP Port 53",
	},
}

// TestExampleDeepSecurity maps real Deep Security lines with the shipped
// example, as they are and behind a syslog header.
func TestExampleDeepSecurity(t *testing.T) {
	d := loadExample(t)
	lines := corpusLines(t, "trendmicro_deepsecurity/test-trend-micro.raw-cef.log")
	if len(lines) != 4 {
		t.Fatalf("corpus has %d lines, the test knows 4", len(lines))
	}
	lines = append(lines, dsaLine)
	const header = "<134>Mar  1 11:59:00 dsa01 "
	for i, line := range lines {
		bare := parseOne(t, d, line)
		check(t, "line", i, bare, exampleWant[i])
		if bare.Has("host.name") || bare.Has("log.syslog.priority") {
			t.Errorf("line %d without a header has header fields: %v", i+1, bare.Keys())
		}

		headed := parseOne(t, d, header+line)
		check(t, "headed line", i, headed, exampleWant[i])
		headerWant := map[string]any{"host.name": "dsa01", "log.syslog.priority": int64(134), "log.syslog.hostname": "dsa01"}
		if _, hasRT := exampleWant[i]["@timestamp"]; !hasRT {
			// The record's own time wins; without one, the header's.
			headerWant["@timestamp"] = time.Date(2024, 3, 1, 11, 59, 0, 0, time.UTC)
		}
		check(t, "headed line", i, headed, headerWant)
		if !d.Claim(dataset.LineOf([]byte(line))) || !d.Claim(dataset.LineOf([]byte(header+line))) {
			t.Errorf("line %d is not claimed", i+1)
		}
	}
}

// TestCorpusDeepSecurity compares the example's documents with the ones
// Elastic's CEF pipeline makes of the same lines (test-trend-micro.json
// holds them decoded by a Beats processor, the raw line in
// event.original).
func TestCorpusDeepSecurity(t *testing.T) {
	d := loadExample(t)
	a := testutil.CorpusAgreement(t, d.Parser, "trendmicro_deepsecurity/test-trend-micro.json", received)
	for _, diff := range a.Diffs {
		t.Log(diff)
	}
	t.Logf("samples %d, failed %d, fields %d, agreed %d (%.2f)", a.Samples, a.Failed, a.Fields, a.Agreed, a.Ratio())
	if a.Failed != 0 || a.Ratio() < 0.95 {
		t.Errorf("agreement %.2f with %d failures; want >= 0.95 and none", a.Ratio(), a.Failed)
	}
}

func check(t *testing.T, what string, i int, ev interface{ Get(string) (any, bool) }, want map[string]any) {
	t.Helper()
	for f, w := range want {
		if got, _ := ev.Get(f); !reflect.DeepEqual(got, w) {
			t.Errorf("%s %d: %s = %#v, want %#v", what, i+1, f, got, w)
		}
	}
}

// corpusLines reads a corpus file's non-empty lines.
func corpusLines(t *testing.T, rel string) []string {
	t.Helper()
	f, err := os.Open(testutil.CorpusFile(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if sc.Text() != "" {
			lines = append(lines, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}
