package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// mamoriEnv runs a mamori command with extra environment variables.
func mamoriEnv(t *testing.T, env []string, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &errOut, stdin
	cmd.Env = append(os.Environ(), env...)
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run mamori %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return code, out.String(), errOut.String()
}

// hashForTest is what `mamori passwd` prints for pw given on stdin.
func hashForTest(t *testing.T, pw string) string {
	t.Helper()
	code, out, errOut := runMamori(t, strings.NewReader(pw+"\n"), "passwd")
	if code != 0 || !strings.HasPrefix(out, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("mamori passwd: %d %q %s", code, out, errOut)
	}
	return strings.TrimSpace(out)
}

// searchWith runs `mamori search --json` with a token, and returns the
// exit code, the events and stderr.
func searchWith(t *testing.T, s *server, token string, args ...string) (int, []*event.Event, string) {
	t.Helper()
	var env []string
	if token != "" {
		env = []string{"MAMORI_TOKEN=" + token}
	}
	code, out, errOut := mamoriEnv(t, env, nil, append([]string{"search", "--server", "http://" + s.http, "--json", "--limit", "1000"}, args...)...)
	var evs []*event.Event
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		e := &event.Event{}
		if err := json.Unmarshal([]byte(line), e); err != nil {
			t.Fatalf("search output %q: %v", line, err)
		}
		evs = append(evs, e)
	}
	return code, evs, errOut
}

// TestAccessControl runs the real binary with users: passwords hashed by
// `mamori passwd`, tokens made and revoked by `mamori token` while the
// server runs, the CLI sending them, grants hiding a dataset, the audit
// log recording it all once, and console sessions surviving a restart.
func TestAccessControl(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cfgPath := filepath.Join(dir, "mamori.yaml")
	cfg := fmt.Sprintf(`rules: {builtin: false}
auth:
  groups:
    staff: {deny: [linux.*]}
  users:
    - {name: alice, role: admin, password_hash: %q}
    - {name: bob, groups: [staff], password_hash: %q}
`, hashForTest(t, "alice-pw"), hashForTest(t, "bob-pw"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runMamori(t, nil, "serve", "--check", "--config", cfgPath); code != 0 || !strings.Contains(out, "2 users") {
		t.Fatalf("serve --check: %d %s %s", code, out, errOut)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("auth:\n  users:\n    - {name: carol, password_hash: hunter2, groups: [nope]}\n"), 0o600)
	code, _, errOut := runMamori(t, nil, "serve", "--check", "--config", bad)
	if code != 2 || !strings.Contains(errOut, "auth.users[0] (carol).password_hash") || !strings.Contains(errOut, `no group "nope"`) ||
		strings.Contains(errOut, "hunter2") {
		t.Errorf("serve --check of a bad auth section: %d %s", code, errOut)
	}

	s := startServer(t, dataDir, "--config", cfgPath)
	token := func(args ...string) string {
		t.Helper()
		code, out, errOut := runMamori(t, nil, append([]string{"token", "create", "--config", cfgPath, "--data", dataDir}, args...)...)
		if code != 0 || !strings.HasPrefix(out, "mamori_") {
			t.Fatalf("token create %v: %d %q %s", args, code, out, errOut)
		}
		return strings.TrimSpace(out)
	}
	ingest := token("--user", "fluentbit", "--role", "ingest", "--name", "e2e sender")
	aliceTok := token("--user", "alice")
	bobTok := token("--user", "bob", "--expires", "1h")
	if code, _, errOut := runMamori(t, nil, "token", "create", "--config", cfgPath, "--data", dataDir, "--user", "mallory"); code != 2 ||
		!strings.Contains(errOut, `no user "mallory"`) {
		t.Errorf("a token for an unknown user: %d %s", code, errOut)
	}

	// Without a token the API refuses, and says how to give one.
	code, _, errOut = searchWith(t, s, "", "*")
	if code != 2 || !strings.Contains(errOut, "authentication required") || !strings.Contains(errOut, "MAMORI_TOKEN") {
		t.Errorf("search without a token: %d %s", code, errOut)
	}

	// The ingest token sends logs (and can do nothing else).
	now := time.Now().UTC().Add(-5 * time.Minute)
	var sshd, nginx []string
	for i := 0; i < 3; i++ {
		sshd = append(sshd, fmt.Sprintf("<38>1 %s hr-db sshd 77 - - Failed password for zebracorn from 198.51.100.77 port %d ssh2",
			now.Add(time.Duration(i)*time.Second).Format(time.RFC3339), 50000+i))
	}
	nginx = append(nginx, fmt.Sprintf(`198.51.100.77 - - [%s] "GET /admin-probe HTTP/1.1" 404 153 "-" "curl/8.5.0"`,
		now.Add(5*time.Second).Format("02/Jan/2006:15:04:05 -0700")))
	for ds, lines := range map[string][]string{"syslog": sshd, "nginx.access": nginx} {
		f := filepath.Join(dir, ds+".log")
		os.WriteFile(f, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
		tokFile := filepath.Join(dir, "ingest.token")
		os.WriteFile(tokFile, []byte(ingest+"\n"), 0o600)
		if code, out, errOut := runMamori(t, nil, "import", "--server", "http://"+s.http, "--token-file", tokFile, "--dataset", ds, "--quiet", f); code != 0 {
			t.Fatalf("import %s with the ingest token: %d %s %s", ds, code, out, errOut)
		}
	}
	if code, _, errOut := searchWith(t, s, ingest, "*"); code != 2 || !strings.Contains(errOut, "may not") {
		t.Errorf("search with the ingest token: %d %s", code, errOut)
	}

	// alice sees all four events; bob only the nginx one, however he asks.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, evs, _ := searchWith(t, s, aliceTok, "198.51.100.77")
		if len(evs) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alice finds %d events of 198.51.100.77, want 4", len(evs))
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, q := range []string{"198.51.100.77", "zebracorn", "*", "hr-db", "event.dataset:linux.syslog"} {
		_, evs, _ := searchWith(t, s, bobTok, q)
		for _, e := range evs {
			if e.String(event.FieldDataset) != "nginx.access" {
				t.Errorf("bob's search %q shows a %s event", q, e.String(event.FieldDataset))
			}
		}
	}

	// A token revoked while the server runs stops at once.
	code, out, errOut := runMamori(t, nil, "token", "list", "--config", cfgPath, "--data", dataDir)
	if code != 0 || strings.Count(out, "active") != 3 || strings.Contains(out, bobTok) {
		t.Fatalf("token list: %d %s %s", code, out, errOut)
	}
	bobID := strings.SplitN(strings.TrimPrefix(bobTok, "mamori_"), "_", 2)[0]
	if code, out, errOut := runMamori(t, nil, "token", "revoke", "--config", cfgPath, "--data", dataDir, bobID); code != 0 {
		t.Fatalf("token revoke: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := searchWith(t, s, bobTok, "*"); code != 2 || !strings.Contains(errOut, "authentication required") {
		t.Errorf("search with a revoked token: %d %s", code, errOut)
	}

	// Console login: a session cookie with its flags.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Post("http://"+s.http+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"username":"bob","password":"bob-pw"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	setCookie := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != 200 || !strings.Contains(setCookie, "mamori_session=") || !strings.Contains(setCookie, "HttpOnly") ||
		!strings.Contains(setCookie, "SameSite=Strict") {
		t.Fatalf("login: %d %q", resp.StatusCode, setCookie)
	}

	// The audit log holds each token change once, bob's searches, and the
	// login; bob cannot read it.
	auditCount := func(q string) int {
		_, evs, _ := searchWith(t, s, aliceTok, "event.dataset:mamori.audit AND "+q)
		return len(evs)
	}
	waitAudit := func(q string, want int) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			n := auditCount(q)
			if n == want {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("audit %q: %d events, want %d", q, n, want)
				return
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	waitAudit(`event.action:"token.create"`, 3)
	waitAudit(`event.action:"token.revoke" AND mamori.audit.token.id:`+bobID, 1)
	waitAudit(`event.action:login AND user.name:bob AND event.outcome:success`, 1)
	if n := auditCount(`event.action:search AND user.name:bob AND mamori.audit.query:zebracorn`); n != 1 {
		t.Errorf("bob's search for zebracorn audited %d times, want 1", n)
	}
	if _, evs, _ := searchWith(t, s, aliceTok, `"alice-pw" OR "bob-pw" OR "`+aliceTok+`"`); len(evs) != 0 {
		t.Errorf("a password or a token is searchable: %d events", len(evs))
	}

	// A restart keeps the console session and indexes nothing twice.
	s.stop()
	s = startServer(t, dataDir, "--config", cfgPath)
	// Cookies are per host, not port: the jar sends the session to the
	// restarted server's new port.
	me, err := browser.Get("http://" + s.http + "/api/v1/auth/me")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(me.Body)
	me.Body.Close()
	if me.StatusCode != 200 || !strings.Contains(string(body), `"username":"bob"`) {
		t.Errorf("session after a restart: %d %s", me.StatusCode, body)
	}
	time.Sleep(2 * time.Second)
	if n := auditCount(`event.action:"token.create"`); n != 3 {
		t.Errorf("after a restart, %d token.create records, want 3", n)
	}
}
