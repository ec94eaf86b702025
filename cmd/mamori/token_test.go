package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mamori-sec/mamori/internal/auth"
)

// TestTokenCommands creates, lists and revokes tokens on a data directory,
// and checks each change is archived for the audit log.
func TestTokenCommands(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "mamori.yaml")
	os.WriteFile(cfg, []byte("auth:\n  users:\n    - {name: bob}\n    - {name: root, role: admin}\n"), 0o600)
	data := filepath.Join(dir, "data")
	runCmd := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	code, secret, errOut := runCmd("token", "create", "--config", cfg, "--data", data, "--user", "bob", "--name", "laptop")
	if code != 0 || !strings.HasPrefix(secret, auth.TokenPrefix) || strings.Count(secret, "\n") != 1 {
		t.Fatalf("create: %d %q %s", code, secret, errOut)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--user", "nobody"}, `no user "nobody"`},
		{[]string{"--user", "bob", "--role", "admin"}, "cannot carry more than its user's role"},
		{[]string{"--user", "bob", "--role", "root"}, `role "root"`},
		{[]string{"--user", "bob", "--expires", "soon"}, "--expires"},
		{nil, "give --user"},
	} {
		code, out, errOut := runCmd(append([]string{"token", "create", "--config", cfg, "--data", data}, tc.args...)...)
		if code != exitError || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("create %v: %d %q %q, want an error about %q", tc.args, code, out, errOut, tc.want)
		}
	}
	if code, _, errOut := runCmd("token", "create", "--config", cfg, "--data", data, "--user", "fluentbit", "--role", "ingest", "--expires", "0"); code != 0 {
		t.Fatalf("ingest token: %s", errOut)
	}
	code, out, _ := runCmd("token", "list", "--config", cfg, "--data", data)
	id := strings.SplitN(strings.TrimPrefix(strings.TrimSpace(secret), auth.TokenPrefix), "_", 2)[0]
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "laptop") || strings.Contains(out, strings.TrimSpace(secret)) ||
		!strings.Contains(out, "never") {
		t.Fatalf("list: %d\n%s", code, out)
	}
	// Revoking by the whole token works too, without echoing it.
	code, out, errOut = runCmd("token", "revoke", "--config", cfg, "--data", data, strings.TrimSpace(secret))
	if code != 0 || !strings.Contains(out, id+" (bob) revoked") || strings.Contains(out+errOut, strings.TrimSpace(secret)) {
		t.Fatalf("revoke: %d %q %q", code, out, errOut)
	}
	if _, ok := auth.NewTokens(auth.TokenFile(data), nil).Verify(strings.TrimSpace(secret)); ok {
		t.Error("the revoked token verifies")
	}
	var objs []string
	filepath.Walk(filepath.Join(data, "archive", "raw", "mamori.audit"), func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			objs = append(objs, p)
		}
		return nil
	})
	if len(objs) != 3 {
		t.Errorf("audit objects %v, want 3 (two creations, one revocation)", objs)
	}
}
