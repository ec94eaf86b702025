package datasets_test

import (
	"bufio"
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets"
	"github.com/mamori-sec/mamori/internal/testutil"
)

func TestBuiltinNames(t *testing.T) {
	got := datasets.Builtin(datasets.Options{}).Names()
	want := []string{"apache.access", "aws.cloudtrail", "aws.elb", "aws.guardduty", "aws.vpcflow", "aws.waf", "azure.auditlogs", "azure.signinlogs", "cef", "cylance.protect", "dhcp.lease",
		"dns.query", "fortinet.fortigate", "google_workspace.admin", "google_workspace.device", "google_workspace.drive",
		"google_workspace.login", "google_workspace.token", "json", "kv", "leef", "linux.syslog", "mamori.audit", "nginx.access",
		"panw.panos", "syslog", "trendmicro.deepsecurity"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
}

// TestDetectedCorpus routes the real sample lines that have no expected
// documents (TestCorpusAgreement covers the others) by detection alone, and
// checks that each lands in one of the datasets it may belong to and
// parses.
func TestDetectedCorpus(t *testing.T) {
	reg := datasets.Builtin(datasets.Options{})
	cases := map[string][]string{
		// RFC examples: su and other programs.
		"syslog/rfc5424-examples.log":                          {"syslog", "linux.syslog"},
		"syslog/rfc3164-examples.log":                          {"syslog", "linux.syslog"},
		"trendmicro_deepsecurity/test-trend-micro.raw-cef.log": {"trendmicro.deepsecurity"},
		"dhcp/isc-dhcpd/isc-dhcpd-syslog.log":                  {"dhcp.lease"},
		"dhcp/kea/kea-dhcp4-standalone.log":                    {"dhcp.lease"},
		"dhcp/kea/kea-dhcp4-syslog.log":                        {"dhcp.lease"},
		"cylance/test-generated.log":                           {"cylance.protect"},
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			f, err := os.Open(testutil.CorpusFile(t, file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 4<<20)
			n := 0
			for sc.Scan() {
				if len(sc.Bytes()) == 0 {
					continue
				}
				n++
				ds, ok := reg.Detect(sc.Bytes())
				if !ok || !slices.Contains(want, ds.Name) {
					t.Fatalf("line %d: detected %q, want one of %q", n, ds.Name, want)
				}
				evs, err := ds.Parser.Parse(dataset.Record{Data: sc.Bytes()})
				if err != nil {
					t.Errorf("line %d: %d events, %v", n, len(evs), err)
				}
			}
			if n == 0 {
				t.Fatal("no lines")
			}
		})
	}
}

// TestVerbatimFieldsAreVerbatim holds every dataset to the promise behind
// Dataset.Verbatim, which lets a search rule records out by their raw
// text: a text value under a verbatim prefix occurs in the record as it is
// (ignoring case). It parses every golden case input of every dataset.
func TestVerbatimFieldsAreVerbatim(t *testing.T) {
	reg := datasets.Builtin(datasets.Options{})
	inputs, err := filepath.Glob("*/testdata/*/input")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("*/*/testdata/*/input")
	inputs = append(inputs, more...)
	if len(inputs) == 0 {
		t.Fatal("no golden inputs found")
	}
	checked := 0
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			if bytes.IndexByte(line, '\\') >= 0 {
				continue // escapes are exempt: searches leave such records to the parser
			}
			ds, ok := reg.Detect(line)
			if !ok {
				continue
			}
			evs, err := ds.Parser.Parse(dataset.Record{Data: line})
			if err != nil {
				continue
			}
			lower := strings.ToLower(string(line))
			for _, ev := range evs {
				ev.Range(func(field string, v any) {
					s, isText := v.(string)
					if !isText || !reg.Verbatim(field) {
						return
					}
					if _, err := netip.ParseAddr(s); err == nil {
						return // addresses are exempt
					}
					checked++
					if !strings.Contains(lower, strings.ToLower(s)) {
						t.Errorf("%s: %s = %q is not in the record %q", in, field, s, line)
					}
				})
			}
		}
	}
	if checked == 0 {
		t.Error("no verbatim field was checked: is any dataset declaring Verbatim?")
	}
	t.Logf("%d verbatim values checked", checked)
}
