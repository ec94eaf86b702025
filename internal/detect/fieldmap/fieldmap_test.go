package fieldmap

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets"
	"github.com/mamori-sec/mamori/internal/testutil"
)

func builtin(t *testing.T) *Map {
	t.Helper()
	m, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestBuiltinDatasetsExist(t *testing.T) {
	m := builtin(t)
	known := map[string]bool{}
	for _, n := range datasets.Builtin(datasets.Options{}).Names() {
		known[n] = true
	}
	for _, e := range m.entries {
		for _, tg := range e.targets {
			if !known[tg.Dataset] {
				t.Errorf("%s:%d: logsource %s names dataset %q, which mamori does not have", e.file, e.line, e.describe(), tg.Dataset)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	m := builtin(t)
	cases := []struct {
		product, service, category string
		datasets                   []string
		inactive                   string
	}{
		{"aws", "cloudtrail", "", []string{"aws.cloudtrail"}, ""},
		{"AWS", "CloudTrail", "", []string{"aws.cloudtrail"}, ""},
		{"gcp", "google_workspace.admin", "", []string{"google_workspace.admin"}, ""},
		{"azure", "signinlogs", "", []string{"azure.signinlogs"}, ""},
		{"azure", "auditlogs", "", []string{"azure.auditlogs"}, ""},
		{"linux", "", "", []string{"linux.syslog", "syslog"}, ""},
		{"linux", "sshd", "", []string{"linux.syslog"}, ""},
		{"", "", "firewall", []string{"panw.panos", "fortinet.fortigate", "aws.vpcflow"}, ""},
		{"", "", "dns", []string{"dns.query", "fortinet.fortigate"}, ""},
		{"", "", "webserver", []string{"nginx.access", "apache.access", "aws.elb", "aws.waf"}, ""},
		{"linux", "", "process_creation", nil, "no process-creation logs"},
		{"azure", "activitylogs", "", nil, "no Azure activity log dataset"},
		{"okta", "okta", "", nil, "no Okta dataset"},
		{"windows", "security", "", nil, "mamori has no dataset for this logsource"},
		// A logsource is matched whole: a category narrows a product.
		{"aws", "cloudtrail", "process_creation", nil, "mamori has no dataset"},
	}
	for _, c := range cases {
		s := m.Lookup(c.product, c.service, c.category)
		var got []string
		for _, tg := range s.Targets {
			got = append(got, tg.Dataset)
		}
		if !reflect.DeepEqual(got, c.datasets) || !strings.Contains(s.Inactive, c.inactive) || s.Active() != (len(c.datasets) > 0) {
			t.Errorf("%s/%s/%s: datasets %v inactive %q, want %v %q", c.product, c.service, c.category, got, s.Inactive, c.datasets, c.inactive)
		}
		if s.Fields == nil {
			t.Errorf("%s/%s/%s: no field mapper", c.product, c.service, c.category)
		}
	}
	sshd := m.Lookup("linux", "sshd", "")
	if w := sshd.Targets[0].Where; len(w) != 1 || w[0].Field != "process.name" || !reflect.DeepEqual(w[0].Values, []string{"sshd", "sshd-session"}) {
		t.Errorf("sshd's condition: %+v", w)
	}
}

func TestFields(t *testing.T) {
	m := builtin(t)
	ct := m.Lookup("aws", "cloudtrail", "").Fields
	gw := m.Lookup("gcp", "google_workspace.admin", "").Fields
	az := m.Lookup("azure", "signinlogs", "").Fields
	none := m.Lookup("windows", "security", "").Fields
	cases := []struct {
		mapper *Mapper
		name   string
		want   []string
		mapped bool
	}{
		{ct, "eventName", []string{"event.action"}, true},
		{ct, "EVENTNAME", []string{"event.action"}, true},
		{ct, "requestParameters", []string{"aws.cloudtrail.request_parameters"}, true},
		{ct, "requestParameters.ipPermissions.items.ipRanges.items.cidrIp", []string{"aws.cloudtrail.flattened.request_parameters.ipPermissions.items.ipRanges.items.cidrIp"}, true},
		{ct, "userIdentity.sessionContext.sessionIssuer.userName", []string{"aws.cloudtrail.user_identity.session_context.session_issuer.user_name"}, true},
		{ct, "userIdentity.sessionContext.attributes.mfaAuthenticated", []string{"aws.cloudtrail.user_identity.session_context.mfa_authenticated"}, true},
		{ct, "sharedEventID", []string{"aws.cloudtrail.shared_event_id"}, true},
		{ct, "someNewKey", []string{"aws.cloudtrail.some_new_key", "someNewKey"}, false},
		{ct, "source.ip", []string{"aws.cloudtrail.source.ip", "source.ip"}, false},
		{gw, "setting_name", []string{"google_workspace.admin.setting_name", "setting_name"}, false},
		{gw, "protoPayload.metadata.event.parameter.NEW_VALUE", []string{"google_workspace.admin.new_value"}, true},
		{az, "DeviceDetail.isCompliant", []string{"azure.signinlogs.properties.device_detail.is_compliant"}, true},
		{az, "AuthenticationRequirement", []string{"azure.signinlogs.properties.authentication_requirement", "azure.signinlogs.authentication_requirement", "AuthenticationRequirement"}, false},
		{az, "Status", []string{"event.outcome", "azure.signinlogs.properties.status.failure_reason", "azure.signinlogs.properties.status.additional_details"}, true},
		{none, "EventID", []string{"EventID"}, false},
	}
	for _, c := range cases {
		if got := c.mapper.Fields(c.name); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
		if got := c.mapper.Mapped(c.name); got != c.mapped {
			t.Errorf("%s: mapped %v, want %v", c.name, got, c.mapped)
		}
	}
	if got := gw.Value("eventService", "Admin.GoogleAPIs.com"); got != "admin" {
		t.Errorf("value translation: %q", got)
	}
	if got := gw.Value("eventService", "other.googleapis.com"); got != "other.googleapis.com" {
		t.Errorf("an unknown value changed: %q", got)
	}
	if got := gw.Value("protoPayload.serviceName", "login.googleapis.com"); got != "login" {
		t.Errorf("a value list shared through a YAML anchor: %q", got)
	}
	if got := ct.Value("eventName", "x"); got != "x" {
		t.Errorf("a field without translations changed a value: %q", got)
	}
}

// TestBuiltinFieldsExist checks the tables against the fields the datasets
// really produce (their golden expected.json files): a plain (not
// templated) target must appear in some event of one of its logsource's
// datasets, so that a typo or a renamed field cannot go unnoticed. The
// exceptions are fields the goldens do not happen to exercise.
func TestBuiltinFieldsExist(t *testing.T) {
	notInGoldens := map[string]string{
		"aws.cloudtrail.api_version":                   "only some services' records carry apiVersion",
		"aws.cloudtrail.vpc_endpoint_id":               "only calls through a VPC endpoint",
		"aws.cloudtrail.service_event_details":         "only AwsServiceEvent records",
		"azure.signinlogs.properties.risk_event_types": "the goldens hold risk_event_types_v2 only",
		"url.full":           "ECS's name; the access log datasets write url.original",
		"destination.domain": "access log lines are recognised only when their dataset is named",
	}
	used := map[string]bool{}
	produced := goldenFields(t)
	m := builtin(t)
	for name, tb := range m.tables {
		var ds []string
		for _, e := range m.entries {
			if e.table == name {
				for _, tg := range e.targets {
					ds = append(ds, tg.Dataset)
				}
			}
		}
		if len(ds) == 0 {
			continue
		}
		check := func(sigmaName, target string) {
			if strings.ContainsAny(target, "{*") {
				return
			}
			for _, d := range ds {
				if produced[d][target] {
					return
				}
			}
			if _, ok := notInGoldens[target]; ok {
				used[target] = true
				return
			}
			t.Errorf("table %s: %s → %s, which no golden event of %v has", name, sigmaName, target, ds)
		}
		for k, d := range tb.exact {
			for _, target := range d.targets {
				check(k, target)
			}
		}
	}
	for f := range notInGoldens {
		if !used[f] {
			t.Errorf("%s is listed as missing from the goldens but is there (or no table uses it): drop it from the list", f)
		}
	}
}

// goldenFields parses every dataset's golden inputs
// (internal/datasets/**/testdata/*/input, written by the datasets' authors
// from the vendors' formats), recognising each record's dataset as the
// processor does, and returns the field names each dataset's events hold
// (and, for lists of objects, the paths inside them).
func goldenFields(t *testing.T) map[string]map[string]bool {
	t.Helper()
	root := filepath.Join(testutil.RepoRoot(t), "internal", "datasets")
	var files []string
	for _, pat := range []string{"*/testdata/*/input", "*/*/testdata/*/input"} {
		f, err := filepath.Glob(filepath.Join(root, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f...)
	}
	sort.Strings(files)
	reg := datasets.Builtin(datasets.Options{})
	out := map[string]map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		for sc.Scan() {
			line := bytes.Clone(sc.Bytes())
			ds, ok := reg.Detect(line)
			if !ok {
				continue
			}
			evs, err := ds.Parser.Parse(dataset.Record{Data: line})
			if err != nil {
				continue
			}
			for _, e := range evs {
				e.SetIfAbsent("event.dataset", ds.Name)
				name := e.String("event.dataset")
				if out[name] == nil {
					out[name] = map[string]bool{}
				}
				e.Range(func(k string, v any) {
					out[name][k] = true
					if list, ok := v.([]any); ok {
						for _, el := range list {
							if obj, ok := el.(map[string]any); ok {
								flatten(k, obj, out[name])
							}
						}
					}
				})
			}
		}
	}
	return out
}

func flatten(prefix string, v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			flatten(prefix+"."+k, c, out)
		}
	case []any:
		out[prefix] = true
		for _, c := range x {
			if _, isObj := c.(map[string]any); isObj {
				flatten(prefix, c, out)
			}
		}
	default:
		out[prefix] = true
	}
}

func TestOverlay(t *testing.T) {
	user := `table: aws_cloudtrail
fields:
  eventName: [event.action, custom.event_name]
  myField: custom.my_field
  requestParameters.*: custom.params.*
logsources:
  - product: aws
    service: cloudtrail
    datasets: [custom.cloudtrail]
`
	shipped := builtin(t)
	m, err := shipped.Overlay("user.yaml", []byte(user))
	if err != nil {
		t.Fatal(err)
	}
	s := m.Lookup("aws", "cloudtrail", "")
	if len(s.Targets) != 1 || s.Targets[0].Dataset != "custom.cloudtrail" {
		t.Errorf("the user's logsource did not win: %+v", s.Targets)
	}
	for name, want := range map[string][]string{
		"eventName":              {"event.action", "custom.event_name"},
		"myField":                {"custom.my_field"},
		"eventSource":            {"event.provider"}, // kept from the shipped table
		"requestParameters.name": {"custom.params.name"},
	} {
		if got := s.Fields.Fields(name); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	// The map overlaid is unchanged.
	orig := shipped.Lookup("aws", "cloudtrail", "")
	if got := orig.Fields.Fields("eventName"); !reflect.DeepEqual(got, []string{"event.action"}) || orig.Targets[0].Dataset != "aws.cloudtrail" {
		t.Errorf("overlay changed the map it was laid over: %v %v", got, orig.Targets)
	}
}

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "okta.yaml")
	src := "table: okta\nlogsources:\n  - {product: okta, service: okta, datasets: [json]}\nfields:\n  eventType: event.action\n"
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	s := m.Lookup("okta", "okta", "")
	if !s.Active() || s.Targets[0].Dataset != "json" || s.Fields.Fields("eventType")[0] != "event.action" {
		t.Errorf("a user's logsource for a known-inactive source: %+v", s)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("a missing file loaded")
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, src string
		line      int
		want      string
	}{
		{"no table", "fields: {a: b}\n", 1, "names no table"},
		{"unknown key", "table: x\ncolumns: {}\n", 2, `unknown key "columns"`},
		{"bad fields", "table: x\nfields: [a]\n", 2, "want Sigma name"},
		{"duplicate field", "table: x\nfields:\n  a: b\n  A: c\n", 4, "listed twice"},
		{"inner wildcard", "table: x\nfields:\n  a*b: c\n", 3, "only a trailing .*"},
		{"prefix with values", "table: x\nfields:\n  a.*: {fields: b.*, values: {x: y}}\n", 3, "cannot translate"},
		{"no fields in entry", "table: x\nfields:\n  a: {values: {x: y}}\n", 3, "names no fields"},
		{"empty logsource", "table: x\nlogsources:\n  - {datasets: [a]}\n", 3, "needs a product"},
		{"datasets and inactive", "table: x\nlogsources:\n  - {product: p, datasets: [a], inactive: no}\n", 3, "either datasets or inactive"},
		{"neither", "table: x\nlogsources:\n  - {product: p}\n", 3, "either datasets or inactive"},
		{"bad dataset", "table: x\nlogsources:\n  - {product: p, datasets: ['a b']}\n", 3, "not a dataset name"},
		{"target without name", "table: x\nlogsources:\n  - {product: p, datasets: [{where: {a: b}}]}\n", 3, "has no name"},
		{"two documents", "table: x\n---\ntable: y\n", 0, "second YAML document"},
		{"not YAML", "table: [x\n", 0, "YAML"},
		{"empty", "", 0, "empty file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := builtin(t).Overlay("user.yaml", []byte(c.src))
			if err == nil {
				t.Fatalf("accepted; want %q", c.want)
			}
			fe, ok := err.(*Error)
			if !ok || !strings.Contains(fe.Msg, c.want) || fe.Line != c.line || fe.File != "user.yaml" {
				t.Fatalf("error %v, want user.yaml:%d %q", err, c.line, c.want)
			}
		})
	}
}

func TestAliasBomb(t *testing.T) {
	src := "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\ntable: x\n"
	_, err := builtin(t).Overlay("bomb.yaml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("error %v, want the file refused as too large", err)
	}
}
