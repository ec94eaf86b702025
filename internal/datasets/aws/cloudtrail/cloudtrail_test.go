package cloudtrail_test

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/aws/cloudtrail"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

var received = time.Date(2024, 3, 5, 12, 0, 0, 0, time.UTC)

func parser() dataset.Parser { return cloudtrail.New(cloudtrail.Options{}).Parser }

func parse(t testing.TB, rec string) []*event.Event {
	t.Helper()
	evs, err := parser().Parse(dataset.Record{Data: []byte(rec), Received: received})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return evs
}

func parseOne(t testing.TB, rec string) *event.Event {
	t.Helper()
	evs := parse(t, rec)
	if len(evs) != 1 {
		t.Fatalf("Parse: %d events, want 1", len(evs))
	}
	return evs[0]
}

func TestGolden(t *testing.T) {
	testutil.RunParserCases(t, "testdata", parser(), received)
}

// TestCorpusConsoleLogin compares the core fields with the documents
// Elastic's aws.cloudtrail pipeline makes from the same records.
func TestCorpusConsoleLogin(t *testing.T) {
	a := testutil.CorpusAgreement(t, parser(), "aws_cloudtrail/test-console-login-json.log", received)
	for _, d := range a.Diffs {
		t.Log(d)
	}
	t.Logf("samples %d, failed %d, fields %d, agreed %d, ratio %.3f", a.Samples, a.Failed, a.Fields, a.Agreed, a.Ratio())
	if a.Failed != 0 || a.Ratio() < 0.95 {
		t.Errorf("agreement: %d failed, ratio %.3f (want 0 and >= 0.95)", a.Failed, a.Ratio())
	}
}

func readInput(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + "/input")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// TestRecordsFile checks that a log file gives one event per record, in
// order, each with its own record as event.original.
func TestRecordsFile(t *testing.T) {
	line := readInput(t, "records-file")[0]
	evs := parse(t, line)
	var file struct{ Records []json.RawMessage }
	if err := json.Unmarshal([]byte(line), &file); err != nil {
		t.Fatal(err)
	}
	want := []string{"CreateUser", "AttachUserPolicy", "AssumeRole"}
	if len(evs) != len(want) {
		t.Fatalf("%d events, want %d", len(evs), len(want))
	}
	for i, ev := range evs {
		if got := ev.String("event.action"); got != want[i] {
			t.Errorf("event %d: event.action %q, want %q", i, got, want[i])
		}
		if got := ev.String(event.FieldOriginal); got != string(file.Records[i]) {
			t.Errorf("event %d: event.original is not its record: %.80s", i, got)
		}
	}
	if evs := parse(t, `{"Records":[]}`); len(evs) != 0 {
		t.Errorf("empty Records: %d events", len(evs))
	}
}

// TestIdentityTypes checks who user.name and user.id name for each
// userIdentity type.
func TestIdentityTypes(t *testing.T) {
	cases := []struct {
		identity, name, id string
	}{
		{`{"type":"IAMUser","principalId":"AIDA1","arn":"arn:aws:iam::111122223333:user/alice","userName":"alice"}`, "alice", "AIDA1"},
		{`{"type":"AssumedRole","principalId":"AROA1:sess","arn":"arn:aws:sts::111122223333:assumed-role/admin/sess","sessionContext":{"sessionIssuer":{"type":"Role","userName":"admin"}}}`, "admin", "AROA1:sess"},
		{`{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root"}`, "root", "111122223333"},
		{`{"type":"AWSService","invokedBy":"lambda.amazonaws.com"}`, "lambda.amazonaws.com", ""},
		{`{"type":"FederatedUser","principalId":"111122223333:dave","arn":"arn:aws:sts::111122223333:federated-user/dave","sessionContext":{"sessionIssuer":{"type":"IAMUser","userName":"broker"}}}`, "dave", "111122223333:dave"},
		{`{"type":"SAMLUser","principalId":"idp:erin","userName":"erin","identityProvider":"idp"}`, "erin", "idp:erin"},
		{`{"type":"WebIdentityUser","principalId":"accounts.google.com:app:123","userName":"123","identityProvider":"accounts.google.com"}`, "123", "accounts.google.com:app:123"},
		{`{"type":"IdentityCenterUser","onBehalfOf":{"userId":"u-1","identityStoreArn":"arn:aws:identitystore::1:identitystore/d-1"}}`, "", "u-1"},
		{`{"type":"IAMUser","userName":"HIDDEN_DUE_TO_SECURITY_REASONS"}`, "", ""},
	}
	for _, c := range cases {
		ev := parseOne(t, `{"eventVersion":"1.08","userIdentity":`+c.identity+`,"eventTime":"2024-03-01T00:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1"}`)
		if got := ev.String("user.name"); got != c.name {
			t.Errorf("%s: user.name %q, want %q", c.identity, got, c.name)
		}
		if got := ev.String("user.id"); got != c.id {
			t.Errorf("%s: user.id %q, want %q", c.identity, got, c.id)
		}
	}
	ev := parseOne(t, `{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/AWSReservedSSO_Admin_1/frank@example.com","sessionContext":{"sessionIssuer":{"userName":"AWSReservedSSO_Admin_1"}}},"eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1"}`)
	if got := ev.String("aws.cloudtrail.user_identity.session_name"); got != "frank@example.com" {
		t.Errorf("session_name %q", got)
	}
	if got := ev.Strings(event.RelatedUser); !reflect.DeepEqual(got, []string{"frank@example.com"}) {
		t.Errorf("related.user %q, want the session name", got)
	}
}

// TestIAMCategories checks the categorisation of IAM calls against the
// ECS meaning of each: what the call acts on, and how.
func TestIAMCategories(t *testing.T) {
	cases := map[string][]string{
		"AddUserToGroup":              {"group", "change"},
		"AttachUserPolicy":            {"user", "change"},
		"ChangePassword":              {"user", "change"},
		"CreateAccessKey":             {"user", "change"},
		"CreateGroup":                 {"group", "creation"},
		"CreateUser":                  {"user", "creation"},
		"CreateRole":                  {"admin", "creation"},
		"DeactivateMFADevice":         {"user", "change"},
		"DeleteUser":                  {"user", "deletion"},
		"DeleteUserPolicy":            {"user", "change"},
		"GetGroup":                    {"group", "info"},
		"ListGroupsForUser":           {"user", "info"},
		"ListUsers":                   {"user", "info"},
		"RemoveUserFromGroup":         {"group", "change"},
		"SetDefaultPolicyVersion":     {"admin", "change"},
		"UpdateAccountPasswordPolicy": {"admin", "change"},
		"UpdateLoginProfile":          {"user", "change"},
		"UpdateAssumeRolePolicy":      {"admin", "change"},
	}
	for action, want := range cases {
		ev := parseOne(t, `{"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"`+action+`","awsRegion":"us-east-1"}`)
		if got := ev.Strings("event.category"); !reflect.DeepEqual(got, []string{"iam"}) {
			t.Errorf("%s: event.category %q", action, got)
		}
		if got := ev.Strings("event.type"); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: event.type %q, want %q", action, got, want)
		}
	}
}

func TestOtherCategories(t *testing.T) {
	cases := []struct {
		source, action, extra string
		category, types       []string
	}{
		{"signin.amazonaws.com", "ConsoleLogin", "", []string{"authentication"}, []string{"info"}},
		{"sts.amazonaws.com", "AssumeRoleWithSAML", "", []string{"authentication"}, []string{"info"}},
		{"sts.amazonaws.com", "GetCallerIdentity", `,"readOnly":true`, nil, []string{"info"}},
		{"ec2.amazonaws.com", "CreateKeyPair", "", []string{"iam"}, []string{"admin", "creation"}},
		{"s3.amazonaws.com", "DeleteBucket", "", []string{"file"}, []string{"deletion"}},
		{"ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", `,"readOnly":false,"managementEvent":true`, []string{"configuration"}, []string{"change"}},
		{"cloudtrail.amazonaws.com", "DeleteTrail", "", []string{"configuration"}, []string{"deletion"}},
		{"lambda.amazonaws.com", "CreateFunction20150331", "", []string{"configuration"}, []string{"creation"}},
		{"s3.amazonaws.com", "PutObject", `,"readOnly":false,"managementEvent":false,"eventCategory":"Data"`, nil, []string{"info"}},
		{"ec2.amazonaws.com", "DescribeInstances", `,"readOnly":true`, nil, []string{"info"}},
	}
	for _, c := range cases {
		ev := parseOne(t, `{"eventVersion":"1.08","eventSource":"`+c.source+`","eventName":"`+c.action+`","awsRegion":"us-east-1"`+c.extra+`}`)
		if got := ev.Strings("event.category"); !reflect.DeepEqual(got, c.category) {
			t.Errorf("%s: event.category %q, want %q", c.action, got, c.category)
		}
		if got := ev.Strings("event.type"); !reflect.DeepEqual(got, c.types) {
			t.Errorf("%s: event.type %q, want %q", c.action, got, c.types)
		}
	}
}

func TestOutcome(t *testing.T) {
	cases := map[string]string{
		`"eventName":"GetUser"`:                                                    "success",
		`"eventName":"GetUser","errorCode":"AccessDenied"`:                         "failure",
		`"eventName":"GetUser","errorMessage":"denied"`:                            "failure",
		`"eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Failure"}`: "failure",
		`"eventName":"ConsoleLogin","responseElements":{"ConsoleLogin":"Success"}`: "success",
	}
	for fields, want := range cases {
		ev := parseOne(t, `{"eventVersion":"1.08","eventSource":"iam.amazonaws.com",`+fields+`}`)
		if got := ev.String("event.outcome"); got != want {
			t.Errorf("%s: event.outcome %q, want %q", fields, got, want)
		}
	}
}

func TestSource(t *testing.T) {
	cases := []struct{ addr, ip, domain string }{
		{"192.0.2.1", "192.0.2.1", ""},
		{"::ffff:192.0.2.1", "192.0.2.1", ""},
		{"2001:DB8::1", "2001:db8::1", ""},
		{"ec2.amazonaws.com", "", "ec2.amazonaws.com"},
		{"AWS Internal", "", ""},
	}
	for _, c := range cases {
		ev := parseOne(t, `{"eventVersion":"1.08","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","sourceIPAddress":"`+c.addr+`"}`)
		if ev.String("source.address") != c.addr || ev.String("source.ip") != c.ip || ev.String("source.domain") != c.domain {
			t.Errorf("%s: address %q ip %q domain %q", c.addr, ev.String("source.address"), ev.String("source.ip"), ev.String("source.domain"))
		}
	}
}

// TestFlattened checks that the free-form parts are kept as JSON text and
// as queryable leaves, values under arrays gathered per path.
func TestFlattened(t *testing.T) {
	ev := parseOne(t, `{"eventVersion":"1.08","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","requestParameters":{"instancesSet":{"items":[{"imageId":"ami-1","minCount":1},{"imageId":"ami-2","minCount":2}]},"dryRun":false}}`)
	if got := ev.String("aws.cloudtrail.request_parameters"); got != `{"instancesSet":{"items":[{"imageId":"ami-1","minCount":1},{"imageId":"ami-2","minCount":2}]},"dryRun":false}` {
		t.Errorf("request_parameters %s", got)
	}
	want := map[string]any{
		"aws.cloudtrail.flattened.request_parameters.instancesSet.items.imageId":  []string{"ami-1", "ami-2"},
		"aws.cloudtrail.flattened.request_parameters.instancesSet.items.minCount": []any{int64(1), int64(2)},
		"aws.cloudtrail.flattened.request_parameters.dryRun":                      false,
	}
	for f, w := range want {
		if got, _ := ev.Get(f); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", f, got, w)
		}
	}
}

func TestDigestHasNoEvents(t *testing.T) {
	evs, err := parser().Parse(dataset.Record{Data: []byte(readInput(t, "digest")[0])})
	if err != nil || len(evs) != 0 {
		t.Fatalf("digest: %d events, %v", len(evs), err)
	}
}

func TestUnreadable(t *testing.T) {
	for _, rec := range []string{
		`{"eventVersion":"1.08"`, `[1,2]`, `"text"`, `hello`, `{}`, `{"a":1}`,
		`{"Records":[{"eventName":"GetUser"},5]}`,
		`{"detail-type":"GuardDuty Finding","detail":{"schemaVersion":"2.0"}}`,
		`{"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"GetUser"} trailing`,
	} {
		if evs, err := parser().Parse(dataset.Record{Data: []byte(rec)}); err == nil {
			t.Errorf("Parse(%s): no error, %d events", rec, len(evs))
		}
	}
	if evs, err := parser().Parse(dataset.Record{Data: []byte("  \n")}); err != nil || len(evs) != 0 {
		t.Errorf("blank record: %d events, %v", len(evs), err)
	}
}

// TestConcatenated checks objects written back to back on one line, as
// Firehose delivers EventBridge events.
func TestConcatenated(t *testing.T) {
	one := `{"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"GetUser"}`
	two := `{"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"ListUsers"}`
	evs := parse(t, one+two)
	if len(evs) != 2 || evs[0].String("event.action") != "GetUser" || evs[1].String("event.action") != "ListUsers" {
		t.Fatalf("got %d events", len(evs))
	}
}

func TestKeys(t *testing.T) {
	ds := cloudtrail.New(cloudtrail.Options{})
	match := func(key string) bool {
		for _, p := range ds.Keys {
			if dataset.MatchKey(p, key) {
				return true
			}
		}
		return false
	}
	for _, key := range []string{
		"AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/04/111122223333_CloudTrail_us-east-1_20240304T0005Z_abcdEXAMPLE.json.gz",
		"trails/prod/AWSLogs/111122223333/CloudTrail/eu-west-1/2024/03/04/111122223333_CloudTrail_eu-west-1_20240304T0005Z_x.json.gz",
		"AWSLogs/o-exampleorgid/111122223333/CloudTrail/us-east-1/2024/03/04/111122223333_CloudTrail_us-east-1_20240304T0005Z_x.json.gz",
		"AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2024/03/04/111122223333_CloudTrail-Insight_us-east-1_20240304T0005Z_x.json.gz",
	} {
		if !match(key) {
			t.Errorf("key not matched: %s", key)
		}
	}
	for _, key := range []string{
		"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/04/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20240304T010000Z.json.gz",
		"AWSLogs/o-exampleorgid/111122223333/CloudTrail-Digest/us-east-1/2024/03/04/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20240304T010000Z.json.gz",
		"AWSLogs/111122223333/GuardDuty/us-east-1/2024/03/04/0f1e2d3c.jsonl.gz",
		"AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/03/04/111122223333_vpcflowlogs_us-east-1_fl-1_20240304T0005Z_x.log.gz",
		"AWSLogs/111122223333/Config/us-east-1/2024/3/4/ConfigHistory/x.json.gz",
	} {
		if match(key) {
			t.Errorf("key matched: %s", key)
		}
	}
}

func TestClaim(t *testing.T) {
	claim := cloudtrail.New(cloudtrail.Options{}).Claim
	own := append(readInput(t, "console-login"), readInput(t, "records-file")[0])
	own = append(own, readInput(t, "eventbridge")[:2]...)
	own = append(own, readInput(t, "syslog-relayed")[:2]...)
	// An EventBridge event whose keys a serialiser sorted: detail-type
	// comes after the detail, which is recognised itself.
	own = append(own, `{"account":"111122223333","detail":{"awsRegion":"us-east-1","eventName":"GetUser","eventSource":"iam.amazonaws.com","eventVersion":"1.08"},"detail-type":"AWS API Call via CloudTrail","id":"x","region":"us-east-1","source":"aws.iam","time":"2024-03-04T07:30:01Z","version":"0"}`)
	for _, rec := range own {
		if !claim(dataset.LineOf([]byte(rec))) {
			t.Errorf("not claimed: %.100s", rec)
		}
	}
	others := []string{
		readInput(t, "digest")[0],
		readInput(t, "eventbridge")[2],
		`{"schemaVersion":"2.0","accountId":"111122223333","region":"us-east-1","id":"f1","type":"Recon:EC2/PortProbeUnprotectedPort","service":{"serviceName":"guardduty","eventFirstSeen":"2024-03-01T00:00:00Z"},"severity":2}`,
		`{"version":"0","detail-type":"GuardDuty Finding","source":"aws.guardduty","detail":{"schemaVersion":"2.0","service":{"serviceName":"guardduty"}}}`,
		`{"timestamp":1709280000000,"formatVersion":1,"webaclId":"arn:aws:wafv2:us-east-1:111122223333:regional/webacl/w/1","terminatingRuleId":"Default_Action","action":"ALLOW","httpSourceName":"ALB","httpRequest":{"clientIp":"192.0.2.1","country":"US","uri":"/","httpMethod":"GET"}}`,
		`{"kind":"admin#reports#activity","id":{"time":"2024-03-01T00:00:00.000Z","applicationName":"login"},"actor":{"email":"a@example.com"},"events":[{"type":"login","name":"login_success"}]}`,
		`{"time":"2024-03-01T00:00:00Z","resourceId":"/tenants/x/providers/Microsoft.aadiam","operationName":"Sign-in activity","category":"SignInLogs","properties":{"userPrincipalName":"a@example.com","ipAddress":"192.0.2.1"}}`,
		`<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8`,
		`CEF:0|Trend Micro|Deep Security Agent|10.0|20|Log for TCP Port Scan|5|src=192.0.2.10 dst=10.0.0.5`,
		`2 111122223333 eni-0123 192.0.2.1 10.0.0.5 443 49152 6 10 840 1709280000 1709280060 ACCEPT OK`,
		`{"message":"hello","hostname":"web-01"}`,
		`{"eventVersion":"1.0","eventSource":"custom"}`,
		`{"account":"111122223333","detail":{"schemaVersion":"2.0","type":"Recon:EC2/Portscan","service":{"serviceName":"guardduty"}},"detail-type":"GuardDuty Finding","source":"aws.guardduty","version":"0"}`,
		``,
	}
	for _, rec := range others {
		if claim(dataset.LineOf([]byte(rec))) {
			t.Errorf("claimed: %.100s", rec)
		}
	}
}

func FuzzCloudTrail(f *testing.F) {
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
			if k := ev.String(event.FieldKind); k != "event" && k != "alert" {
				t.Fatalf("event.kind %q", k)
			}
			if ip := ev.String("source.ip"); ip != "" && ip != ev.String("source.address") && !strings.Contains(ev.String("source.address"), ":") {
				t.Fatalf("source.ip %q not from source.address %q", ip, ev.String("source.address"))
			}
			if ts := ev.Time(); !ts.IsZero() && ts.Location() != time.UTC {
				t.Fatalf("@timestamp not UTC: %v", ts)
			}
			if len(evs) > 1 && ev.Has(event.FieldOriginal) && !json.Valid([]byte(ev.String(event.FieldOriginal))) {
				t.Fatalf("event.original is not the record: %q", ev.String(event.FieldOriginal))
			}
			if _, err := ev.MarshalJSON(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// benchRecord is a typical management event of about 1.5 KB: an assumed
// role's API call with request parameters, a response and TLS details.
const benchRecord = `{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLEDEPLOY001:ci-run-4711","arn":"arn:aws:sts::111122223333:assumed-role/deploy/ci-run-4711","accountId":"111122223333","accessKeyId":"ASIAEXAMPLETEMPKEY01","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLEDEPLOY001","arn":"arn:aws:iam::111122223333:role/deploy","accountId":"111122223333","userName":"deploy"},"attributes":{"creationDate":"2024-03-02T07:58:00Z","mfaAuthenticated":"false"}}},"eventTime":"2024-03-02T08:01:10Z","eventSource":"ec2.amazonaws.com","eventName":"AuthorizeSecurityGroupIngress","awsRegion":"ap-northeast-1","sourceIPAddress":"192.0.2.11","userAgent":"aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/ec2.authorize-security-group-ingress","requestParameters":{"groupId":"sg-0123456789abcdef0","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":443,"toPort":443,"ipRanges":{"items":[{"cidrIp":"203.0.113.0/24","description":"office"}]}}]}},"responseElements":{"requestId":"6a1e8b3c-0000-4000-8000-0000000000a2","_return":true,"securityGroupRuleSet":{"items":[{"groupOwnerId":"111122223333","groupId":"sg-0123456789abcdef0","securityGroupRuleId":"sgr-0aaaaaaaaaaaaaaa1","isEgress":false,"ipProtocol":"tcp","fromPort":443,"toPort":443,"cidrIpv4":"203.0.113.0/24","description":"office"}]}},"requestID":"6a1e8b3c-0000-4000-8000-0000000000a2","eventID":"6a1e8b3c-0000-4000-8000-0000000000e2","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"ec2.ap-northeast-1.amazonaws.com"}}`

func BenchmarkParse(b *testing.B) {
	p := parser()
	rec := dataset.Record{Data: []byte(benchRecord), Received: received}
	b.SetBytes(int64(len(rec.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkClaim(b *testing.B) {
	claim := cloudtrail.New(cloudtrail.Options{}).Claim
	l := dataset.Line{Data: []byte(benchRecord), Body: []byte(benchRecord)}
	b.ReportAllocs()
	for b.Loop() {
		if !claim(l) {
			b.Fatal("not claimed")
		}
	}
}
