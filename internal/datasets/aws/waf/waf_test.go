package waf_test

import (
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/aws/waf"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

var received = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func TestGolden(t *testing.T) {
	testutil.RunParserCases(t, "testdata", waf.New(waf.Options{}).Parser, received)
}

func parseOne(t *testing.T, line string) *event.Event {
	t.Helper()
	evs, err := waf.New(waf.Options{}).Parser.Parse(dataset.Record{Data: []byte(line), Received: received})
	if err != nil || len(evs) != 1 {
		t.Fatalf("Parse: %d events, %v", len(evs), err)
	}
	return evs[0]
}

func golden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + "/input")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestBlock(t *testing.T) {
	ev := parseOne(t, golden(t, "block-regular"))
	testutil.CheckFields(t, ev, map[string]any{
		"@timestamp":                  time.UnixMilli(1709287530123).UTC(),
		"event.action":                "BLOCK",
		"event.category":              []string{"web"},
		"event.type":                  []string{"access", "denied"},
		"event.outcome":               "failure",
		"rule.id":                     "BlockSQLi",
		"rule.name":                   "BlockSQLi",
		"rule.ruleset":                "REGULAR",
		"source.ip":                   "198.51.100.23",
		"source.geo.country_iso_code": "NL",
		"http.request.method":         "GET",
		"http.request.id":             "1-65e1aa72-0123456789abcdef01234567",
		"http.version":                "1.1",
		"network.protocol":            "http",
		"network.transport":           "tcp",
		"url.path":                    "/search",
		"url.query":                   "q=1%20OR%201=1",
		"url.original":                "/search?q=1%20OR%201=1",
		"url.domain":                  "shop.example.com",
		"user_agent.original":         "sqlmap/1.8",
		"cloud.account.id":            "111122223333",
		"cloud.region":                "eu-west-1",
		"cloud.service.name":          "wafv2",
		"aws.waf.id":                  "regional/webacl/shop-acl/a1b2c3d4-0000-1111-2222-333344445555",
		"aws.waf.source.name":         "ALB",
		"aws.waf.labels":              []string{"shop:sqli"},
		"aws.waf.request.headers.X-Forwarded-For":   []string{"10.0.0.1", "10.0.0.2"},
		"aws.waf.request.headers.x_odd_name":        "dotted",
		"aws.waf.rule_group_list":                   nil,
		"aws.waf.non_terminating_matching_rules":    nil,
		"http.response.status_code":                 nil,
		"aws.waf.request_headers_inserted.anything": nil,
	})
	details, _ := ev.Get("aws.waf.terminating_rule_match_details")
	want := []any{map[string]any{
		"conditionType": "SQL_INJECTION", "sensitivityLevel": "HIGH", "location": "QUERY_STRING",
		"matchedData": []string{"1", "OR", "1=1"},
	}}
	if !reflect.DeepEqual(details, want) {
		t.Errorf("terminating_rule_match_details = %#v", details)
	}
}

// TestRuleGroup: the rule that matched inside a managed group names the
// event; nulls inside the group are dropped.
func TestRuleGroup(t *testing.T) {
	ev := parseOne(t, golden(t, "rule-group"))
	testutil.CheckFields(t, ev, map[string]any{
		"rule.id":                             "AWS-AWSManagedRulesCommonRuleSet",
		"rule.ruleset":                        "MANAGED_RULE_GROUP",
		"rule.name":                           "SizeRestrictions_BODY",
		"http.request.body.bytes":             int64(9000),
		"aws.waf.request_body_size_inspected": int64(8192),
		"aws.waf.oversize_fields":             []string{"REQUEST_BODY"},
	})
	groups, _ := ev.Get("aws.waf.rule_group_list")
	want := []any{map[string]any{
		"ruleGroupId":     "AWS#AWSManagedRulesCommonRuleSet",
		"terminatingRule": map[string]any{"ruleId": "SizeRestrictions_BODY", "action": "BLOCK"},
	}}
	if !reflect.DeepEqual(groups, want) {
		t.Errorf("rule_group_list = %#v", groups)
	}
}

func TestRateBased(t *testing.T) {
	ev := parseOne(t, golden(t, "rate-based"))
	testutil.CheckFields(t, ev, map[string]any{
		"http.response.status_code":                        int64(429),
		"aws.waf.request_headers_inserted.x-amzn-waf-rate": "exceeded",
		"url.domain":     "shop.example.com",
		"url.port":       int64(8443),
		"url.original":   "/login?next=/cart",
		"rule.ruleset":   "RATE_BASED",
		"aws.waf.labels": []string{"awswaf:111122223333:rulegroup:limits:ip", "shop:throttled"},
	})
	rates, _ := ev.Get("aws.waf.rate_based_rule_list")
	list, ok := rates.([]any)
	if !ok || len(list) != 1 {
		t.Fatalf("rate_based_rule_list = %#v", rates)
	}
	if got := list[0].(map[string]any)["maxRateAllowed"]; got != int64(300) {
		t.Errorf("maxRateAllowed = %#v, want int64 300", got)
	}
}

func TestCaptcha(t *testing.T) {
	ev := parseOne(t, golden(t, "captcha"))
	testutil.CheckFields(t, ev, map[string]any{
		"event.type":                              []string{"access", "denied"},
		"event.outcome":                           "failure",
		"aws.waf.captcha_response.responseCode":   int64(405),
		"aws.waf.captcha_response.failureReason":  "TOKEN_MISSING",
		"aws.waf.captcha_response.solveTimestamp": int64(0),
		"tls.client.ja3":                          "e7d705a3286e19ea42f587b344ee6865",
		"aws.waf.ja4_fingerprint":                 "t13d1516h2_8daaf6152771_02713d6af862",
		"network.transport":                       "udp",
		"http.version":                            "3.0",
		"url.scheme":                              "https",
		"url.fragment":                            "top",
		"url.domain":                              "cdn.example.com",
	})
}

func TestClassicACLID(t *testing.T) {
	ev := parseOne(t, golden(t, "classic"))
	testutil.CheckFields(t, ev, map[string]any{
		"aws.waf.id":       "385cb038-3a6f-4f1f-8d5a-2a6e9b0c1d2e",
		"aws.waf.arn":      nil,
		"cloud.account.id": nil,
		"event.type":       []string{"access", "allowed"},
		"event.outcome":    "success",
	})
}

func TestErrors(t *testing.T) {
	p := waf.New(waf.Options{}).Parser
	for line, want := range map[string]string{
		`{"webaclId":"x"`: "waf: decode",
		`{"eventVersion":"1.08","eventName":"GetObject"}`: "not a WAF log",
		`[1,2]`:                               "not a JSON object",
		`{"timestamp":"soon","webaclId":"x"}`: "is not epoch milliseconds",
		`hello`:                               "waf: decode",
	} {
		evs, err := p.Parse(dataset.Record{Data: []byte(line)})
		if err == nil || len(evs) != 0 || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %d events, error %v; want an error containing %q", line, len(evs), err, want)
		}
	}
	if evs, err := p.Parse(dataset.Record{Data: []byte("  ")}); err != nil || len(evs) != 0 {
		t.Errorf("blank record: %d events, %v; want none", len(evs), err)
	}
}

// TestCorpus compares with Elastic's documents for its WAF samples.
func TestCorpus(t *testing.T) {
	a := testutil.CorpusAgreement(t, waf.New(waf.Options{}).Parser, "aws_waf/test-waf.log", received)
	for _, d := range a.Diffs {
		t.Log(d)
	}
	t.Logf("samples %d, failed %d, fields %d, agreed %d, ratio %.3f", a.Samples, a.Failed, a.Fields, a.Agreed, a.Ratio())
	if a.Failed != 0 || a.Ratio() < 0.95 {
		t.Errorf("agreement: %d failed, ratio %.3f; want 0 failed and >= 0.95", a.Failed, a.Ratio())
	}
}

func TestClaim(t *testing.T) {
	for _, name := range []string{"block-regular", "allow-default", "rule-group", "rate-based", "captcha", "classic"} {
		if !waf.Claim(dataset.LineOf([]byte(golden(t, name)))) {
			t.Errorf("does not claim its own %s record", name)
		}
	}
	others := []string{
		"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
		`<14>Mar  1 12:00:00 host app: {"webaclId":"x","httpRequest":{}}`,
		"CEF:0|Vendor|Product|1.0|100|webaclId httpRequest|5|src=10.0.0.1",
		`{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"GetObject","requestParameters":{"bucketName":"b"}}`,
		`{"schemaVersion":"2.0","accountId":"1","type":"Recon:EC2/PortProbeUnprotectedPort","service":{"action":{}}}`,
		`{"message":"webaclId httpRequest mentioned in text","hostname":"h","timestamp":"2024-03-01T12:00:00Z"}`,
		"2 123456789012 eni-0a1b2c3d4e5f60001 203.0.113.12 172.31.16.139 49152 443 6 20 4249 1700000000 1700000060 ACCEPT OK",
		`http 2024-03-01T10:15:30.123456Z app/shop-alb/0a1b 198.51.100.23:52114 10.0.2.15:8080 0.001 0.045 0.000 200 200 512 3104 "GET https://a/ HTTP/1.1" "-" - -`,
	}
	for _, l := range others {
		if waf.Claim(dataset.LineOf([]byte(l))) {
			t.Errorf("claims another source's line %q", l)
		}
	}
}

func TestKeys(t *testing.T) {
	ds := waf.New(waf.Options{})
	match := func(key string) bool {
		for _, p := range ds.Keys {
			if dataset.MatchKey(p, key) {
				return true
			}
		}
		return false
	}
	for _, k := range []string{
		"2024/03/01/12/aws-waf-logs-shop-1-2024-03-01-12-05-31-0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9",
		"waf/2024/03/01/12/aws-waf-logs-shop-1-2024-03-01-12-05-31-0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9.gz",
		"aws-waf-logs-shop/2024/03/01/12/part-0001",
		"AWSLogs/111122223333/WAFLogs/eu-west-1/shop-acl/2024/03/01/12/05/111122223333_waflogs_eu-west-1_shop-acl_20240301T1205Z_0a1b2c3d.log.gz",
		"AWSLogs/111122223333/WAFLogs/cloudfront/cdn-acl/2024/03/01/12/05/111122223333_waflogs_cloudfront_cdn-acl_20240301T1205Z_0a1b2c3d.log.gz",
	} {
		if !match(k) {
			t.Errorf("key %q not matched", k)
		}
	}
	for _, k := range []string{
		"AWSLogs/111122223333/CloudTrail/eu-west-1/2024/03/01/111122223333_CloudTrail_eu-west-1_20240301T1205Z_x.json.gz",
		"2024/03/01/12/my-stream-1-2024-03-01-12-05-31-0a1b2c3d",
		"AWSLogs/111122223333/elasticloadbalancing/eu-west-1/2024/03/01/x.log.gz",
	} {
		if match(k) {
			t.Errorf("key %q matched", k)
		}
	}
}

// FuzzParse checks that any record either fails cleanly or gives one
// event that marshals, with a canonical source address, an event.type
// that always holds "access", and the ACL's ID when the record names one.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"timestamp":1,"webaclId":"arn:aws:wafv2:r:a:x","action":"BLOCK","ruleGroupList":[{"terminatingRule":{"ruleId":"r"},"x":[null,{}]}],"httpRequest":{"clientIp":"::ffff:1.2.3.4","headers":[{"name":"a.b","value":"1"},{"name":"a.b","value":"2"}],"httpVersion":"HTTP/2.0"}}`))
	f.Add([]byte(`{"webaclId":"id","httpRequest":{"clientIp":"x","headers":[{"name":"Host","value":"[::1]:80"}]},"captchaResponse":{"responseCode":405.5}}`))
	p := waf.New(waf.Options{}).Parser
	f.Fuzz(func(t *testing.T, line []byte) {
		evs, err := p.Parse(dataset.Record{Data: line, Received: received})
		if err != nil {
			if len(evs) != 0 || !strings.HasPrefix(err.Error(), "waf: ") {
				t.Fatalf("error %v with %d events", err, len(evs))
			}
			return
		}
		for _, ev := range evs {
			if _, err := ev.MarshalJSON(); err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if s := ev.String("source.ip"); s != "" {
				if a, err := netip.ParseAddr(s); err != nil || a.String() != s {
					t.Fatalf("source.ip = %q is not canonical", s)
				}
			}
			if types := ev.Strings("event.type"); len(types) == 0 || types[0] != "access" {
				t.Fatalf("event.type = %v", types)
			}
		}
	})
}

// benchRecord is a blocked browser request as WAF logs it: a dozen
// headers, a managed rule group's match and labels.
const benchRecord = `{"timestamp":1709287530123,"formatVersion":1,"webaclId":"arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/shop-acl/a1b2c3d4-0000-1111-2222-333344445555","terminatingRuleId":"AWS-AWSManagedRulesSQLiRuleSet","terminatingRuleType":"MANAGED_RULE_GROUP","action":"BLOCK","terminatingRuleMatchDetails":[{"conditionType":"SQL_INJECTION","sensitivityLevel":"LOW","location":"QUERY_STRING","matchedData":["1","OR","1=1"]}],"httpSourceName":"ALB","httpSourceId":"111122223333-app/shop-alb/0a1b2c3d4e5f6071","ruleGroupList":[{"ruleGroupId":"AWS#AWSManagedRulesSQLiRuleSet","terminatingRule":{"ruleId":"SQLi_QUERYARGUMENTS","action":"BLOCK","ruleMatchDetails":null},"nonTerminatingMatchingRules":[],"excludedRules":null,"customerConfig":null}],"rateBasedRuleList":[],"nonTerminatingMatchingRules":[],"requestHeadersInserted":null,"responseCodeSent":null,"httpRequest":{"clientIp":"198.51.100.23","country":"NL","headers":[{"name":"Host","value":"shop.example.com"},{"name":"User-Agent","value":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36"},{"name":"Accept","value":"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"},{"name":"Accept-Language","value":"en-GB,en;q=0.9"},{"name":"Accept-Encoding","value":"gzip, deflate, br"},{"name":"Referer","value":"https://shop.example.com/catalog"},{"name":"Cookie","value":"session=0123456789abcdef; consent=yes"},{"name":"Sec-Fetch-Dest","value":"document"},{"name":"Sec-Fetch-Mode","value":"navigate"},{"name":"Sec-Fetch-Site","value":"same-origin"},{"name":"Upgrade-Insecure-Requests","value":"1"},{"name":"X-Forwarded-For","value":"198.51.100.23"}],"uri":"/search","args":"q=1%20OR%201=1&page=1","httpVersion":"HTTP/2.0","httpMethod":"GET","requestId":"1-65e1aa72-0123456789abcdef01234567"},"labels":[{"name":"awswaf:managed:aws:sql-database:SQLi_QueryArguments"}],"ja3Fingerprint":"e7d705a3286e19ea42f587b344ee6865"}`

func BenchmarkParse(b *testing.B) {
	p := waf.New(waf.Options{}).Parser
	rec := dataset.Record{Data: []byte(benchRecord), Received: received}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
