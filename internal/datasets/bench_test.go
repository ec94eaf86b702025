package datasets_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets"
	"github.com/mamori-sec/mamori/internal/pipeline"
)

// benchCases are realistic records of each dataset: the golden inputs of
// its folder (every line that parses without error), as they arrive.
var benchCases = []struct {
	dataset string
	input   string // a golden case input under internal/datasets
	header  bool   // the input's first line names the columns
}{
	{"syslog", "syslog/testdata/rfc3164/input", false},
	{"linux.syslog", "linux/testdata/sshd/input", false},
	{"trendmicro.deepsecurity", "trendmicro/testdata/firewall/input", false},
	{"trendmicro.deepsecurity", "trendmicro/testdata/intrusion-prevention/input", false},
	{"cef", "cef/testdata/arcsight/input", false},
	{"panw.panos", "panw/testdata/traffic/input", false},
	{"panw.panos", "panw/testdata/threat/input", false},
	{"fortinet.fortigate", "fortinet/testdata/traffic/input", false},
	{"fortinet.fortigate", "fortinet/testdata/utm/input", false},
	{"aws.vpcflow", "aws/vpcflow/testdata/s3-default/input", true},
	{"aws.elb", "aws/elb/testdata/alb/input", false},
	{"dns.query", "dns/testdata/bind-syslog/input", false},
	{"dhcp.lease", "dhcp/testdata/kea-file/input", false},
	{"nginx.access", "accesslog/testdata/nginx/combined/input", false},
	{"aws.cloudtrail", "aws/cloudtrail/testdata/console-login/input", false},
	{"aws.guardduty", "aws/guardduty/testdata/port-probe/input", false},
	{"aws.waf", "aws/waf/testdata/block-regular/input", false},
	{"google_workspace.login", "googleworkspace/testdata/login-activity/input", false},
	{"azure.signinlogs", "azure/testdata/signin-diagnostic/input", false},
	{"cylance.protect", "cylance/testdata/syslog-threat/input", false},
}

// BenchmarkNormalize measures parse + normalise (event.id, related.*, ...)
// per dataset, as the processor runs it, one event per op: run it on one
// core with `go test ./internal/datasets -run XXX -bench Normalize -cpu 1`.
// The events/s metric is what docs/benchmarks.md quotes.
func BenchmarkNormalize(b *testing.B) {
	reg := datasets.Builtin(datasets.Options{})
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for _, c := range benchCases {
		ds, ok := reg.Lookup(c.dataset)
		if !ok {
			b.Fatalf("no dataset %s", c.dataset)
		}
		data, err := os.ReadFile(c.input)
		if err != nil {
			b.Fatal(err)
		}
		lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
		var header []byte
		if c.header {
			header, lines = lines[0], lines[1:]
		}
		var recs []dataset.Record
		events := 0
		for _, l := range lines {
			rec := dataset.Record{Data: l, Received: at, Header: header}
			if evs, err := ds.Parser.Parse(rec); err == nil && len(evs) > 0 {
				recs = append(recs, rec)
				events += len(evs)
			}
		}
		if len(recs) == 0 {
			b.Fatalf("%s: no record of %s parses", c.dataset, c.input)
		}
		b.Run(c.dataset+"/"+c.input, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for i := 0; b.Loop(); i++ {
				evs, _ := pipeline.Normalize(ds, recs[i%len(recs)], "bench/key", int64(i), at)
				n += len(evs)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
