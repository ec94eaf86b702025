package googleworkspace_test

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/googleworkspace"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

var received = time.Date(2024, 3, 11, 0, 0, 0, 0, time.UTC)

var names = []string{
	googleworkspace.LoginName, googleworkspace.AdminName, googleworkspace.DriveName,
	googleworkspace.TokenName, googleworkspace.DeviceName,
}

// datasetNamed returns one of the five datasets.
func datasetNamed(t testing.TB, name string) dataset.Dataset {
	t.Helper()
	for _, ds := range googleworkspace.New(googleworkspace.Options{}) {
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
	for _, ds := range googleworkspace.New(googleworkspace.Options{}) {
		got = append(got, ds.Name)
		if ds.Parser == nil || ds.Claim == nil || ds.Description == "" {
			t.Errorf("%s: parser, claim and description must be set", ds.Name)
		}
	}
	if !reflect.DeepEqual(got, names) {
		t.Errorf("names = %v, want %v", got, names)
	}
}

// TestGolden runs the cases under testdata (written from the Reports API
// reference) through the login dataset: every event's dataset follows its
// activity's applicationName, so one parser serves all.
func TestGolden(t *testing.T) {
	testutil.RunParserCases(t, "testdata", datasetNamed(t, googleworkspace.LoginName).Parser, received)
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

func TestCorpusLogin(t *testing.T) {
	checkCorpus(t, googleworkspace.LoginName, "google_workspace/test-login.log")
}

func TestCorpusAdmin(t *testing.T) {
	checkCorpus(t, googleworkspace.AdminName, "google_workspace/test-admin-security.log")
}

func TestCorpusDrive(t *testing.T) {
	checkCorpus(t, googleworkspace.DriveName, "google_workspace/test-drive.log")
}

func TestCorpusToken(t *testing.T) {
	checkCorpus(t, googleworkspace.TokenName, "google_workspace/test-token.log")
}

// TestCorpusDevice: Elastic's device sample says applicationName "login",
// so its event is a login event here (see README); the device parameters
// still reach related.* and host.os.
func TestCorpusDevice(t *testing.T) {
	checkCorpus(t, googleworkspace.DeviceName, "google_workspace/test-device.log")
}

// prettyPage is a response page as the API sends it (indented), which a
// poller archives as one record.
const prettyPage = `{
  "kind": "admin#reports#activities",
  "etag": "\"abc/def\"",
  "items": [
    {
      "kind": "admin#reports#activity",
      "id": {
        "time": "2024-03-01T09:15:02.123Z",
        "uniqueQualifier": "-4019837281346572190",
        "applicationName": "drive",
        "customerId": "C03az79cb"
      },
      "actor": {"callerType": "USER", "email": "alice@example.com", "profileId": "114961239648272830128"},
      "ipAddress": "203.0.113.17",
      "events": [
        {"type": "access", "name": "edit", "parameters": [{"name": "doc_title", "value": "plan"}]},
        {"type": "access", "name": "rename", "parameters": [{"name": "doc_title", "value": "plan v2"}]}
      ]
    },
    {
      "kind": "admin#reports#activity",
      "id": {"time": "2024-03-01T09:16:00Z", "uniqueQualifier": "5", "applicationName": "login", "customerId": "C03az79cb"},
      "actor": {"email": "bob@example.com", "profileId": "2"},
      "events": [{"type": "login", "name": "login_failure"}]
    }
  ],
  "nextPageToken": "A:1709284480000000:-4019837281346572190:drive:C03az79cb"
}`

// TestPrettyPrintedPage checks that a whole indented page gives one event
// per activity event, each in its application's dataset, whichever
// dataset parsed it.
func TestPrettyPrintedPage(t *testing.T) {
	for _, name := range names {
		evs := parse(t, name, prettyPage)
		if len(evs) != 3 {
			t.Fatalf("%s: %d events, want 3", name, len(evs))
		}
		want := []struct{ dataset, action, doc string }{
			{googleworkspace.DriveName, "edit", "plan"},
			{googleworkspace.DriveName, "rename", "plan v2"},
			{googleworkspace.LoginName, "login_failure", ""},
		}
		for i, w := range want {
			ev := evs[i]
			if ev.String(event.FieldDataset) != w.dataset || ev.String("event.action") != w.action || ev.String("file.name") != w.doc {
				t.Errorf("%s: event %d = %s %s %q, want %v", name, i, ev.String(event.FieldDataset), ev.String("event.action"), ev.String("file.name"), w)
			}
		}
		if got := evs[2].String("event.outcome"); got != "failure" {
			t.Errorf("login_failure outcome = %q", got)
		}
		if got := evs[0].String("user.name"); got != "alice" {
			t.Errorf("user.name = %q", got)
		}
	}
}

// TestParameterTypes checks that each Reports API parameter kind keeps
// its type.
func TestParameterTypes(t *testing.T) {
	rec := `{"kind":"admin#reports#activity","id":{"time":"2024-03-01T00:00:00Z","applicationName":"token"},"events":[{"name":"activity","parameters":[` +
		`{"name":"s","value":"text"},{"name":"i","intValue":"-9007199254740993"},{"name":"b","boolValue":true},` +
		`{"name":"ms","multiValue":["a","b"]},{"name":"mi","multiIntValue":["1","2"]},{"name":"mb","multiBoolValue":[true,false]},` +
		`{"name":"msg","messageValue":{"parameter":[{"name":"inner","intValue":"3"},{"name":"deeper","messageValue":{"parameter":[{"name":"x","value":"y"}]}}]}},` +
		`{"name":"mm","multiMessageValue":[{"parameter":[{"name":"k","value":"v"},{"name":"n","intValue":"4"}]}]},` +
		`{"name":"CamelCase_NAME","value":"c"}]}]}`
	ev := parse(t, googleworkspace.TokenName, rec)[0]
	want := map[string]any{
		"google_workspace.token.s":               "text",
		"google_workspace.token.i":               int64(-9007199254740993),
		"google_workspace.token.b":               true,
		"google_workspace.token.ms":              []string{"a", "b"},
		"google_workspace.token.mi":              []any{int64(1), int64(2)},
		"google_workspace.token.mb":              []any{true, false},
		"google_workspace.token.msg.inner":       int64(3),
		"google_workspace.token.msg.deeper.x":    "y",
		"google_workspace.token.mm":              []any{map[string]any{"k": "v", "n": int64(4)}},
		"google_workspace.token.camel_case_name": "c",
		"@timestamp":                             time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
		"event.dataset":                          googleworkspace.TokenName,
		"event.category":                         []string{"iam"},
		"event.type":                             []string{"info"},
		"event.provider":                         "token",
		"event.kind":                             "event",
		"event.action":                           "activity",
	}
	for f, w := range want {
		if got, _ := ev.Get(f); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", f, got, w)
		}
	}
}

// TestOwnDatasetForUnnamedApplication: an activity without a known
// applicationName stays in the dataset that was asked.
func TestOwnDatasetForUnnamedApplication(t *testing.T) {
	rec := `{"kind":"admin#reports#activity","id":{"time":"2024-03-01T00:00:00Z"},"events":[{"name":"x","parameters":[{"name":"p","value":"v"}]}]}`
	for _, name := range names {
		ev := parse(t, name, rec)[0]
		if got := ev.String(event.FieldDataset); got != name {
			t.Errorf("parsed by %s: dataset %s", name, got)
		}
		ns := strings.TrimPrefix(name, "google_workspace.")
		if got := ev.String("google_workspace." + ns + ".p"); got != "v" {
			t.Errorf("parsed by %s: parameter not under its namespace", name)
		}
	}
}

func TestErrors(t *testing.T) {
	p := datasetNamed(t, googleworkspace.AdminName).Parser
	for _, rec := range []string{"", "{", "[]", "42", `{"a":1}`, `{"kind":"admin#reports#activity"}x`} {
		if _, err := p.Parse(dataset.Record{Data: []byte(rec)}); err == nil {
			t.Errorf("Parse(%q): no error", rec)
		} else if !strings.HasPrefix(err.Error(), "googleworkspace: ") {
			t.Errorf("Parse(%q): error %q does not say which parser", rec, err)
		}
	}
	evs, err := p.Parse(dataset.Record{Data: []byte(`{"kind":"admin#reports#activities"}`)})
	if err != nil || len(evs) != 0 {
		t.Errorf("empty page: %d events, %v; want none and no error", len(evs), err)
	}
}

func TestClaim(t *testing.T) {
	activity := func(app string) string {
		return `{"kind":"admin#reports#activity","id":{"time":"2024-03-01T00:00:00Z","uniqueQualifier":"1","applicationName":"` + app + `","customerId":"C1"},"events":[{"name":"x"}]}`
	}
	own := map[string][]string{
		googleworkspace.LoginName:  {activity("login"), `{"kind": "admin#reports#activities", "items": [{"kind": "admin#reports#activity", "id": {"time": "2024-03-01T00:00:00Z", "applicationName" : "login"}}]}`},
		googleworkspace.AdminName:  {activity("admin")},
		googleworkspace.DriveName:  {activity("drive")},
		googleworkspace.TokenName:  {activity("token"), `{"actor":{"applicationInfo":{"applicationName":"drive","oauthClientId":"x"}},"id":{"applicationName":"token","time":"2024-03-01T00:00:00Z"},"kind":"admin#reports#activity"}`},
		googleworkspace.DeviceName: {activity("mobile"), activity("device")},
	}
	others := []string{
		"", "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
		"CEF:0|Trend Micro|Deep Security Agent|10.0.1|20|Log for TCP Port Scan|5|src=192.0.2.10",
		`{"eventVersion":"1.08","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","applicationName":"login"}`,
		`{"time":"2019-10-18T09:45:48Z","category":"SignInLogs","operationName":"Sign-in activity","properties":{}}`,
		activity("calendar"),
		`{"kind":"admin#reports#activity","note":"applicationName login without an id"}`,
	}
	for _, ds := range googleworkspace.New(googleworkspace.Options{}) {
		for name, recs := range own {
			for _, rec := range recs {
				got := ds.Claim(dataset.LineOf([]byte(rec)))
				if want := name == ds.Name; got != want {
					t.Errorf("%s claims %s's record %.60s: %v", ds.Name, name, rec, got)
				}
			}
		}
		for _, rec := range others {
			if ds.Claim(dataset.LineOf([]byte(rec))) {
				t.Errorf("%s claims a foreign record: %.80s", ds.Name, rec)
			}
		}
	}
	// The corpus lines are claimed by the dataset their applicationName
	// names (the device sample says "login").
	for file, want := range map[string]string{
		"google_workspace/test-login.log": googleworkspace.LoginName, "google_workspace/test-admin-security.log": googleworkspace.AdminName,
		"google_workspace/test-drive.log": googleworkspace.DriveName, "google_workspace/test-token.log": googleworkspace.TokenName,
		"google_workspace/test-device.log": googleworkspace.LoginName,
	} {
		data, err := os.ReadFile(testutil.CorpusFile(t, file))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var claimed []string
			for _, ds := range googleworkspace.New(googleworkspace.Options{}) {
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

func TestKeysNone(t *testing.T) {
	// The Reports API is polled; Google delivers nothing to S3.
	for _, ds := range googleworkspace.New(googleworkspace.Options{}) {
		if len(ds.Keys) != 0 {
			t.Errorf("%s: keys %v", ds.Name, ds.Keys)
		}
	}
}

const benchActivity = `{"kind":"admin#reports#activity","id":{"time":"2024-03-01T09:15:02.123Z","uniqueQualifier":"-4019837281346572190","applicationName":"login","customerId":"C03az79cb"},"etag":"\"Wb4Q2gr1PqnlV2J9tHh3hJ0sXcM/aB3dE5fG7hI9jK1lM3nO5pQ7rS9\"","actor":{"callerType":"USER","email":"alice@example.com","profileId":"114961239648272830128"},"ipAddress":"203.0.113.17","networkInfo":{"ipAsn":[64496],"regionCode":"JP","subdivisionCode":"JP-13"},"events":[{"type":"login","name":"login_success","parameters":[{"name":"login_type","value":"google_password"},{"name":"login_challenge_method","multiValue":["password","google_authenticator"]},{"name":"is_suspicious","boolValue":false},{"name":"is_second_factor","boolValue":false}]}]}`

func benchmarkParse(b *testing.B, rec string) {
	p := datasetNamed(b, googleworkspace.LoginName).Parser
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

// BenchmarkParseActivity parses one login activity (the one-per-line
// form).
func BenchmarkParseActivity(b *testing.B) { benchmarkParse(b, benchActivity) }

// BenchmarkParseTokenCorpus parses the corpus's token activity, the
// largest single record (scope lists, multiMessageValue).
func BenchmarkParseTokenCorpus(b *testing.B) {
	data, err := os.ReadFile(testutil.CorpusFile(b, "google_workspace/test-token.log"))
	if err != nil {
		b.Fatal(err)
	}
	benchmarkParse(b, strings.TrimSpace(string(data)))
}

// BenchmarkParsePage parses a response page of 100 activities.
func BenchmarkParsePage(b *testing.B) {
	items := make([]string, 100)
	for i := range items {
		items[i] = benchActivity
	}
	benchmarkParse(b, fmt.Sprintf(`{"kind":"admin#reports#activities","items":[%s],"nextPageToken":"x"}`, strings.Join(items, ",")))
}

// FuzzParse checks that any record either fails cleanly or gives events
// that belong to one of the five datasets, carry UTC times and can be
// written out.
func FuzzParse(f *testing.F) {
	f.Add([]byte(benchActivity))
	f.Add([]byte(prettyPage))
	f.Add([]byte(`{"kind":"admin#reports#activity","id":{"applicationName":"mobile"},"events":{"name":"x","parameters":[{"name":"m","multiMessageValue":[{"parameter":[{"name":"a","messageValue":{"parameter":[]}}]}]}]}}`))
	p := datasetNamed(f, googleworkspace.DriveName).Parser
	f.Fuzz(func(t *testing.T, rec []byte) {
		evs, err := p.Parse(dataset.Record{Data: rec, Received: received})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "googleworkspace: ") {
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
			if _, err := ev.MarshalJSON(); err != nil {
				t.Fatalf("MarshalJSON: %v", err)
			}
		}
	})
}
