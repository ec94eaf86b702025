package mapping_test

import (
	"path/filepath"
	"testing"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/mapping"
	"github.com/mamori-sec/mamori/internal/testutil"
)

// Lines of other sources that no mapping below may claim.
var others = []string{
	`<38>Mar  1 11:59:58 web-01 sshd[4242]: Connection closed by 203.0.113.9 port 52144`,
	`<13>Mar  1 11:00:00 host01 cron[77]: (root) CMD (run-parts /etc/cron.hourly)`,
	`CEF:0|Acme|WAF|2.1|942100|SQL Injection|8|src=192.0.2.44 act=blocked`,
	`<134>Mar  1 12:00:00 waf01 CEF:0|Acme|WAF|2.1|942100|SQL Injection|8|src=192.0.2.44`,
	`LEEF:1.0|Acme|Gateway|1.0|login|src=192.0.2.1`,
	`{"eventVersion":"1.08","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin"}`,
	`{"message":"CEF:0|Acme|WAF|2.1|1|x|3|src=192.0.2.1","hostname":"h1","timestamp":"2024-03-01T10:00:00Z"}`,
	`date=2024-03-01 time=10:00:00 devname="FG-01" type="traffic" action="accept"`,
	``,
}

func TestClaimExample(t *testing.T) {
	d := loadExample(t)
	for _, l := range []string{
		`CEF:0|Trend Micro|Deep Security Agent|20.0|20|Log for TCP Port 80|0|src=192.0.2.10`,
		`CEF:0|Trend Micro|Deep Security Manager|20.0|600|User Signed In|3|suser=admin`,
		`<134>Mar  1 12:00:00 dsa01 CEF:0|Trend Micro|Deep Security Agent|20.0|20|x|0|src=192.0.2.10`,
		`<134>1 2024-03-01T12:00:00Z dsm01 - - - - CEF:0|Trend Micro|Deep Security Manager|20.0|600|x|3|`,
	} {
		if !d.Claim(dataset.LineOf([]byte(l))) {
			t.Errorf("does not claim its own line %q", l)
		}
	}
	for _, l := range others {
		if d.Claim(dataset.LineOf([]byte(l))) {
			t.Errorf("claims another source's line %q", l)
		}
	}
}

func TestClaimRules(t *testing.T) {
	sshd := load(t, `name: acme.sshd
format: regex
syslog: true
lines: {app: [sshd], prefix: ["Failed ", "Accepted "]}
pattern: '^(?P<outcome>\w+) '
fields: [{from: outcome, to: event.action}]
`)
	anyOf := load(t, `name: acme.any
format: kv
lines:
  - prefix: "acme-app "
  - contains: " product=acme "
  - regexp: '^seq=\d+ acme\['
set: {event.kind: event}
`)
	bare := load(t, `name: acme.bare
format: kv
lines: {prefix: "Failed "}
set: {event.kind: event}
`)
	for _, tc := range []struct {
		d    dataset.Dataset
		line string
		want bool
	}{
		{sshd, "<38>Mar  1 11:59:58 web-01 sshd[4242]: Failed password for root from 192.0.2.1 port 22 ssh2", true},
		{sshd, "<86>1 2024-03-01T11:59:59Z web-02 sshd 4243 - - Accepted publickey for alice", true},
		{sshd, "<38>Mar  1 11:59:58 web-01 cron[1]: Failed to run job", false}, // another program
		{sshd, "<38>Mar  1 11:59:58 web-01 sshd[1]: Connection closed", false}, // another message
		{sshd, "Failed password for root from 192.0.2.1 port 22 ssh2", false},  // no header, no program
		{anyOf, "acme-app user=alice", true},
		{anyOf, "ts=1 product=acme user=alice", true},
		{anyOf, "seq=42 acme[12] user=alice", true},
		{anyOf, "ts=1 product=other user=alice", false},
		{bare, "Failed password for root", true},
		// A mapping without syslog: true cannot read a header, so it
		// does not claim a line that has one, whatever its body says.
		{bare, "<38>Mar  1 11:59:58 web-01 sshd[4242]: Failed password for root", false},
	} {
		if got := tc.d.Claim(dataset.LineOf([]byte(tc.line))); got != tc.want {
			t.Errorf("%s claims %q: %v, want %v", tc.d.Name, tc.line, got, tc.want)
		}
	}
	for _, d := range []dataset.Dataset{sshd, anyOf, bare} {
		for _, l := range others {
			if d.Claim(dataset.LineOf([]byte(l))) {
				t.Errorf("%s claims another source's line %q", d.Name, l)
			}
		}
	}
	if d := load(t, "name: t\nformat: kv\nset: {event.kind: event}\n"); d.Claim != nil {
		t.Error("a mapping without lines: has a Claim")
	}
}

// TestKeys checks that key patterns route objects to the mapping, through
// the registry as the scanner asks it.
func TestKeys(t *testing.T) {
	d := load(t, "name: acme.export\nformat: json\nkeys: ['**/acme/export/*/*.json.gz', 'acme-*/events.log']\nset: {event.kind: event}\n")
	reg := dataset.NewRegistry(d)
	for key, want := range map[string]bool{
		"exports/acme/export/2024/a.json.gz": true,
		"acme/export/2024/b.json.gz":         true,
		"acme-eu/events.log":                 true,
		"exports/acme/export/2024/a.json":    false,
		"exports/other/export/2024/a.json":   false,
		"x/acme-eu/events.log":               false,
	} {
		got, ok := reg.ForKey(key)
		if ok != want || ok && got.Name != d.Name {
			t.Errorf("ForKey(%q) = %q, %v; want %v", key, got.Name, ok, want)
		}
	}
}

// loadExample loads the shipped Deep Security example.
func loadExample(t testing.TB) dataset.Dataset {
	t.Helper()
	path := filepath.Join(testutil.RepoRoot(t), "docs", "datasets", "examples", "trendmicro-deepsecurity.yaml")
	ds, err := mapping.Load(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Name != "trendmicro.deepsecurity_custom" {
		t.Fatalf("example defines %v", ds)
	}
	return ds[0]
}
