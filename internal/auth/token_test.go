package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/datasets/mamoriaudit"
)

func TestTokenLifecycle(t *testing.T) {
	c := newClock()
	path := filepath.Join(t.TempDir(), "auth", "tokens.json")
	s := NewTokens(path, c.Now)
	tok, secret, err := s.Create(TokenSpec{User: "alice", Name: "laptop", TTL: 24 * time.Hour, By: "cli:root"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, TokenPrefix+tok.ID+"_") {
		t.Errorf("token %q does not begin with mamori_<id>_", secret)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), strings.TrimPrefix(secret, TokenPrefix+tok.ID+"_")) {
		t.Fatal("the token file holds the secret")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v", fi.Mode().Perm())
	}
	if got, ok := s.Verify(secret); !ok || got.User != "alice" {
		t.Fatalf("verify: %+v %v", got, ok)
	}
	flipped := secret[:len(secret)-1] + "A"
	if flipped == secret {
		flipped = secret[:len(secret)-1] + "B"
	}
	for _, bad := range []string{"", secret + "x", flipped, strings.Replace(secret, tok.ID, "aaaaaaaaaaaaaaaa", 1), "Bearer " + secret} {
		if _, ok := s.Verify(bad); ok {
			t.Errorf("%q verifies", bad)
		}
	}
	c.Add(24 * time.Hour)
	if _, ok := s.Verify(secret); ok {
		t.Error("an expired token verifies")
	}
	if st := tok.State(c.Now()); st != "expired" {
		t.Errorf("state %q", st)
	}
}

// TestTokenChangesSeenAtOnce: a token created or revoked by another store
// on the same file (mamori token, while the server runs) works or stops at
// once, and the server's store reports the change for the audit log.
func TestTokenChangesSeenAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.json")
	server := NewTokens(path, nil)
	var changes []string
	server.OnChange = func(tk Token, action string) { changes = append(changes, action+" "+tk.User) }
	if err := server.Refresh(); err != nil {
		t.Fatal(err)
	}
	cli := NewTokens(path, nil)
	tok, secret, err := cli.Create(TokenSpec{User: "fluentbit", Role: Ingest})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := server.Verify(secret); !ok || got.Role != Ingest {
		t.Fatalf("the server does not see the new token: %+v %v", got, ok)
	}
	if _, err := cli.Revoke(tok.ID, "cli:root"); err != nil {
		t.Fatal(err)
	}
	if _, ok := server.Verify(secret); ok {
		t.Error("a revoked token still works")
	}
	if err := server.Refresh(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(changes, ",") != "token.create fluentbit,token.revoke fluentbit" {
		t.Errorf("changes %q", changes)
	}
	list, _ := cli.List()
	if len(list) != 1 || list[0].State(time.Now()) != "revoked" || list[0].RevokedBy != "cli:root" {
		t.Errorf("list %+v", list)
	}
	if _, err := cli.Revoke("nope", "x"); err == nil {
		t.Error("revoking an unknown id succeeds")
	}
}

// TestTokenAuditIsDeterministic: the command and the server write the same
// named batch for one change, so the record is indexed once.
func TestTokenAuditIsDeterministic(t *testing.T) {
	tok := Token{ID: "abcdefghijklmnop", Name: "ci", User: "alice", Hash: "ff", Created: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC),
		CreatedBy: "cli:root"}
	r1, b1 := TokenAudit(tok, mamoriaudit.ActionTokenCreate)
	_, b2 := TokenAudit(tok, mamoriaudit.ActionTokenCreate)
	if b1.ID != b2.ID || string(b1.Records[0].Data) != string(b2.Records[0].Data) || b1.Dataset != mamoriaudit.Name {
		t.Errorf("batches differ: %+v %+v", b1, b2)
	}
	if r1.User != "cli:root" || r1.Token.ID != tok.ID || strings.Contains(string(b1.Records[0].Data), `"ff"`) {
		t.Errorf("record %s", b1.Records[0].Data)
	}
	tok.Revoked, tok.RevokedBy = tok.Created.Add(time.Hour), "cli:admin"
	r3, b3 := TokenAudit(tok, mamoriaudit.ActionTokenRevoke)
	if b3.ID == b1.ID || r3.User != "cli:admin" || !r3.Time.Equal(tok.Revoked) {
		t.Errorf("revoke record %+v batch %q", r3, b3.ID)
	}
}

func TestTokenCreateChecks(t *testing.T) {
	s := NewTokens(filepath.Join(t.TempDir(), "t.json"), nil)
	for _, spec := range []TokenSpec{{User: ""}, {User: "a b"}, {User: "a", Role: "root"}, {User: "a", Name: "x\ny"}} {
		if _, _, err := s.Create(spec); err == nil {
			t.Errorf("Create(%+v) succeeded", spec)
		}
	}
}
