package guardduty_test

import (
	"encoding/json"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/aws/guardduty"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

var received = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func parser() dataset.Parser { return guardduty.New(guardduty.Options{}).Parser }

func parse(t testing.TB, rec string) []*event.Event {
	t.Helper()
	evs, err := parser().Parse(dataset.Record{Data: []byte(rec), Received: received})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return evs
}

func readInput(t testing.TB, name string) []string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + "/input")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

func TestGolden(t *testing.T) {
	testutil.RunParserCases(t, "testdata", parser(), received)
}

// TestCorpusGuardDuty compares the core fields with the document Elastic's
// aws.guardduty pipeline makes from the same finding.
func TestCorpusGuardDuty(t *testing.T) {
	a := testutil.CorpusAgreement(t, parser(), "aws_guardduty/test-guardduty.log", received)
	for _, d := range a.Diffs {
		t.Log(d)
	}
	t.Logf("samples %d, failed %d, fields %d, agreed %d, ratio %.3f", a.Samples, a.Failed, a.Fields, a.Agreed, a.Ratio())
	if a.Failed != 0 || a.Ratio() < 0.95 {
		t.Errorf("agreement: %d failed, ratio %.3f (want 0 and >= 0.95)", a.Failed, a.Ratio())
	}
}

func check(t *testing.T, ev *event.Event, want map[string]any) {
	t.Helper()
	for f, w := range want {
		if got, _ := ev.Get(f); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", f, got, w)
		}
	}
}

// TestDirection checks who is source and who destination for each kind of
// network finding: the remote host is the source of what reached the
// instance, the destination of what the instance opened.
func TestDirection(t *testing.T) {
	lines := readInput(t, "network-connection")
	out := parse(t, lines[0])[0]
	check(t, out, map[string]any{
		"network.direction": "outbound", "network.transport": "tcp",
		"source.ip": "10.0.1.25", "source.port": int64(49832),
		"destination.ip": "192.0.2.200", "destination.port": int64(3333),
		"destination.geo.country_iso_code": "DE", "destination.as.number": int64(64502),
	})
	in := parse(t, lines[1])[0]
	check(t, in, map[string]any{
		"network.direction": "inbound",
		"source.ip":         "198.51.100.77", "source.port": int64(51422), "source.geo.city_name": "Sao Paulo",
		"source.as.organization.name": "Example Broadband",
		"destination.ip":              "10.0.1.25", "destination.port": int64(22),
	})
	probe := parse(t, readInput(t, "port-probe")[0])[0]
	check(t, probe, map[string]any{
		"source.ip": "203.0.113.7", "destination.ip": "10.0.1.25", "destination.port": int64(22),
		"event.action": "PORT_PROBE",
	})
	if ips := probe.Strings(event.RelatedIP); !contains(ips, "203.0.113.8") || !contains(ips, "198.51.100.40") {
		t.Errorf("related.ip %q lacks the second prober or the public address", ips)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestAlertFields(t *testing.T) {
	ev := parse(t, readInput(t, "network-connection")[1])[0]
	check(t, ev, map[string]any{
		"event.kind": "alert", "event.category": []string{"intrusion_detection"}, "event.type": []string{"info"},
		"event.severity": int64(5), "aws.guardduty.severity.code": 5.3, "aws.guardduty.severity.value": "Medium",
		"rule.name": "UnauthorizedAccess:EC2/SSHBruteForce", "rule.category": "UnauthorizedAccess",
		"rule.ruleset": "UnauthorizedAccess:EC2", "@timestamp": time.Date(2024, 3, 1, 11, 30, 0, 0, time.UTC),
		"event.created": time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC),
		"event.start":   time.Date(2024, 3, 1, 9, 58, 0, 0, time.UTC),
		"host.id":       "i-0a1b2c3d4e5f60718", "host.name": "ip-10-0-1-25.ec2.internal",
		"host.ip":          []string{"10.0.1.25", "198.51.100.40"},
		"cloud.account.id": "111122223333", "cloud.region": "us-east-1", "cloud.instance.id": "i-0a1b2c3d4e5f60718",
		"aws.guardduty.service.count":                      int64(212),
		"aws.guardduty.resource.instance_details.tags.key": []string{"Name", "env"},
	})
	for label, sev := range map[string]float64{"Low": 2, "Medium": 6.9, "High": 7, "Critical": 9.5} {
		ev := parse(t, `{"schemaVersion":"2.0","type":"Recon:EC2/Portscan","severity":`+strconv.FormatFloat(sev, 'f', -1, 64)+`}`)[0]
		if got := ev.String("aws.guardduty.severity.value"); got != label {
			t.Errorf("severity %v: %q, want %q", sev, got, label)
		}
	}
}

func TestAPICallAndKubernetes(t *testing.T) {
	api := parse(t, readInput(t, "api-call")[0])[0]
	check(t, api, map[string]any{
		"source.ip": "203.0.113.99", "event.provider": "s3.amazonaws.com", "user.name": "web",
		"user.id": "AROAEXAMPLEWEBROLE01:i-0a1b2c3d4e5f60718", "user_agent.original": "aws-cli/2.15.0 Python/3.11.6",
		"event.action": "AWS_API_CALL",
	})
	rds := parse(t, `{"schemaVersion":"2.0","type":"CredentialAccess:RDS/AnomalousBehavior.FailedLogin","severity":5,"resource":{"resourceType":"RDSDBInstance","rdsDbInstanceDetails":{"dbInstanceIdentifier":"db-1","engine":"aurora-postgresql"}},"service":{"serviceName":"guardduty","action":{"actionType":"RDS_LOGIN_ATTEMPT","rdsLoginAttemptAction":{"remoteIpDetails":{"ipAddressV4":"198.51.100.9"},"LoginAttributes":[{"user":"postgres","application":"psql","failedLoginAttempts":40,"successfulLoginAttempts":0},{"user":"admin","failedLoginAttempts":3,"successfulLoginAttempts":0}]}}}}`)[0]
	check(t, rds, map[string]any{"source.ip": "198.51.100.9", "event.action": "RDS_LOGIN_ATTEMPT",
		event.RelatedUser: []string{"postgres", "admin"}})
	k8s := parse(t, readInput(t, "kubernetes")[0])[0]
	check(t, k8s, map[string]any{
		"source.ip": "192.0.2.66", "orchestrator.cluster.name": "prod-eks", "orchestrator.type": "kubernetes",
		"user.name": "system:serviceaccount:default:ci", "url.original": "/api/v1/namespaces/kube-system/secrets",
		"http.response.status_code": int64(200),
	})
}

// TestShapes checks the three ways findings arrive: one per line, in an
// EventBridge event, in a findings list (API or CLI).
func TestShapes(t *testing.T) {
	eb := parse(t, readInput(t, "eventbridge")[0])
	if len(eb) != 1 || eb[0].String("dns.question.name") != "x7f3a9.exfil.example.net" || eb[0].String("network.transport") != "udp" {
		t.Errorf("EventBridge finding not mapped: %d events", len(eb))
	}
	lists := readInput(t, "findings-list")
	evs := parse(t, lists[0])
	if len(evs) != 2 || evs[0].String("rule.name") != "UnauthorizedAccess:EC2/SSHBruteForce" || evs[1].String("event.action") != "AWS_API_CALL" {
		t.Fatalf("findings list: %d events", len(evs))
	}
	var list struct{ Findings []json.RawMessage }
	if err := json.Unmarshal([]byte(lists[0]), &list); err != nil {
		t.Fatal(err)
	}
	for i, ev := range evs {
		if ev.String(event.FieldOriginal) != string(list.Findings[i]) {
			t.Errorf("finding %d: event.original is not its finding", i)
		}
	}
	if evs := parse(t, lists[1]); len(evs) != 0 {
		t.Errorf("empty list: %d events", len(evs))
	}
	cli := parse(t, lists[2])
	probe := parse(t, readInput(t, "port-probe")[0])[0]
	if len(cli) != 1 {
		t.Fatalf("CLI list: %d events", len(cli))
	}
	for _, f := range []string{"source.ip", "destination.port", "host.id", "rule.name", "event.severity", "@timestamp", "aws.guardduty.service.action.port_probe_action.port_probe_details.local_port_details.port_name"} {
		g, _ := cli[0].Get(f)
		w, _ := probe.Get(f)
		if !reflect.DeepEqual(g, w) || g == nil {
			t.Errorf("CLI (PascalCase) %s = %v, API form has %v", f, g, w)
		}
	}
}

func TestUnreadable(t *testing.T) {
	for _, rec := range []string{`{"schemaVersion":"2.0"`, `[1]`, `{}`, `{"a":1}`, `text`,
		`{"detail-type":"AWS API Call via CloudTrail","detail":{"eventVersion":"1.08"}}`,
		`{"findings":[{"schemaVersion":"2.0","type":"x"},1]}`} {
		if evs, err := parser().Parse(dataset.Record{Data: []byte(rec)}); err == nil {
			t.Errorf("Parse(%s): no error, %d events", rec, len(evs))
		}
	}
}

func TestKeys(t *testing.T) {
	ds := guardduty.New(guardduty.Options{})
	match := func(key string) bool {
		for _, p := range ds.Keys {
			if dataset.MatchKey(p, key) {
				return true
			}
		}
		return false
	}
	if !match("AWSLogs/111122223333/GuardDuty/us-east-1/2024/03/01/8c4f1a2b-0000-4000-8000-000000000001.jsonl.gz") ||
		!match("exports/gd/AWSLogs/111122223333/GuardDuty/eu-west-1/2024/03/01/x.jsonl.gz") {
		t.Error("GuardDuty export key not matched")
	}
	for _, key := range []string{
		"AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01/111122223333_CloudTrail_us-east-1_20240301T0000Z_x.json.gz",
		"AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/03/01/x.log.gz",
	} {
		if match(key) {
			t.Errorf("matched %s", key)
		}
	}
}

func TestClaim(t *testing.T) {
	claim := guardduty.New(guardduty.Options{}).Claim
	var own []string
	for _, c := range []string{"port-probe", "network-connection", "api-call", "kubernetes", "findings-list", "syslog-relayed"} {
		own = append(own, readInput(t, c)...)
	}
	own = append(own, readInput(t, "eventbridge")[0],
		// keys sorted by a serialiser: detail-type after the detail
		`{"account":"111122223333","detail":{"schemaVersion":"2.0","type":"Recon:EC2/Portscan","service":{"serviceName":"guardduty"}},"detail-type":"GuardDuty Finding","source":"aws.guardduty","version":"0"}`)
	for _, rec := range own {
		if rec == `{"findings":[]}` {
			continue // nothing in it says GuardDuty
		}
		if !claim(dataset.LineOf([]byte(rec))) {
			t.Errorf("not claimed: %.100s", rec)
		}
	}
	others := []string{
		readInput(t, "eventbridge")[1],
		`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","userName":"alice"},"eventTime":"2024-03-01T00:00:00Z","eventSource":"guardduty.amazonaws.com","eventName":"GetFindings","awsRegion":"us-east-1","requestParameters":{"detectorId":"12abc"}}`,
		`{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.guardduty","detail":{"eventSource":"guardduty.amazonaws.com"}}`,
		`{"SchemaVersion":"2018-10-08","Id":"arn:aws:guardduty:us-east-1:111122223333:detector/x/finding/y","ProductArn":"arn:aws:securityhub:us-east-1::product/aws/guardduty","Types":["TTPs/Discovery/Recon:EC2-PortProbeUnprotectedPort"],"ProductFields":{"aws/guardduty/service/serviceName":"guardduty"},"Severity":{"Label":"LOW"}}`,
		`{"timestamp":1709280000000,"formatVersion":1,"webaclId":"arn:aws:wafv2:us-east-1:111122223333:regional/webacl/w/1","action":"ALLOW","httpRequest":{"clientIp":"192.0.2.1"}}`,
		`{"kind":"admin#reports#activity","id":{"time":"2024-03-01T00:00:00.000Z","applicationName":"login"},"events":[{"type":"login","name":"login_success"}]}`,
		`{"time":"2024-03-01T00:00:00Z","category":"SignInLogs","properties":{"userPrincipalName":"a@example.com","type":"0"},"schemaVersion":"1.0"}`,
		`<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8`,
		`CEF:0|Trend Micro|Deep Security Agent|10.0|20|Log for TCP Port Scan|5|src=192.0.2.10 dst=10.0.0.5`,
		`{"message":"guardduty","hostname":"web-01"}`,
		``,
	}
	for _, rec := range others {
		if claim(dataset.LineOf([]byte(rec))) {
			t.Errorf("claimed: %.100s", rec)
		}
	}
}

func FuzzGuardDuty(f *testing.F) {
	p := parser()
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := p.Parse(dataset.Record{Data: data, Received: received})
		if err != nil {
			if len(evs) != 0 {
				t.Fatalf("error %v with %d events", err, len(evs))
			}
			return
		}
		for _, ev := range evs {
			if ev.String(event.FieldKind) != "alert" {
				t.Fatalf("event.kind %q", ev.String(event.FieldKind))
			}
			if sev, ok := ev.Get("event.severity"); ok {
				if _, isInt := sev.(int64); !isInt {
					t.Fatalf("event.severity %#v is not an integer", sev)
				}
			}
			for _, ip := range ev.Strings(event.RelatedIP) {
				if strings.ContainsAny(ip, " /") || ip == "" {
					t.Fatalf("related.ip %q", ip)
				}
			}
			if _, err := ev.MarshalJSON(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	p := parser()
	rec := dataset.Record{Data: []byte(readInput(b, "network-connection")[1]), Received: received}
	b.SetBytes(int64(len(rec.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
