package elb_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/aws/elb"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

var received = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func TestGolden(t *testing.T) {
	testutil.RunParserCases(t, "testdata", elb.New(elb.Options{}).Parser, received)
}

func parseOne(t *testing.T, line string) *event.Event {
	t.Helper()
	evs, err := elb.New(elb.Options{}).Parser.Parse(dataset.Record{Data: []byte(line), Received: received})
	if err != nil || len(evs) != 1 {
		t.Fatalf("Parse(%q): %d events, %v", line, len(evs), err)
	}
	return evs[0]
}

const albLine = `https 2024-03-01T10:15:30.123456Z app/shop-alb/0a1b2c3d4e5f6071 198.51.100.23:52114 10.0.2.15:8080 0.001 0.045 0.000 200 200 512 3104 "GET https://shop.example.com:443/cart/items.json?page=2&sort=asc HTTP/1.1" "Mozilla/5.0 (X11; Linux x86_64)" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/shop-web/1a2b3c4d5e6f7081 "Root=1-65e1aa72-0123456789abcdef01234567" "shop.example.com" "-" 3 2024-03-01T10:15:30.077000Z "waf,forward" "-" "-" "10.0.2.15:8080" "200" "-" "-" TID_0123`

func TestALB(t *testing.T) {
	ev := parseOne(t, albLine)
	testutil.CheckFields(t, ev, map[string]any{
		"@timestamp":                          time.Date(2024, 3, 1, 10, 15, 30, 123456000, time.UTC),
		"event.end":                           time.Date(2024, 3, 1, 10, 15, 30, 123456000, time.UTC),
		"event.start":                         time.Date(2024, 3, 1, 10, 15, 30, 77000000, time.UTC),
		"event.category":                      []string{"web"},
		"event.type":                          []string{"access"},
		"event.outcome":                       "success",
		"source.ip":                           "198.51.100.23",
		"source.port":                         int64(52114),
		"destination.ip":                      "10.0.2.15",
		"destination.port":                    int64(8080),
		"http.request.method":                 "GET",
		"http.version":                        "1.1",
		"http.response.status_code":           int64(200),
		"http.request.bytes":                  int64(512),
		"http.response.bytes":                 int64(3104),
		"url.original":                        "https://shop.example.com:443/cart/items.json?page=2&sort=asc",
		"url.scheme":                          "https",
		"url.domain":                          "shop.example.com",
		"url.port":                            int64(443),
		"url.path":                            "/cart/items.json",
		"url.query":                           "page=2&sort=asc",
		"url.extension":                       "json",
		"user_agent.original":                 "Mozilla/5.0 (X11; Linux x86_64)",
		"tls.cipher":                          "ECDHE-RSA-AES128-GCM-SHA256",
		"tls.version":                         "1.2",
		"tls.version_protocol":                "tls",
		"tls.client.server_name":              "shop.example.com",
		"aws.elb.type":                        "https",
		"aws.elb.name":                        "app/shop-alb/0a1b2c3d4e5f6071",
		"aws.elb.target_group.arn":            "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/shop-web/1a2b3c4d5e6f7081",
		"cloud.region":                        "eu-west-1",
		"cloud.account.id":                    "111122223333",
		"trace.id":                            "Root=1-65e1aa72-0123456789abcdef01234567",
		"aws.elb.request_processing_time.sec": 0.001,
		"aws.elb.backend_processing_time.sec": 0.045,
		"aws.elb.matched_rule_priority":       int64(3),
		"aws.elb.action_executed":             []string{"waf", "forward"},
		"aws.elb.target_port":                 []string{"10.0.2.15:8080"},
		"aws.elb.target_status_code":          []string{"200"},
		"aws.elb.conn_trace_id":               "TID_0123",
		"aws.elb.chosen_cert.arn":             nil,
		"aws.elb.redirect_url":                nil,
	})
}

// TestRequestWithSpaces: a hostile request line keeps its spaces in the
// URL, the method and version being the first and last words.
func TestRequestWithSpaces(t *testing.T) {
	ev := parseOne(t, `http 2024-03-01T10:00:00.000000Z app/a/1 192.0.2.1:1 - -1 -1 -1 400 - 10 20 "GET http://10.0.0.1:80/x?a=1 b=2 HTTP/1.0" "-" - -`)
	testutil.CheckFields(t, ev, map[string]any{
		"url.original":        "http://10.0.0.1:80/x?a=1 b=2",
		"url.query":           "a=1 b=2",
		"url.path":            "/x",
		"http.version":        "1.0",
		"event.outcome":       "failure",
		"destination.ip":      nil,
		"user_agent.original": nil,
		"tls.cipher":          nil,
	})
}

func TestIPv6Client(t *testing.T) {
	ev := parseOne(t, `h2 2024-03-01T10:00:00.000000Z app/a/1 2001:db8::1:41022 [2001:db8::2]:443 0.1 0.2 0.3 200 200 1 2 "GET https://[2001:db8::2]:443/ HTTP/2.0" "-" - -`)
	testutil.CheckFields(t, ev, map[string]any{
		"source.ip":        "2001:db8::1",
		"source.port":      int64(41022),
		"destination.ip":   "2001:db8::2",
		"destination.port": int64(443),
		"url.domain":       "2001:db8::2",
		"url.port":         int64(443),
		"http.version":     "2.0",
	})
}

func TestEscapedQuote(t *testing.T) {
	ev := parseOne(t, `http 2024-03-01T10:00:00.000000Z app/a/1 192.0.2.1:1 10.0.0.1:80 0.1 0.2 0.3 200 200 1 2 "GET http://a/ HTTP/1.1" "agent \"x\" y" - -`)
	if got := ev.String("user_agent.original"); got != `agent "x" y` {
		t.Errorf("user_agent.original = %q", got)
	}
}

func TestNLB(t *testing.T) {
	ev := parseOne(t, `tls 2.0 2024-03-01T11:00:05 net/edge-nlb/5e6f708192a3b4c5 g3d4b5e8bb8464cd 203.0.113.9:51341 10.0.7.20:443 5 2 98 246 - arn:aws:acm:us-east-2:111122223333:certificate/2a10 - ECDHE-RSA-AES128-SHA tlsv12 secp256r1 edge.example.com h2 h2 "h2","http/1.1" 2024-03-01T10:59:58`)
	testutil.CheckFields(t, ev, map[string]any{
		"@timestamp":                          time.Date(2024, 3, 1, 11, 0, 5, 0, time.UTC),
		"event.start":                         time.Date(2024, 3, 1, 10, 59, 58, 0, time.UTC),
		"event.category":                      []string{"network"},
		"event.type":                          []string{"connection"},
		"network.transport":                   "tcp",
		"source.ip":                           "203.0.113.9",
		"destination.port":                    int64(443),
		"source.bytes":                        int64(98),
		"destination.bytes":                   int64(246),
		"aws.elb.connection_time.ms":          5.0,
		"aws.elb.tls_handshake_time.ms":       2.0,
		"tls.version":                         "1.2",
		"tls.version_protocol":                "tls",
		"tls.curve":                           "secp256r1",
		"tls.client.server_name":              "edge.example.com",
		"tls.next_protocol":                   "h2",
		"aws.elb.alpn_client_preference_list": []string{"h2", "http/1.1"},
		"aws.elb.listener":                    "g3d4b5e8bb8464cd",
		"event.outcome":                       nil,
		"http.request.method":                 nil,
	})
}

// TestNLBLocation: NLB times carry no zone; the configured one applies.
func TestNLBLocation(t *testing.T) {
	loc := time.FixedZone("plus9", 9*3600)
	p := elb.New(elb.Options{Location: loc}).Parser
	evs, err := p.Parse(dataset.Record{Data: []byte(`tls 1.0 2024-03-01T11:00:05 net/n/1 l 192.0.2.1:1 10.0.0.1:443 1 1 1 1 - - - - - - -`)})
	if err != nil || len(evs) != 1 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	if got, want := evs[0].Time(), time.Date(2024, 3, 1, 2, 0, 5, 0, time.UTC); !got.Equal(want) {
		t.Errorf("@timestamp = %v, want %v", got, want)
	}
}

func TestClassicTCP(t *testing.T) {
	ev := parseOne(t, `2024-03-01T12:00:02.000002Z legacy-tcp 192.0.2.12:2819 10.0.0.2:22 0.001069 0.000028 0.000041 - - 82 305 "- - - " "-" - -`)
	testutil.CheckFields(t, ev, map[string]any{
		"event.category":      []string{"network"},
		"aws.elb.protocol":    "tcp",
		"source.bytes":        int64(82),
		"destination.bytes":   int64(305),
		"destination.port":    int64(22),
		"http.request.method": nil,
		"event.outcome":       nil,
		"url.original":        nil,
	})
}

func TestErrors(t *testing.T) {
	p := elb.New(elb.Options{}).Parser
	for line, want := range map[string]string{
		`http 2024-03-01T10:00:00Z app/a/1 1.2.3.4:1 - -1 -1 -1 200 - 1 2 "GET x HTTP/1.1`:       "quoted field is not closed",
		`http 2024-03-01T10:00:00Z app/a/1 1.2.3.4:1`:                                            "has 4 fields, want at least 16",
		`http 2024-03-01T10:00:00Z app/a/1 host:1 - -1 -1 -1 200 - 1 2 "GET x HTTP/1.1" "-" - -`: "field 4 (client:port)",
		`http soon app/a/1 1.2.3.4:1 - -1 -1 -1 200 - 1 2 "GET x HTTP/1.1" "-" - -`:              "field 2 (time)",
		`hello world`: "starts no access log format",
		`2024-03-01T12:00:00Z legacy 192.0.2.1:1 - x -1 -1 200 - 0 0 "GET http://a/ HTTP/1.1" "-" - -`:        "is not a duration",
		`tls 2.0 2024-03-01T11:00:05 net/n/1 l 192.0.2.1:1 10.0.0.1:443 1 1 many 1 - - - - - - - h2 h2 "-" -`: "field 10 (received_bytes)",
	} {
		_, err := p.Parse(dataset.Record{Data: []byte(line)})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "elb: ") {
			t.Errorf("Parse(%q) error = %v, want one containing %q", line, err, want)
		}
	}
}

// TestCorpus compares with Elastic's documents for its ALB samples.
func TestCorpus(t *testing.T) {
	a := testutil.CorpusAgreement(t, elb.New(elb.Options{}).Parser, "aws_elb_cloudfront/test-alb.log", received)
	for _, d := range a.Diffs {
		t.Log(d)
	}
	t.Logf("samples %d, failed %d, fields %d, agreed %d, ratio %.3f", a.Samples, a.Failed, a.Fields, a.Agreed, a.Ratio())
	if a.Failed != 0 || a.Ratio() < 0.95 {
		t.Errorf("agreement: %d failed, ratio %.3f; want 0 failed and >= 0.95", a.Failed, a.Ratio())
	}
}

func TestClaim(t *testing.T) {
	own := []string{
		albLine,
		`h2 2024-03-01T10:16:02.500001Z app/shop-alb/0a1b 2001:db8::1:41022 - -1 -1 -1 502 - 0 272 "POST https://api.example.com:443/v1 HTTP/2.0" "-" - -`,
		`tls 2.0 2024-03-01T11:00:05 net/edge-nlb/5e6f708192a3b4c5 g3d4b5e8bb8464cd 203.0.113.9:51341 10.0.7.20:443 5 2 98 246 - - - - - - -`,
		`2024-03-01T12:00:00.123456Z legacy-web 192.0.2.10:2817 10.0.0.1:80 0.000073 0.001048 0.000057 200 200 0 29 "GET http://www.example.com:80/ HTTP/1.1" "curl/8.5.0" - -`,
		`2024-03-01T12:00:03.500000Z legacy-web 192.0.2.13:2820 - -1 -1 -1 504 0 0 0 "GET http://www.example.com:80/slow HTTP/1.1" "-" - -`,
	}
	others := []string{
		"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
		"2024-03-01T12:00:00.000Z myhost sshd[42]: Accepted publickey for alice from 10.0.0.1 port 22 ssh2",
		"2024-03-01T12:00:00Z myhost 10.0.0.1:22 connection closed",
		"CEF:0|Vendor|Product|1.0|100|Something|5|src=10.0.0.1 dst=10.0.0.2",
		`{"timestamp":1576280412771,"webaclId":"arn:aws:wafv2:x","httpRequest":{"clientIp":"1.2.3.4"}}`,
		"2 123456789012 eni-0a1b2c3d4e5f60001 203.0.113.12 172.31.16.139 49152 443 6 20 4249 1700000000 1700000060 ACCEPT OK",
		"http is a protocol used on the web by many",
		"tls 1.3 is the current version of the protocol",
		`192.0.2.1 - - [01/Mar/2024:12:00:00 +0000] "GET / HTTP/1.1" 200 512 "-" "curl/8.5.0"`,
		"2024-03-01 12:00:00 W3SVC1 10.0.0.1 GET /index.html - 80 - 192.0.2.1 curl/8.5.0 200 0 0 15",
	}
	for _, l := range own {
		if !elb.Claim(dataset.LineOf([]byte(l))) {
			t.Errorf("does not claim its own line %q", l)
		}
	}
	for _, l := range others {
		if elb.Claim(dataset.LineOf([]byte(l))) {
			t.Errorf("claims another source's line %q", l)
		}
	}
}

func TestKeys(t *testing.T) {
	ds := elb.New(elb.Options{})
	match := func(key string) bool {
		for _, p := range ds.Keys {
			if dataset.MatchKey(p, key) {
				return true
			}
		}
		return false
	}
	for _, k := range []string{
		"AWSLogs/111122223333/elasticloadbalancing/eu-west-1/2024/03/01/111122223333_elasticloadbalancing_eu-west-1_app.shop-alb.0a1b2c3d4e5f6071_20240301T1015Z_198.51.100.1_2abc.log.gz",
		"lb-logs/AWSLogs/111122223333/elasticloadbalancing/us-east-2/2024/03/01/111122223333_elasticloadbalancing_us-east-2_net.edge-nlb.5e6f_20240301T1100Z_x.log.gz",
		"AWSLogs/111122223333/elasticloadbalancing/us-east-1/2024/03/01/111122223333_elasticloadbalancing_us-east-1_legacy-web_20240301T1200Z_192.0.2.5_abc.log",
	} {
		if !match(k) {
			t.Errorf("key %q not matched", k)
		}
	}
	for _, k := range []string{
		"AWSLogs/111122223333/elasticloadbalancing/eu-west-1/2024/03/01/conn_log.111122223333_elasticloadbalancing_eu-west-1_app.shop.1_20240301T1015Z_1.2.3.4_x.log.gz",
		"AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/03/01/111122223333_vpcflowlogs_eu-west-1_fl-1_20240301T1015Z_x.log.gz",
		"AWSLogs/111122223333/elasticloadbalancing/eu-west-1/2024/03/01/ELBAccessLogTestFile",
	} {
		if match(k) {
			t.Errorf("key %q matched", k)
		}
	}
}

// FuzzParse checks that any line either fails cleanly or gives one event
// that marshals, with canonical addresses, integer ports and codes, and a
// timestamp.
func FuzzParse(f *testing.F) {
	f.Add([]byte(albLine))
	f.Add([]byte(`tls 2.0 2024-03-01T11:00:05 net/edge-nlb/5e6f l 203.0.113.9:51341 [::1]:443 5 2 98 246 - - - - tlsv13 - - h2 h2 "h2","http/1.1" -`))
	f.Add([]byte(`2024-03-01T12:00:02.000002Z legacy-tcp 192.0.2.12:2819 10.0.0.2:22 0.001 0.0 0.0 - - 82 305 "- - - " "-" - -`))
	p := elb.New(elb.Options{}).Parser
	f.Fuzz(func(t *testing.T, line []byte) {
		evs, err := p.Parse(dataset.Record{Data: line, Received: received})
		if err != nil {
			if len(evs) != 0 || !strings.HasPrefix(err.Error(), "elb: ") {
				t.Fatalf("error %v with %d events", err, len(evs))
			}
			return
		}
		for _, ev := range evs {
			if _, err := ev.MarshalJSON(); err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if !ev.Has(event.FieldTimestamp) {
				t.Fatal("event without @timestamp")
			}
			for _, fld := range []string{"source.ip", "destination.ip"} {
				if s := ev.String(fld); s != "" {
					a, err := netip.ParseAddr(s)
					if err != nil || a.String() != s {
						t.Fatalf("%s = %q is not a canonical address", fld, s)
					}
				}
			}
			for _, fld := range []string{"source.port", "destination.port", "url.port", "http.response.status_code"} {
				if v, ok := ev.Get(fld); ok {
					if _, isInt := v.(int64); !isInt {
						t.Fatalf("%s = %#v is not an integer", fld, v)
					}
				}
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	p := elb.New(elb.Options{}).Parser
	rec := dataset.Record{Data: []byte(albLine), Received: received}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
