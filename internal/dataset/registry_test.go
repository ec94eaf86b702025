package dataset

import (
	"reflect"
	"testing"

	"github.com/mamori-sec/mamori/internal/event"
)

func nopParser() Parser {
	return ParserFunc(func(Record) ([]*event.Event, error) { return nil, nil })
}

func TestRegistry(t *testing.T) {
	r := NewRegistry(Dataset{Name: "syslog", Parser: nopParser()}, Dataset{Name: "cef", Parser: nopParser()})
	if got := r.Names(); !reflect.DeepEqual(got, []string{"cef", "syslog"}) {
		t.Errorf("Names() = %v", got)
	}
	if d, ok := r.Lookup("cef"); !ok || d.Name != "cef" {
		t.Errorf("Lookup(cef) = %v, %v", d, ok)
	}
	if _, ok := r.Lookup("nope"); ok {
		t.Error("Lookup(nope) found something")
	}
	if d, ok := r.Detect([]byte("CEF:0|a|b|c|d|e|f|")); !ok || d.Name != "cef" {
		t.Errorf("Detect(CEF) = %v, %v", d.Name, ok)
	}
}

func TestRegistryRejectsDuplicatesAndBlanks(t *testing.T) {
	for name, ds := range map[string][]Dataset{
		"duplicate": {{Name: "a", Parser: nopParser()}, {Name: "a", Parser: nopParser()}},
		"no name":   {{Parser: nopParser()}},
		"no parser": {{Name: "a"}},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("NewRegistry did not panic")
				}
			}()
			NewRegistry(ds...)
		})
	}
}

func TestDetect(t *testing.T) {
	tests := map[string]string{
		`{"a":1}`: JSON,
		`  {"message":"x","hostname":"h"}` + "\n": JSON,
		`{not closed`: Syslog,
		`CEF:0|Trend Micro|Deep Security Agent|1|`: CEF,
		"LEEF:1.0|V|P|1|E|src=1.2.3.4":             LEEF,
		"<34>Oct 11 22:14:15 mymachine su: x":      Syslog,
		"<134>CEF:0|V|P|1|s|n|5|":                  Syslog,
		"Feb  5 17:32:18 host tag: x":              Syslog,
		"2018-08-14T14:30:02.203151+02:00 host x:": Syslog,
		"date=2024-01-01 time=10:00:00 devname=FG": KV,
		`srcip=10.0.0.1 dstip=10.0.0.2`:            KV,
		"one=pair only":                            Syslog,
		"plain text":                               Syslog,
		"":                                         Syslog,
		"[1,2]":                                    Syslog,
	}
	for in, want := range tests {
		if got := Detect([]byte(in)); got != want {
			t.Errorf("Detect(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzDetect(f *testing.F) {
	f.Add([]byte("<1>"))
	f.Add([]byte("{"))
	f.Add([]byte("a=b c=d"))
	f.Fuzz(func(t *testing.T, data []byte) {
		switch Detect(data) {
		case JSON, CEF, LEEF, Syslog, KV:
		default:
			t.Fatalf("Detect(%q) named no generic dataset", data)
		}
	})
}

func BenchmarkDetect(b *testing.B) {
	line := []byte("<134>Mar  1 11:59:01 web-01 dsa: CEF:0|Trend Micro|Deep Security Agent|20.0|20|Log|5|src=1.2.3.4")
	b.ReportAllocs()
	for b.Loop() {
		_ = Detect(line)
	}
}

func TestMatchKey(t *testing.T) {
	tests := []struct {
		pattern, key string
		want         bool
	}{
		{"AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz", "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/20/x.json.gz", true},
		{"AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz", "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/20/x.json.gz", false},
		{"**/AWSLogs/*/CloudTrail/**", "org/o-1/AWSLogs/1/CloudTrail/eu-west-1/2026/01/01/a.json.gz", true},
		{"**/AWSLogs/*/CloudTrail/**", "AWSLogs/1/CloudTrail/a.json.gz", true},
		{"**/AWSLogs/*/CloudTrail/**", "AWSLogs/1/vpcflowlogs/a.log.gz", false},
		{"ds_agent/*", "ds_agent/a/b", false},
		{"[", "[", false},
	}
	for _, tt := range tests {
		if got := MatchKey(tt.pattern, tt.key); got != tt.want {
			t.Errorf("MatchKey(%q, %q) = %v, want %v", tt.pattern, tt.key, got, tt.want)
		}
	}
}

func TestClaimAndForKey(t *testing.T) {
	var seen Line
	sshd := Dataset{Name: "linux.syslog", Parser: nopParser(), Claim: func(l Line) bool {
		seen = l
		return l.App == "sshd"
	}}
	trail := Dataset{Name: "aws.cloudtrail", Parser: nopParser(), Keys: []string{"**/CloudTrail/**"}}
	r := NewRegistry(Dataset{Name: "syslog", Parser: nopParser()}, sshd, trail)

	d, ok := r.Detect([]byte("<38>Oct 11 22:14:15 host1 sshd[42]: Accepted password for bob"))
	if !ok || d.Name != "linux.syslog" {
		t.Fatalf("Detect(sshd line) = %q, %v", d.Name, ok)
	}
	if seen.App != "sshd" || string(seen.Body) != "Accepted password for bob" {
		t.Errorf("Claim saw App %q Body %q", seen.App, seen.Body)
	}
	if d, _ := r.Detect([]byte("<38>Oct 11 22:14:15 host1 cron[1]: ran")); d.Name != "syslog" {
		t.Errorf("unclaimed syslog line went to %q", d.Name)
	}
	r.Detect([]byte("plain text"))
	if seen.App != "" || string(seen.Body) != "plain text" {
		t.Errorf("headerless line: Claim saw App %q Body %q", seen.App, seen.Body)
	}
	if d, ok := r.ForKey("AWSLogs/1/CloudTrail/us-east-1/2026/11/20/a.json.gz"); !ok || d.Name != "aws.cloudtrail" {
		t.Errorf("ForKey = %q, %v", d.Name, ok)
	}
	if _, ok := r.ForKey("other/a.log"); ok {
		t.Error("ForKey matched an unclaimed key")
	}
}
