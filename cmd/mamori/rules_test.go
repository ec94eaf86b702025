package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sshRules: five failed sshd logins from one address, then a login.
const sshRules = `title: Failed login
name: c_failed
logsource: {product: linux, service: sshd}
detection:
    sel: {event.action: ssh_login, event.outcome: failure}
    condition: sel
---
title: Accepted login
name: c_accepted
logsource: {product: linux, service: sshd}
detection:
    sel: {event.action: ssh_login, event.outcome: success}
    condition: sel
---
title: Guessing
name: c_guessing
correlation: {type: event_count, rules: c_failed, group-by: [src_ip], timespan: 5m, condition: {gte: 5}}
---
title: Guessing then login
id: c-brute-force
correlation: {type: temporal_ordered, rules: [c_guessing, c_accepted], group-by: [src_ip], timespan: 10m}
level: high
`

const badRule = `title: Typo
logsource: {product: linux}
detection:
    sel:
        message|contians: x
    condition: sel
`

func sshLog(ip string) string {
	var b strings.Builder
	for i := 0; i < 5; i++ {
		fmt.Fprintf(&b, "<38>1 2026-03-01T10:00:0%dZ web-01 sshd 7 - - Failed password for root from %s port 5000%d ssh2\n", i, ip, i)
	}
	fmt.Fprintf(&b, "<38>1 2026-03-01T10:00:09Z web-01 sshd 7 - - Accepted password for root from %s port 50100 ssh2\n", ip)
	return b.String()
}

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mamori(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestServeCheckLoadsRulesAndSecrets(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	writeFile(t, filepath.Join(rules, "ssh.yml"), sshRules)
	cfg := writeFile(t, filepath.Join(dir, "ok.yaml"), "rules:\n  builtin: false\n  sigma: ["+rules+"]\n  disabled: [nope]\n")
	code, out, errOut := mamori("serve", "--check", "--config", cfg)
	if code != 0 || !strings.Contains(out, "configuration OK (4 rules loaded, 4 active; 0 notifiers; 0 users)") || !strings.Contains(errOut, `"nope"`) {
		t.Fatalf("good config: exit %d\n%s\n%s", code, out, errOut)
	}
	writeFile(t, filepath.Join(rules, "bad.yml"), badRule)
	// A rule that does not load fails the check, even when the server
	// would be allowed to start without it.
	cfg = writeFile(t, filepath.Join(dir, "bad.yaml"), "rules:\n  builtin: false\n  sigma: ["+rules+"]\n  allow_rejected: true\n")
	code, _, errOut = mamori("serve", "--check", "--config", cfg)
	if code != 2 || !strings.Contains(errOut, filepath.Join(rules, "bad.yml")+":5") || !strings.Contains(errOut, `unknown modifier "contians"`) {
		t.Fatalf("rejected rule: exit %d\n%s", code, errOut)
	}
	cfg = writeFile(t, filepath.Join(dir, "pd.yaml"), `alerts:
  notifiers:
    - {name: pd, type: pagerduty, routing_key: {env: MAMORI_TEST_UNSET_KEY}}
`)
	code, _, errOut = mamori("serve", "--check", "--config", cfg)
	if code != 2 || !strings.Contains(errOut, "notifier pd: routing_key (env MAMORI_TEST_UNSET_KEY)") {
		t.Fatalf("unreadable secret: exit %d\n%s", code, errOut)
	}
	cfg = writeFile(t, filepath.Join(dir, "missing.yaml"), "rules:\n  sigma: ["+filepath.Join(dir, "nothing", "*.yml")+"]\n")
	if code, _, errOut = mamori("serve", "--check", "--config", cfg); code != 2 || !strings.Contains(errOut, "matches no file") {
		t.Fatalf("glob matching nothing: exit %d\n%s", code, errOut)
	}
}

func TestRulesValidateAndTest(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "ssh.yml"), sshRules)
	bad := writeFile(t, filepath.Join(dir, "bad.yml"), badRule)
	code, out, _ := mamori("rules", "validate", good)
	if code != 0 || !strings.Contains(out, "4 rules in 1 files: 4 loaded (4 active), 0 rejected") {
		t.Fatalf("validate good: exit %d\n%s", code, out)
	}
	code, out, _ = mamori("rules", "validate", good, bad)
	if code != 2 || !strings.Contains(out, bad+`:5: "Typo": message|contians: unknown modifier "contians"`) {
		t.Fatalf("validate bad: exit %d\n%s", code, out)
	}

	writeFile(t, filepath.Join(dir, "ssh.positive.log"), sshLog("192.0.2.1"))
	code, out, _ = mamori("rules", "test", good)
	if code != 0 || !strings.Contains(out, "ok    "+filepath.Join(dir, "ssh.positive.log")) || !strings.Contains(out, "1 sample, 0 failed") {
		t.Fatalf("test: exit %d\n%s", code, out)
	}
	writeFile(t, filepath.Join(dir, "ssh.negative.log"), sshLog("192.0.2.2"))
	code, out, _ = mamori("rules", "test", "--rule", "c-brute-force", good)
	if code != 2 || !strings.Contains(out, `rule "Guessing then login" fired (on line 6)`) {
		t.Fatalf("test with a failing negative: exit %d\n%s", code, out)
	}
}

func TestRulesRunLocal(t *testing.T) {
	dir := t.TempDir()
	rules := writeFile(t, filepath.Join(dir, "ssh.yml"), sshRules)
	cfg := writeFile(t, filepath.Join(dir, "mamori.yaml"), "rules:\n  builtin: false\n  sigma: ["+rules+"]\n")
	data := filepath.Join(dir, "data")
	logs := writeFile(t, filepath.Join(dir, "auth.log"), sshLog("192.0.2.3"))
	if code, out, errOut := mamori("import", "--quiet", "--config", cfg, "--data", data, "--dataset", "syslog", logs); code != 0 {
		t.Fatalf("import: %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut := mamori("rules", "run", "--config", cfg, "--data", data, "--from", "2026-03-01", "--to", "2026-03-02")
	if code != 0 || !strings.Contains(out, "6 events evaluated") || !strings.Contains(out, "1 new alerts") ||
		!strings.Contains(out, "Guessing then login: 192.0.2.3") {
		t.Fatalf("first run: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = mamori("rules", "run", "--config", cfg, "--data", data, "--from", "2026-03-01")
	if code != 0 || !strings.Contains(out, "0 new alerts") || !strings.Contains(out, "1 matches already in alerts") {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}
	if code, _, errOut = mamori("rules", "run", "--config", cfg, "--data", data); code != 2 || !strings.Contains(errOut, "--from") {
		t.Fatalf("without --from: exit %d %s", code, errOut)
	}
}

func TestAlertsListExitsOneWhenEmpty(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("status") == "bogus" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error": "status: bad"}`)
			return
		}
		fmt.Fprint(w, `{"alerts": []}`)
	}))
	defer srv.Close()
	if code, _, _ := mamori("alerts", "list", "--server", srv.URL); code != 1 {
		t.Errorf("no alerts: exit %d, want 1", code)
	}
	if code, _, errOut := mamori("alerts", "list", "--server", srv.URL, "--status", "bogus"); code != 2 || !strings.Contains(errOut, "status: bad") {
		t.Errorf("server error: exit %d %q", code, errOut)
	}
	if code, _, _ := mamori("alerts", "frobnicate"); code != 2 {
		t.Errorf("unknown subcommand: exit %d", code)
	}
}
