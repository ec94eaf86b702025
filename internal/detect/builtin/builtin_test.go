package builtin

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets"
	"github.com/mamori-sec/mamori/internal/detect/sigma"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

// received is the samples' receive time: syslog lines without a year are
// of 2024.
var received = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func registry() *dataset.Registry {
	return datasets.Builtin(datasets.Options{Now: func() time.Time { return received }})
}

// corpusDir is ../shared/corpus, or "" when it is absent (the corpus
// references are then left out, and said so).
func corpusDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(testutil.RepoRoot(t), "..", "shared", "corpus")
	if _, err := os.Stat(dir); err != nil {
		t.Logf("../shared/corpus is absent (%v): the samples that refer to it are not run", err)
		return ""
	}
	return dir
}

// TestSamples runs every built-in rule over its samples, through dataset
// recognition, pipeline.Normalize and fresh engines: each rule fires on
// every positive sample and on no negative one. Every rule that raises
// alerts has at least one positive and one negative sample of its own,
// and every sample belongs to such a rule.
func TestSamples(t *testing.T) {
	results, err := CheckSamples(Options{}, registry(), nil, corpusDir(t), received)
	if err != nil {
		t.Fatal(err)
	}
	set, err := Rules(Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := NewEngines(set, nil)
	if err != nil {
		t.Fatal(err)
	}
	emitting := eng.Emitting()
	has := map[string][2]int{} // rule → positive, negative samples written in the package
	for _, r := range results {
		name := r.Sample.RuleID + ": " + r.Sample.File
		for _, p := range r.Problems {
			t.Errorf("%s: %s", name, p)
		}
		// A rule on single events fires on every record of its positive
		// samples (each record is one scenario); thresholds and
		// correlations fire once the records add up.
		if r.Sample.Positive && !aggregating[r.Sample.RuleID] && r.Fired != len(r.Sample.Records) {
			t.Errorf("%s: fired %d times on %d records", name, r.Fired, len(r.Sample.Records))
		}
		if r.Events == 0 && len(r.Problems) == 0 {
			t.Errorf("%s: no events", name)
		}
		verdict := "fires"
		if !r.Sample.Positive {
			verdict = "silent"
		}
		t.Logf("%s: %s (%d events, %d matches; others: %s)", name, verdict, r.Events, r.Fired, strings.Join(r.Others, " "))
		if strings.HasPrefix(r.Sample.File, "samples/") {
			c := has[r.Sample.RuleID]
			if r.Sample.Positive {
				c[0]++
			} else {
				c[1]++
			}
			has[r.Sample.RuleID] = c
		}
	}
	for _, id := range emitting {
		if c := has[id]; c[0] == 0 || c[1] == 0 {
			t.Errorf("rule %s has %d positive and %d negative samples of its own; want both", id, c[0], c[1])
		}
		delete(has, id)
	}
	for id := range has {
		t.Errorf("samples/%s: no built-in rule raising alerts has that id", id)
	}
}

// aggregating are the rules that count several events before firing.
var aggregating = map[string]bool{idGWSBurst: true, idAzureBurst: true, idSSHThenSuccess: true,
	"mamori-deepsecurity-firewall-blocked": true}

// TestRulesLoad checks that every built-in rule loads and is active with
// the shipped field tables, and lists them as docs/rules.md does.
func TestRulesLoad(t *testing.T) {
	set, err := Rules(Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := NewEngines(set, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range eng.Sigma.Rules() {
		if !info.Active {
			t.Errorf("%s is inactive: %s", info.Rule.ID, info.Inactive)
		}
		for _, u := range info.Unmapped {
			// Names without a table entry go through the table's
			// fallbacks (riskState → azure.signinlogs.properties.risk_state);
			// the samples prove they land.
			t.Logf("%s: %s → %v", info.Rule.ID, u.Name, u.Fields)
		}
		if !strings.HasPrefix(info.Rule.File, FilePrefix+"sigma/") {
			t.Errorf("%s: file %q", info.Rule.ID, info.Rule.File)
		}
		if _, ok := RuleFile(info.Rule.File); !ok {
			t.Errorf("RuleFile(%q) not found", info.Rule.File)
		}
	}
	for _, r := range set.Native {
		if len(r.Datasets) == 0 {
			t.Errorf("%s runs on every dataset: a built-in rule names its datasets", r.ID)
		}
	}
	if got := len(eng.Emitting()); got != 22 {
		t.Errorf("%d rules raise alerts, want 22: %v", got, eng.Emitting())
	}
}

// TestOptions checks that the options reach the rules they bound.
func TestOptions(t *testing.T) {
	set, err := Rules(Options{NGFWMinSeverity: sigma.LevelCritical, GuardDutyMinSeverity: 4.5, FailedLogins: 3,
		FailedLoginWindow: time.Hour, SSHFailures: 2, SSHWindow: 90 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range set.Native {
		switch r.ID {
		case idPanosThreat, idFortigateIPS, idFortigateVirus:
			got[r.ID] = string(r.MinSeverity)
		case idGuardDuty:
			got[r.ID] = r.Query
		case idGWSBurst, idAzureBurst:
			got[r.ID] = strings.Join([]string{string(rune('0' + r.Threshold)), r.Window.String()}, " ")
		}
	}
	for _, r := range set.Sigma {
		if r.ID == idSSHBruteforce {
			got[r.ID] = strings.Join([]string{string(rune('0' + r.Correlation.Condition.Min)), r.Correlation.Timespan.String()}, " ")
		}
		if r.ID == idSSHThenSuccess {
			got[r.ID] = r.Correlation.Timespan.String()
		}
	}
	want := map[string]string{
		idPanosThreat: "critical", idFortigateIPS: "critical", idFortigateVirus: "critical",
		idGuardDuty: "aws.guardduty.severity.code:>=4.5 AND NOT aws.guardduty.service.archived:true",
		idGWSBurst:  "3 1h0m0s", idAzureBurst: "3 1h0m0s",
		idSSHBruteforce: "2 1m30s", idSSHThenSuccess: "1m30s",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bounds\n got %v\nwant %v", got, want)
	}

	// The bounds change what fires: a medium PAN-OS virus is silent at
	// critical; two sshd failures then a success fire at 2.
	eng, err := NewEngines(set, nil)
	if err != nil {
		t.Fatal(err)
	}
	fired := func(lines ...string) []string {
		var ids []string
		for i, l := range lines {
			evs, problem := Normalize(registry(), []byte(l), "test", int64(i), received)
			if problem != "" {
				t.Fatalf("%q: %s", l, problem)
			}
			for _, m := range eng.Evaluate(evs) {
				ids = append(ids, m.Rule.ID)
			}
		}
		sort.Strings(ids)
		return ids
	}
	samples, err := Samples("")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		if s.RuleID == idPanosThreat && s.Positive {
			var lines []string
			for _, r := range s.Records {
				lines = append(lines, string(r))
			}
			if ids := fired(lines...); len(ids) != 1 {
				t.Errorf("PAN-OS positives at min critical: %v, want only the critical exploit", ids)
			}
		}
	}
	if ids := fired(
		"Mar  1 10:00:01 web-01 sshd[1]: Failed password for root from 192.0.2.200 port 1 ssh2",
		"Mar  1 10:00:02 web-01 sshd[1]: Failed password for root from 192.0.2.200 port 2 ssh2",
		"Mar  1 10:00:03 web-01 sshd[1]: Accepted password for root from 192.0.2.200 port 3 ssh2",
	); !reflect.DeepEqual(ids, []string{idSSHThenSuccess}) {
		t.Errorf("sshd with 2 failures: %v", ids)
	}
}

func TestOptionsChecked(t *testing.T) {
	for _, o := range []Options{
		{NGFWMinSeverity: "severe"},
		{GuardDutyMinSeverity: 11},
		{FailedLogins: -1},
		{SSHFailures: 200_000},
		{SSHWindow: 40 * 24 * time.Hour},
	} {
		if _, err := Rules(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	if d := (Options{}).Defaults(); d != defaults {
		t.Errorf("defaults %+v", d)
	}
}

// TestMatchContents checks what the alerts of a few built-in rules say:
// the severity from the event, rendered titles and summaries, group keys.
func TestMatchContents(t *testing.T) {
	set, err := Rules(Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := NewEngines(set, nil)
	if err != nil {
		t.Fatal(err)
	}
	samples, err := Samples("")
	if err != nil {
		t.Fatal(err)
	}
	type got struct{ severity, title, summary, group string }
	var all []got
	for _, s := range samples {
		if !s.Positive || (s.RuleID != idPanosThreat && s.RuleID != idGuardDuty && s.RuleID != "mamori-aws-root-console-login") {
			continue
		}
		for i, rec := range s.Records {
			evs, problem := Normalize(registry(), rec, s.File, int64(i), received)
			if problem != "" {
				t.Fatal(problem)
			}
			for _, m := range eng.Evaluate(evs) {
				var g []string
				for _, v := range m.GroupBy {
					g = append(g, v.Field+"="+v.Value)
				}
				title := m.Title
				if title == "" {
					title = m.Rule.Title
				}
				all = append(all, got{string(m.Severity), title, m.Summary, strings.Join(g, " ")})
				if m.Event.String(event.FieldID) != m.EventID || m.EventID == "" {
					t.Errorf("event id %q", m.EventID)
				}
			}
		}
	}
	want := []got{
		{"high", "AWS root user signed in to the console", "", ""},
		{"high", "GuardDuty High: Backdoor:EC2/C&CActivity.B",
			"EC2 instance i-0fedcba9876543210 is querying an IP address associated with a known command and control server. (account 111122223333, us-east-1; severity 8, seen 3 times)",
			"aws.guardduty.id=c1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6"},
		{"critical", "GuardDuty Critical: CryptoCurrency:EC2/BitcoinTool.B",
			"EC2 instance i-0fedcba9876543210 is communicating with a Bitcoin mining pool. (account 111122223333, us-east-1; severity 9.5, seen 3 times)",
			"aws.guardduty.id=d1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c7"},
		{"medium", "PAN-OS virus: Eicar Test File",
			"Eicar Test File (virus, medium) from 198.51.100.40:25001 to 10.1.1.22:25 (smtp), reset-both by rule inbound-mail on fw-edge-01",
			"panw.panos.threat.id=39040 source.ip=198.51.100.40 destination.ip=10.1.1.22"},
		{"critical", "PAN-OS vulnerability: Apache Struts2 Jakarta Multipart Parser Remote Code Execution Vulnerability",
			"Apache Struts2 Jakarta Multipart Parser Remote Code Execution Vulnerability (vulnerability, critical) from 203.0.113.60:41000 to 10.1.2.10:80 (web-browsing), reset-server by rule publish-web on fw-edge-01",
			"panw.panos.threat.id=33396 source.ip=203.0.113.60 destination.ip=10.1.2.10"},
		{"high", "PAN-OS spyware: Suspicious DNS Query (generic:bad.example.com)",
			"Suspicious DNS Query (generic:bad.example.com) (spyware, high) from 10.1.1.23:53100 to 192.0.2.53:53 (dns), sinkhole by rule allow-dns on fw-edge-01",
			"panw.panos.threat.id=109000001 source.ip=10.1.1.23 destination.ip=192.0.2.53"},
		{"high", "PAN-OS wildfire: Windows Executable (EXE)",
			"Windows Executable (EXE) (wildfire, high) from 198.51.100.70:80 to 10.1.1.24:50700 (web-browsing), allow by rule allow-web on fw-edge-01",
			"panw.panos.threat.id=52020 source.ip=198.51.100.70 destination.ip=10.1.1.24"},
	}
	if !reflect.DeepEqual(all, want) {
		for _, g := range all {
			t.Logf("%#v", g)
		}
		t.Errorf("matches differ")
	}
}

// TestDeepSecurityAlertKeys checks how the Deep Security block rules group:
// firewall blocks by source once 20 add up, IPS blocks by attack and host
// (not by source, which a scan varies).
func TestDeepSecurityAlertKeys(t *testing.T) {
	set, err := Rules(Options{})
	if err != nil {
		t.Fatal(err)
	}
	samples, err := Samples("")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, s := range samples {
		if !s.Positive || (s.RuleID != "mamori-deepsecurity-firewall-blocked" && s.RuleID != "mamori-deepsecurity-ips-blocked") {
			continue
		}
		eng, err := NewEngines(set, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, rec := range s.Records {
			evs, problem := Normalize(registry(), rec, s.File, int64(i), received)
			if problem != "" {
				t.Fatal(problem)
			}
			for _, m := range eng.Evaluate(evs) {
				if m.Rule.ID != s.RuleID {
					continue
				}
				var g []string
				for _, v := range m.GroupBy {
					g = append(g, v.Field+"="+v.Value)
				}
				got[s.RuleID] = append(got[s.RuleID], fmt.Sprintf("%d %s | %s", m.Count, m.Title, strings.Join(g, " ")))
			}
		}
	}
	want := map[string][]string{
		"mamori-deepsecurity-firewall-blocked": {
			"20 Deep Security firewall: 20 blocked connections from 203.0.113.77 | source.ip=203.0.113.77"},
		"mamori-deepsecurity-ips-blocked": {
			"0 Deep Security IPS blocked: SQL Injection Attack Detected | rule.name=SQL Injection Attack Detected host.name=web-01.example.com",
			"0 Deep Security IPS blocked: Apache Log4j Remote Code Execution Vulnerability (CVE-2021-44228) | " +
				"rule.name=Apache Log4j Remote Code Execution Vulnerability (CVE-2021-44228) host.name=web-02.example.com"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("matches:\n got %q\nwant %q", got, want)
	}
}
