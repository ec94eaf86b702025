package datasets_test

import (
	"bufio"
	"os"
	"reflect"
	"testing"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets"
	"github.com/mamori-sec/mamori/internal/testutil"
)

func TestBuiltinNames(t *testing.T) {
	got := datasets.Builtin(datasets.Options{}).Names()
	want := []string{"cef", "json", "kv", "leef", "syslog"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
}

// TestDetectedCorpus routes real sample lines by detection alone and
// checks that each lands in the expected dataset and parses.
func TestDetectedCorpus(t *testing.T) {
	reg := datasets.Builtin(datasets.Options{})
	cases := map[string]string{
		"syslog/rfc5424-examples.log":                          "syslog",
		"syslog/rfc3164-examples.log":                          "syslog",
		"syslog/test-tz-offset.log":                            "syslog",
		"trendmicro_deepsecurity/test-trend-micro.raw-cef.log": "cef",
		"ngfw_fortigate/test-fortinet-7-6.log":                 "syslog",
		"aws_cloudtrail/test-console-login-json.log":           "json",
		"google_workspace/test-login.log":                      "json",
		"dhcp/isc-dhcpd/isc-dhcpd-syslog.log":                  "syslog",
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
				if !ok || ds.Name != want {
					t.Fatalf("line %d: detected %q, want %q", n, ds.Name, want)
				}
				evs, err := ds.Parser.Parse(dataset.Record{Data: sc.Bytes()})
				if err != nil || len(evs) == 0 {
					t.Errorf("line %d: %d events, %v", n, len(evs), err)
				}
			}
			if n == 0 {
				t.Fatal("no lines")
			}
		})
	}
}
