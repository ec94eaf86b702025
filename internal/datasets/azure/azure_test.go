package azure_test

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/azure"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

var received = time.Date(2024, 3, 11, 0, 0, 0, 0, time.UTC)

var names = []string{azure.SignInLogsName, azure.AuditLogsName}

func datasetNamed(t testing.TB, name string) dataset.Dataset {
	t.Helper()
	for _, ds := range azure.New(azure.Options{}) {
		if ds.Name == name {
			return ds
		}
	}
	t.Fatalf("no dataset %s", name)
	return dataset.Dataset{}
}

func parse(t testing.TB, name, rec string) []*event.Event {
	t.Helper()
	evs, err := datasetNamed(t, name).Parser.Parse(dataset.Record{Data: []byte(rec), Received: received})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return evs
}

func TestNew(t *testing.T) {
	var got []string
	for _, ds := range azure.New(azure.Options{}) {
		got = append(got, ds.Name)
		if ds.Parser == nil || ds.Claim == nil || ds.Description == "" || len(ds.Keys) == 0 {
			t.Errorf("%s: parser, claim, description and keys must be set", ds.Name)
		}
	}
	if !reflect.DeepEqual(got, names) {
		t.Errorf("names = %v, want %v", got, names)
	}
}

// TestGolden runs the cases under testdata (written from Microsoft's
// documented diagnostic-log and Graph resource formats) through the
// sign-in dataset: each event's dataset follows what its record is.
func TestGolden(t *testing.T) {
	testutil.RunParserCases(t, "testdata", datasetNamed(t, azure.SignInLogsName).Parser, received)
}

func checkCorpus(t *testing.T, name, file string) {
	a := testutil.CorpusAgreement(t, datasetNamed(t, name).Parser, file, received)
	for _, d := range a.Diffs {
		t.Log(d)
	}
	t.Logf("%s: %d samples, %d fields, %d agreed (%.3f)", file, a.Samples, a.Fields, a.Agreed, a.Ratio())
	if a.Failed != 0 {
		t.Errorf("%d of %d samples failed to parse", a.Failed, a.Samples)
	}
	if a.Ratio() < 0.95 {
		t.Errorf("agreement %.3f < 0.95", a.Ratio())
	}
}

func TestCorpusSignInLogs(t *testing.T) {
	checkCorpus(t, azure.SignInLogsName, "azure_ad/test-signinlogs-raw.log")
}

func TestCorpusAuditLogs(t *testing.T) {
	checkCorpus(t, azure.AuditLogsName, "azure_ad/test-auditlogs-raw.log")
}

// prettyPage is a Graph page as the API sends it, archived whole.
const prettyPage = `{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits",
  "value": [
    {
      "id": "Directory_1",
      "category": "UserManagement",
      "result": "success",
      "activityDisplayName": "Update user",
      "activityDateTime": "2024-03-04T10:20:30Z",
      "loggedByService": "Core Directory",
      "operationType": "Update",
      "initiatedBy": {"user": {"id": "u-1", "userPrincipalName": "admin@contoso.example"}},
      "targetResources": [{"id": "u-2", "type": "User", "userPrincipalName": "kim@contoso.example"}]
    }
  ]
}`

func TestPrettyPrintedGraphPage(t *testing.T) {
	for _, name := range names {
		evs := parse(t, name, prettyPage)
		if len(evs) != 1 {
			t.Fatalf("%s: %d events", name, len(evs))
		}
		ev := evs[0]
		want := map[string]any{
			event.FieldDataset:   azure.AuditLogsName,
			"event.action":       "Update user",
			"event.outcome":      "success",
			"event.category":     []string{"iam"},
			"event.type":         []string{"change", "user"},
			"user.name":          "admin",
			"user.domain":        "contoso.example",
			"user.target.name":   "kim",
			"user.target.id":     "u-2",
			event.FieldTimestamp: time.Date(2024, 3, 4, 10, 20, 30, 0, time.UTC),
		}
		for f, w := range want {
			if got, _ := ev.Get(f); !reflect.DeepEqual(got, w) {
				t.Errorf("%s: %s = %#v, want %#v", name, f, got, w)
			}
		}
	}
}

// TestSameMappingBothShapes checks that a sign-in gives the same ECS
// fields whether it came as a diagnostic record or a Graph resource.
func TestSameMappingBothShapes(t *testing.T) {
	resource := `{"id":"s1","createdDateTime":"2024-03-01T08:30:12Z","userPrincipalName":"alice@contoso.example","userDisplayName":"Alice","userId":"u1","ipAddress":"203.0.113.50","appDisplayName":"Azure Portal","conditionalAccessStatus":"success","status":{"errorCode":50126,"failureReason":"bad password"},"deviceDetail":{"browser":"Edge 122.0","operatingSystem":"Windows10"},"location":{"city":"Tokyo","countryOrRegion":"JP"}}`
	diag := `{"time":"2024-03-01T08:30:12Z","category":"SignInLogs","operationName":"Sign-in activity","properties":` + resource + `}`
	graph := parse(t, azure.SignInLogsName, resource)[0]
	record := parse(t, azure.SignInLogsName, diag)[0]
	for _, f := range []string{"@timestamp", "event.action", "event.category", "event.type", "event.outcome", "user.name",
		"user.domain", "user.full_name", "user.id", "source.ip", "source.geo.city_name", "source.geo.country_iso_code",
		"user_agent.name", "user_agent.version", "user_agent.os.full", "message", "azure.signinlogs.properties.app_display_name"} {
		g, _ := graph.Get(f)
		r, _ := record.Get(f)
		if g == nil || !reflect.DeepEqual(g, r) {
			t.Errorf("%s: Graph %#v, diagnostic %#v", f, g, r)
		}
	}
	if got := graph.String("event.outcome"); got != "failure" {
		t.Errorf("outcome = %q", got)
	}
}

func TestErrors(t *testing.T) {
	p := datasetNamed(t, azure.AuditLogsName).Parser
	for _, rec := range []string{"", "{", "[]", "7", `{"a":1}`, `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users","value":[]}`} {
		if _, err := p.Parse(dataset.Record{Data: []byte(rec)}); err == nil {
			t.Errorf("Parse(%q): no error", rec)
		} else if !strings.HasPrefix(err.Error(), "azure: ") {
			t.Errorf("Parse(%q): error %q does not say which parser", rec, err)
		}
	}
	for _, rec := range []string{`{"records":[]}`, `{"@odata.context":"x#auditLogs/signIns","value":[]}`} {
		if evs, err := p.Parse(dataset.Record{Data: []byte(rec)}); err != nil || len(evs) != 0 {
			t.Errorf("Parse(%s): %d events, %v; want none and no error", rec, len(evs), err)
		}
	}
}

func TestClaim(t *testing.T) {
	own := map[string][]string{
		azure.SignInLogsName: {
			`{"time":"2024-03-01T00:00:00Z","category":"SignInLogs","properties":{}}`,
			`{"category": "NonInteractiveUserSignInLogs"}`, `{"category":"ServicePrincipalSignInLogs"}`,
			`{"category":"ManagedIdentitySignInLogs"}`,
			`{"records":[{"properties":{"category":"x"},"category":"SignInLogs"},{"category":"AuditLogs"}]}`,
			`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns","value":[]}`,
			`{"@odata.context":"https:\/\/graph.microsoft.com\/beta\/$metadata#auditLogs\/signIns","value":[]}`,
			`{"id":"1","createdDateTime":"2024-03-01T00:00:00Z","appDisplayName":"x","conditionalAccessStatus":"success","status":{"errorCode":0}}`,
		},
		azure.AuditLogsName: {
			`{"properties":{"category":"UserManagement"},"category":"AuditLogs","time":"2024-03-01T00:00:00Z"}`,
			`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits","value":[]}`,
			`{"id":"1","activityDateTime":"2024-03-01T00:00:00Z","activityDisplayName":"Add user","loggedByService":"Core Directory"}`,
		},
	}
	others := []string{
		"", "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
		"CEF:0|Microsoft|Azure|1|1|x|5|src=192.0.2.1",
		`{"eventVersion":"1.08","eventCategory":"Management","eventName":"ConsoleLogin"}`,
		`{"time":"2024-03-01T00:00:00Z","category":"Administrative","operationName":"MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE"}`,
		`{"kind":"admin#reports#activity","id":{"applicationName":"login","time":"2024-03-01T00:00:00Z"}}`,
		`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users","value":[]}`,
		`{"category":"ProvisioningLogs","properties":{}}`,
	}
	for _, ds := range azure.New(azure.Options{}) {
		for name, recs := range own {
			for _, rec := range recs {
				if got, want := ds.Claim(dataset.LineOf([]byte(rec))), name == ds.Name; got != want {
					t.Errorf("%s claims %s's record %.70s: %v", ds.Name, name, rec, got)
				}
			}
		}
		for _, rec := range others {
			if ds.Claim(dataset.LineOf([]byte(rec))) {
				t.Errorf("%s claims a foreign record: %.80s", ds.Name, rec)
			}
		}
	}
	for file, want := range map[string]string{
		"azure_ad/test-signinlogs-raw.log": azure.SignInLogsName, "azure_ad/test-auditlogs-raw.log": azure.AuditLogsName,
	} {
		data, err := os.ReadFile(testutil.CorpusFile(t, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var claimed []string
			for _, ds := range azure.New(azure.Options{}) {
				if ds.Claim(dataset.LineOf([]byte(line))) {
					claimed = append(claimed, ds.Name)
				}
			}
			if !slices.Equal(claimed, []string{want}) {
				t.Errorf("%s: claimed by %v, want %s", file, claimed, want)
			}
		}
	}
}

func TestKeys(t *testing.T) {
	cases := map[string]string{
		"insights-logs-signinlogs/tenantId=0b6f/y=2024/m=03/d=01/h=08/m=00/PT1H.json":                         azure.SignInLogsName,
		"entra/insights-logs-noninteractiveusersigninlogs/tenantId=0b6f/y=2024/m=03/d=01/h=08/m=00/PT1H.json": azure.SignInLogsName,
		"insights-logs-serviceprincipalsigninlogs/tenantId=0b6f/y=2024/m=03/d=01/h=08/m=00/PT1H.json":         azure.SignInLogsName,
		"insights-logs-managedidentitysigninlogs/tenantId=0b6f/y=2024/m=03/d=01/h=08/m=00/PT1H.json":          azure.SignInLogsName,
		"archive/insights-logs-auditlogs/tenantId=0b6f/y=2024/m=03/d=01/h=08/m=00/PT1H.json":                  azure.AuditLogsName,
		"insights-logs-provisioninglogs/tenantId=0b6f/y=2024/m=03/d=01/h=08/m=00/PT1H.json":                   "",
		"AWSLogs/123456789012/CloudTrail/us-east-1/2024/03/01/x.json.gz":                                      "",
	}
	reg := dataset.NewRegistry(azure.New(azure.Options{})...)
	for key, want := range cases {
		ds, ok := reg.ForKey(key)
		if got := ds.Name; ok != (want != "") || got != want {
			t.Errorf("ForKey(%s) = %q, want %q", key, got, want)
		}
	}
}

const benchSignIn = `{"time":"2024-03-01T08:30:12.1234567Z","resourceId":"/tenants/0b6f1e2d-1111-4c4c-9a9a-2f2f2f2f2f2f/providers/Microsoft.aadiam","operationName":"Sign-in activity","operationVersion":"1.0","category":"SignInLogs","tenantId":"0b6f1e2d-1111-4c4c-9a9a-2f2f2f2f2f2f","resultType":"0","resultSignature":"None","durationMs":125,"callerIpAddress":"203.0.113.50","correlationId":"5d3c2b1a-2222-4d4d-8e8e-3a3a3a3a3a3a","identity":"Alice Example","Level":4,"location":"JP","properties":{"id":"66ea54eb-3333-4e4e-9f9f-4b4b4b4b4b4b","createdDateTime":"2024-03-01T08:30:12.1234567+00:00","userDisplayName":"Alice Example","userPrincipalName":"alice@contoso.example","userId":"d1e2f3a4-4444-4f4f-8a8a-5c5c5c5c5c5c","appId":"c44b4083-3bb0-49c1-b47d-974e53cbdf3c","appDisplayName":"Azure Portal","ipAddress":"203.0.113.50","status":{"errorCode":0,"additionalDetails":"MFA requirement satisfied by claim in the token"},"clientAppUsed":"Browser","userAgent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36","deviceDetail":{"deviceId":"9a8b7c6d-5555-4a4a-9b9b-6d6d6d6d6d6d","displayName":"ALICE-LAPTOP","operatingSystem":"Windows10","browser":"Chrome 122.0.0","isCompliant":true,"isManaged":true,"trustType":"Azure AD joined"},"location":{"city":"Tokyo","state":"Tokyo","countryOrRegion":"JP","geoCoordinates":{"latitude":35.6895,"longitude":139.6917}},"conditionalAccessStatus":"success","isInteractive":true,"riskDetail":"none","riskLevelAggregated":"none","riskLevelDuringSignIn":"none","riskState":"none","authenticationRequirement":"multiFactorAuthentication"}}`

func benchmarkParse(b *testing.B, rec string) {
	p := datasetNamed(b, azure.SignInLogsName).Parser
	r := dataset.Record{Data: []byte(rec), Received: received}
	b.ReportAllocs()
	b.SetBytes(int64(len(rec)))
	events := 0
	for b.Loop() {
		evs, err := p.Parse(r)
		if err != nil {
			b.Fatal(err)
		}
		events += len(evs)
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkParseSignIn parses one diagnostic sign-in record of 2 KB.
func BenchmarkParseSignIn(b *testing.B) { benchmarkParse(b, benchSignIn) }

// BenchmarkParseRecords parses a {"records": [...]} batch of 100.
func BenchmarkParseRecords(b *testing.B) {
	recs := make([]string, 100)
	for i := range recs {
		recs[i] = benchSignIn
	}
	benchmarkParse(b, `{"records":[`+strings.Join(recs, ",")+`]}`)
}

// FuzzParse checks that any record either fails cleanly or gives events
// of one of the two datasets, with UTC times, that can be written out.
func FuzzParse(f *testing.F) {
	f.Add([]byte(benchSignIn))
	f.Add([]byte(prettyPage))
	f.Add([]byte(`{"records":[{"category":"AuditLogs","properties":{"targetResources":[{"type":"User","modifiedProperties":[{"newValue":null}]}],"additionalDetails":[{"key":"User-Agent","value":"x"}]}},{"category":"Other"}]}`))
	p := datasetNamed(f, azure.AuditLogsName).Parser
	f.Fuzz(func(t *testing.T, rec []byte) {
		evs, err := p.Parse(dataset.Record{Data: rec, Received: received})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "azure: ") {
				t.Fatalf("error without the parser's name: %v", err)
			}
			if len(evs) != 0 {
				t.Fatalf("%d events with an error", len(evs))
			}
			return
		}
		for _, ev := range evs {
			if ds := ev.String(event.FieldDataset); !slices.Contains(names, ds) {
				t.Fatalf("event.dataset %q", ds)
			}
			if ts, ok := ev.Get(event.FieldTimestamp); ok {
				if tt, isTime := ts.(time.Time); !isTime || tt.Location() != time.UTC {
					t.Fatalf("@timestamp %#v is not a UTC time", ts)
				}
			}
			if o := ev.String("event.outcome"); o != "" && o != "success" && o != "failure" && o != "unknown" {
				t.Fatalf("event.outcome %q", o)
			}
			if _, err := ev.MarshalJSON(); err != nil {
				t.Fatalf("MarshalJSON: %v", err)
			}
		}
	})
}
