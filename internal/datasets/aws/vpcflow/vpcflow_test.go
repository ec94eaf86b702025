package vpcflow_test

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/aws/vpcflow"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

var received = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

const defaultHeader = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"

// renderObject parses a golden input as one S3 object: like the pipeline,
// it gives every record the object's first line as Record.Header.
func renderObject(t *testing.T, p dataset.Parser, input []byte) []byte {
	t.Helper()
	lines := bytes.Split(bytes.TrimRight(input, "\n"), []byte("\n"))
	var out bytes.Buffer
	for _, line := range lines {
		evs, err := p.Parse(dataset.Record{Data: line, Received: received, Header: lines[0]})
		if err != nil {
			evs = []*event.Event{event.New(1)}
			evs[0].Set(event.FieldError, err.Error())
		}
		for _, ev := range evs {
			b, err := ev.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			out.Write(b)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

func TestGolden(t *testing.T) {
	p := vpcflow.New(vpcflow.Options{}).Parser
	testutil.RunCases(t, "testdata", func(t *testing.T, input []byte) []byte { return renderObject(t, p, input) })
}

func parse(t *testing.T, line, header string) ([]*event.Event, error) {
	t.Helper()
	rec := dataset.Record{Data: []byte(line), Received: received}
	if header != "" {
		rec.Header = []byte(header)
	}
	return vpcflow.New(vpcflow.Options{}).Parser.Parse(rec)
}

func parseOne(t *testing.T, line, header string) *event.Event {
	t.Helper()
	evs, err := parse(t, line, header)
	if err != nil || len(evs) != 1 {
		t.Fatalf("Parse(%q): %d events, %v", line, len(evs), err)
	}
	return evs[0]
}

// TestDefaultFormat checks the ECS meaning of a default-format record.
func TestDefaultFormat(t *testing.T) {
	ev := parseOne(t, "2 123456789012 eni-0a1b2c3d4e5f60001 203.0.113.12 172.31.16.139 49152 443 6 20 4249 1700000000 1700000060 REJECT OK", defaultHeader)
	testutil.CheckFields(t, ev, map[string]any{
		"@timestamp":               time.Unix(1700000060, 0).UTC(),
		"event.start":              time.Unix(1700000000, 0).UTC(),
		"event.end":                time.Unix(1700000060, 0).UTC(),
		"source.ip":                "203.0.113.12",
		"source.port":              int64(49152),
		"destination.ip":           "172.31.16.139",
		"destination.port":         int64(443),
		"network.transport":        "tcp",
		"network.iana_number":      "6",
		"network.type":             "ipv4",
		"source.packets":           int64(20),
		"source.bytes":             int64(4249),
		"network.bytes":            int64(4249),
		"event.action":             "deny",
		"event.outcome":            "failure",
		"event.category":           []string{"network"},
		"event.type":               []string{"connection"},
		"cloud.account.id":         "123456789012",
		"aws.vpcflow.interface_id": "eni-0a1b2c3d4e5f60001",
		"aws.vpcflow.version":      "2",
		"aws.vpcflow.action":       "REJECT",
		"aws.vpcflow.log_status":   "OK",
		"event.created":            nil,
		"aws.vpcflow.srcaddr":      nil,
		"aws.vpcflow.pkt_srcaddr":  nil,
		"aws.vpcflow.tcp_flags":    nil,
		"cloud.instance.id":        nil,
	})
}

// TestCommunityID checks the hash against the Community ID specification's
// published baseline (TCP 128.232.110.120:34855 -> 66.35.250.204:80, seed
// 0) and that it does not depend on the direction.
func TestCommunityID(t *testing.T) {
	const want = "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
	fwd := parseOne(t, "2 123456789012 eni-1 128.232.110.120 66.35.250.204 34855 80 6 1 60 1700000000 1700000060 ACCEPT OK", "")
	rev := parseOne(t, "2 123456789012 eni-1 66.35.250.204 128.232.110.120 80 34855 6 1 60 1700000000 1700000060 ACCEPT OK", "")
	if got := fwd.String("network.community_id"); got != want {
		t.Errorf("community id = %q, want %q", got, want)
	}
	if got := rev.String("network.community_id"); got != want {
		t.Errorf("reverse community id = %q, want %q", got, want)
	}
	icmp := parseOne(t, "2 123456789012 eni-1 10.0.0.1 10.0.0.2 0 0 1 1 84 1700000000 1700000060 ACCEPT OK", "")
	if icmp.Has("network.community_id") {
		t.Error("ICMP flow got a community id without type and code")
	}
}

// TestCustomHeader checks that an object's header line decides the
// columns, whatever their order.
func TestCustomHeader(t *testing.T) {
	header := "srcaddr dstaddr action flow-direction pkt-srcaddr tcp-flags instance-id az-id region"
	ev := parseOne(t, "10.0.0.8 192.0.2.44 ACCEPT egress 10.0.0.99 18 i-0abc eu-west-1-az1 eu-west-1", header)
	testutil.CheckFields(t, ev, map[string]any{
		"source.ip":                   "10.0.0.8",
		"destination.ip":              "192.0.2.44",
		"event.action":                "allow",
		"event.outcome":               "success",
		"network.direction":           "egress",
		"aws.vpcflow.pkt_srcaddr":     "10.0.0.99",
		"aws.vpcflow.tcp_flags":       "18",
		"aws.vpcflow.tcp_flags_array": []string{"syn", "ack"},
		"cloud.instance.id":           "i-0abc",
		"aws.vpcflow.instance_id":     "i-0abc",
		"cloud.availability_zone":     "eu-west-1-az1",
		"cloud.region":                "eu-west-1",
		"@timestamp":                  nil,
		"network.transport":           nil,
		"aws.vpcflow.version":         nil,
		"aws.vpcflow.account_id":      nil,
	})
	// The packet-level address is related too.
	ev.FillRelated()
	if got := ev.Strings(event.RelatedIP); !reflect.DeepEqual(sorted(got), []string{"10.0.0.8", "10.0.0.99", "192.0.2.44"}) {
		t.Errorf("related.ip = %v", got)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func TestHeaderLineGivesNoEvent(t *testing.T) {
	for _, h := range []string{defaultHeader, "vpc-id subnet-id instance-id tcp-flags type", "version srcaddr brand-new-field"} {
		evs, err := parse(t, h, h)
		if err != nil || len(evs) != 0 {
			t.Errorf("header %q: %d events, %v; want none", h, len(evs), err)
		}
		// Also when the pipeline gives no header (a single-line read).
		evs, err = parse(t, h, "")
		if err != nil || len(evs) != 0 {
			t.Errorf("header %q without Record.Header: %d events, %v; want none", h, len(evs), err)
		}
	}
}

func TestUnknownHeaderFieldKept(t *testing.T) {
	ev := parseOne(t, "2 10.0.0.1 xyz", "version srcaddr brand-new-field")
	testutil.CheckFields(t, ev, map[string]any{
		"aws.vpcflow.brand_new_field": "xyz",
		"source.ip":                   "10.0.0.1",
	})
}

func TestLayoutErrors(t *testing.T) {
	cases := []struct{ line, header, wantErr string }{
		{"2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 2 3 4 ACCEPT OK extra", "", "15 fields match no known layout"},
		{"10.0.0.1 10.0.0.2", "srcaddr dstaddr action", "2 fields but its header line names 3"},
		{"2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 2 3 4 ACCEPT", "", "13 fields match no known layout"},
		{"2 123456789012 eni-1 10.0.0.1 nope 1 2 6 1 2 3 4 ACCEPT OK", defaultHeader, "field 5 (dstaddr): \"nope\" is not an IP address"},
		{"2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 99999 6 1 2 3 4 ACCEPT OK", "", "field 7 (dstport)"},
		{"2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 2 3 99999999999999999 ACCEPT OK", "", "field 12 (end)"},
		{"2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 tcp 1 2 3 4 ACCEPT OK", "", "field 8 (protocol)"},
		// A 21-field order that only Elastic's tests use is refused, not
		// misread as AWS's version 3 order.
		{"3 vpc-1 subnet-1 i-1 eni-1 123456789012 IPv4 10.0.0.1 10.0.0.2 1 2 10.0.0.1 10.0.0.2 6 100 1 1700000000 1700000060 ACCEPT 2 OK", "", "field 4 (srcaddr)"},
	}
	for _, c := range cases {
		_, err := parse(t, c.line, c.header)
		if err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("Parse(%q, header %q) error = %v, want one containing %q", c.line, c.header, err, c.wantErr)
		}
	}
}

// TestDataLineAsHeader: a CloudWatch Logs export has no header, so the
// pipeline hands the first data line as Record.Header; it must not be
// taken for one.
func TestDataLineAsHeader(t *testing.T) {
	first := "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 2 1700000000 1700000060 ACCEPT OK"
	ev := parseOne(t, "2 123456789012 eni-1 10.0.0.3 10.0.0.4 1 2 17 1 2 1700000000 1700000060 ACCEPT OK", first)
	testutil.CheckFields(t, ev, map[string]any{"source.ip": "10.0.0.3", "network.transport": "udp"})
}

func TestNoData(t *testing.T) {
	ev := parseOne(t, "2 123456789012 eni-1 - - - - - - - 1700000100 1700000160 - NODATA", "")
	testutil.CheckFields(t, ev, map[string]any{
		"source.ip":              nil,
		"destination.ip":         nil,
		"event.action":           nil,
		"event.outcome":          nil,
		"network.transport":      nil,
		"event.type":             []string{"info"},
		"aws.vpcflow.log_status": "NODATA",
		"@timestamp":             time.Unix(1700000160, 0).UTC(),
	})
}

func TestCloudWatchExportTime(t *testing.T) {
	ev := parseOne(t, "2023-11-14T22:15:05.000Z 2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 2 1700000000 1700000060 ACCEPT OK", "")
	testutil.CheckFields(t, ev, map[string]any{
		"event.created": time.Date(2023, 11, 14, 22, 15, 5, 0, time.UTC),
		"@timestamp":    time.Unix(1700000060, 0).UTC(),
	})
}

func TestIPv6Canonical(t *testing.T) {
	ev := parseOne(t, "2 123456789012 eni-1 2001:DB8:0:0::1 ::ffff:10.0.0.2 1 2 6 1 2 1700000000 1700000060 ACCEPT OK", "")
	testutil.CheckFields(t, ev, map[string]any{
		"source.ip":      "2001:db8::1",
		"destination.ip": "10.0.0.2",
		"network.type":   "ipv6",
	})
}

// TestCorpus compares with Elastic's document for its v5 all-fields
// sample, which Elastic's pipeline reads without a header (by its width).
func TestCorpus(t *testing.T) {
	a := testutil.CorpusAgreement(t, vpcflow.New(vpcflow.Options{}).Parser, "aws_vpcflow/test-v5-all-fields.log", received)
	for _, d := range a.Diffs {
		t.Log(d)
	}
	t.Logf("samples %d, failed %d, fields %d, agreed %d, ratio %.3f", a.Samples, a.Failed, a.Fields, a.Agreed, a.Ratio())
	if a.Failed != 0 || a.Ratio() < 0.95 {
		t.Errorf("agreement: %d failed, ratio %.3f; want 0 failed and >= 0.95", a.Failed, a.Ratio())
	}
}

// TestCorpusCommunityID checks the one vendor-neutral field outside the
// core list that Elastic's document carries and that is easy to get wrong.
func TestCorpusCommunityID(t *testing.T) {
	path := testutil.CorpusFile(t, "aws_vpcflow/test-v5-all-fields.log")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	expected, err := os.ReadFile(path + "-expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Expected []struct {
			Network struct {
				CommunityID string `json:"community_id"`
			} `json:"network"`
		} `json:"expected"`
	}
	if err := json.Unmarshal(expected, &doc); err != nil || len(doc.Expected) != 1 {
		t.Fatalf("expected documents: %v", err)
	}
	ev := parseOne(t, strings.TrimSpace(string(data)), "")
	if got, want := ev.String("network.community_id"), doc.Expected[0].Network.CommunityID; got != want {
		t.Errorf("community id = %q, want Elastic's %q", got, want)
	}
}

func TestClaim(t *testing.T) {
	own := []string{
		"2 123456789012 eni-0a1b2c3d4e5f60001 203.0.113.12 172.31.16.139 49152 443 6 20 4249 1700000000 1700000060 ACCEPT OK",
		"2 123456789012 eni-0a1b2c3d4e5f60001 - - - - - - - 1700000100 1700000160 - NODATA",
		"5 64111117617 eni-069xxxxxb7a490 89.160.20.156 10.200.0.0 50041 33004 17 52 1 164000066 1640000297 REJECT OK vpc-1 subnet-1 i-1 1 IPv4 89.160.20.156 10.200.0.80 us-east-1 use1-az5 - - AMAZON CLOUDFRONT ingress 1",
		"2 unknown eni-0f9e8d7c6b5a40002 10.0.1.5 10.0.2.9 8080 38211 6 7 1200 1700000300 1700000360 ACCEPT OK",
		"2023-11-14T22:15:05.000Z 2 123456789012 eni-1a2b 10.0.0.1 10.0.0.2 1 2 6 1 2 1700000000 1700000060 ACCEPT OK",
		defaultHeader,
		"vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path",
	}
	others := []string{
		"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
		"Oct 11 22:14:15 host sshd[42]: Accepted publickey for alice from 10.0.0.1 port 22 ssh2",
		"2024-03-01T12:00:00Z host app: 2 123456789012 eni-1 words",
		"CEF:0|Palo Alto Networks|PAN-OS|10.1|end|TRAFFIC|1|src=10.0.0.1 dst=10.0.0.2",
		`{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"GetObject"}`,
		`{"timestamp":1576280412771,"webaclId":"arn:aws:wafv2:x","httpRequest":{"clientIp":"1.2.3.4"}}`,
		"http 2018-07-02T22:23:00.186641Z app/my-lb/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 \"GET http://www.example.com:80/ HTTP/1.1\" \"curl/7.46.0\" - -",
		"2015-05-13T23:39:43.945958Z my-loadbalancer 192.168.131.39:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 \"GET http://www.example.com:80/ HTTP/1.1\" \"curl/7.38.0\" - -",
		"2 apples and 3 pears went to market on a sunny day with friends and family",
		"2 123456789012 vpc-1 10.0.0.1 10.0.0.2 1 2 6 1 2 3 4 ACCEPT OK",
		"2 123456789012 eni-1 10.0.0.1",
		"version 2.0 released today with many improvements",
		"date=2024-03-01 time=12:00:00 devname=fw1 srcip=10.0.0.1 dstip=10.0.0.2 action=deny",
	}
	for _, l := range own {
		if !vpcflow.Claim(dataset.LineOf([]byte(l))) {
			t.Errorf("does not claim its own line %q", l)
		}
	}
	for _, l := range others {
		if vpcflow.Claim(dataset.LineOf([]byte(l))) {
			t.Errorf("claims another source's line %q", l)
		}
	}
}

func TestKeys(t *testing.T) {
	ds := vpcflow.New(vpcflow.Options{})
	match := func(key string) bool {
		for _, p := range ds.Keys {
			if dataset.MatchKey(p, key) {
				return true
			}
		}
		return false
	}
	for _, k := range []string{
		"AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/03/01/123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20240301T1205Z_0a1b2c3d.log.gz",
		"prod/flows/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2024/03/01/13/123456789012_vpcflowlogs_eu-west-1_fl-1_20240301T1305Z_ffff.log.gz",
		"AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2024/month=03/day=01/123456789012_vpcflowlogs_us-east-1_fl-1_20240301T1205Z_ab.log.gz",
	} {
		if !match(k) {
			t.Errorf("key %q not matched", k)
		}
	}
	for _, k := range []string{
		"AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/03/01/123456789012_vpcflowlogs_us-east-1_fl-1_20240301T1205Z_ab.log.parquet",
		"AWSLogs/123456789012/CloudTrail/us-east-1/2024/03/01/123456789012_CloudTrail_us-east-1_20240301T1205Z_ab.json.gz",
		"AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/03/01/x.log.gz",
	} {
		if match(k) {
			t.Errorf("key %q matched", k)
		}
	}
}

// FuzzParse checks that any record either fails cleanly or gives events
// that marshal, with canonical addresses, integer ports and a layout-backed
// action.
func FuzzParse(f *testing.F) {
	f.Add([]byte("2 123456789012 eni-0a1b2c3d4e5f60001 203.0.113.12 172.31.16.139 49152 443 6 20 4249 1700000000 1700000060 ACCEPT OK"), []byte(defaultHeader))
	f.Add([]byte("10.0.0.8 192.0.2.44 ACCEPT egress 10.0.0.99 18"), []byte("srcaddr dstaddr action flow-direction pkt-srcaddr tcp-flags"))
	f.Add([]byte("2023-11-14T22:15:05.000Z 2 123456789012 eni-1 - - - - - - - 1700000100 1700000160 - NODATA"), []byte(nil))
	p := vpcflow.New(vpcflow.Options{}).Parser
	f.Fuzz(func(t *testing.T, line, header []byte) {
		evs, err := p.Parse(dataset.Record{Data: line, Header: header, Received: received})
		if err != nil {
			if len(evs) != 0 {
				t.Fatalf("error %v with %d events", err, len(evs))
			}
			return
		}
		for _, ev := range evs {
			if _, err := ev.MarshalJSON(); err != nil {
				t.Fatalf("marshal: %v", err)
			}
			for _, fld := range []string{"source.ip", "destination.ip"} {
				if s := ev.String(fld); s != "" {
					a, err := netip.ParseAddr(s)
					if err != nil || a.String() != s {
						t.Fatalf("%s = %q is not a canonical address", fld, s)
					}
				}
			}
			for _, fld := range []string{"source.port", "destination.port", "source.bytes", "source.packets"} {
				if v, ok := ev.Get(fld); ok {
					if _, isInt := v.(int64); !isInt {
						t.Fatalf("%s = %#v is not an integer", fld, v)
					}
				}
			}
			if a := ev.String("event.action"); a != "" && a != "allow" && a != "deny" {
				t.Fatalf("event.action = %q", a)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	p := vpcflow.New(vpcflow.Options{}).Parser
	rec := dataset.Record{
		Data:     []byte("2 123456789012 eni-0a1b2c3d4e5f60001 203.0.113.12 172.31.16.139 49152 443 6 20 4249 1700000000 1700000060 ACCEPT OK"),
		Header:   []byte(defaultHeader),
		Received: received,
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
