package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/config"
)

func testService(t *testing.T, c *clock, cfg config.Auth) *Service {
	t.Helper()
	full := config.Default()
	full.Auth = cfg
	if err := full.Finish(); err != nil {
		t.Fatal(err)
	}
	s, err := NewService(full.Auth, Options{DataDir: t.TempDir(), Now: c.Now, MemorySessions: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoginLockout(t *testing.T) {
	c := newClock()
	s := testService(t, c, config.Auth{Users: []config.User{{Name: "alice", PasswordHash: mustHash(t, "pw")}}})
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if _, err := s.Login(ctx, "alice", "guess", "203.0.113.9"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	// Locked: even the right password is refused, from any address,
	// without checking it.
	_, err := s.Login(ctx, "alice", "pw", "192.0.2.10")
	var locked *LockedError
	if !errors.As(err, &locked) || locked.RetryAfter != 30*time.Second {
		t.Fatalf("6th attempt: %v, want locked for 30s", err)
	}
	c.Add(30 * time.Second)
	p, err := s.Login(ctx, "alice", "pw", "192.0.2.10")
	if err != nil || p.User != "alice" || p.SessionID == "" || p.CSRF != CSRFToken(p.SessionID) {
		t.Fatalf("login after the lock: %+v %v", p, err)
	}
	if got, ok := s.Session(p.SessionID); !ok || got.User != "alice" || got.Access.Sees("mamori.audit") {
		t.Errorf("session: %+v %v", got, ok)
	}
}

func TestLoginLockoutPerAddress(t *testing.T) {
	c := newClock()
	s := testService(t, c, config.Auth{Users: []config.User{{Name: "alice", PasswordHash: mustHash(t, "pw")}},
		Login: config.LoginLimits{MaxFailures: 100, MaxFailuresPerAddress: 3}})
	ctx := context.Background()
	for _, name := range []string{"a", "b", "c"} { // spraying names
		if _, err := s.Login(ctx, name, "x", "203.0.113.9"); !errors.Is(err, ErrBadCredentials) {
			t.Fatal(err)
		}
	}
	var locked *LockedError
	if _, err := s.Login(ctx, "alice", "pw", "203.0.113.9"); !errors.As(err, &locked) {
		t.Errorf("the address is not locked: %v", err)
	}
	if _, err := s.Login(ctx, "alice", "pw", "192.0.2.10"); err != nil {
		t.Errorf("another address is locked out too: %v", err)
	}
}

func TestClientIP(t *testing.T) {
	s := testService(t, newClock(), config.Auth{TrustedProxies: []string{"10.0.0.0/8", "192.0.2.1"}})
	for _, tc := range []struct{ remote, xff, want string }{
		{"198.51.100.7:5000", "", "198.51.100.7"},
		{"198.51.100.7:5000", "1.2.3.4", "198.51.100.7"}, // untrusted peer: its header is ignored
		{"10.1.2.3:5000", "203.0.113.9", "203.0.113.9"},
		{"10.1.2.3:5000", "1.1.1.1, 203.0.113.9, 192.0.2.1", "203.0.113.9"}, // spoofed left part is skipped
		{"10.1.2.3:5000", "10.9.9.9", "10.9.9.9"},
		{"10.1.2.3:5000", "garbage, 10.9.9.9", "10.9.9.9"},
		{"[::ffff:10.1.2.3]:5000", "203.0.113.9", "203.0.113.9"},
	} {
		if got := s.ClientIP(tc.remote, tc.xff); got != tc.want {
			t.Errorf("ClientIP(%s, %q) = %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

func TestTokenOfRemovedUser(t *testing.T) {
	c := newClock()
	dir := t.TempDir()
	withBob := config.Auth{Users: []config.User{{Name: "alice"}, {Name: "bob"}}}
	s := testService(t, c, withBob)
	s.Tokens = NewTokens(TokenFile(dir), c.Now)
	_, secret, err := s.Tokens.Create(TokenSpec{User: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := s.Token(secret); !ok || p.User != "bob" || p.Via != ViaToken || p.TokenID == "" {
		t.Fatalf("bob's token: %+v %v", p, ok)
	}
	s2 := testService(t, c, config.Auth{Users: []config.User{{Name: "alice"}}})
	s2.Tokens = NewTokens(TokenFile(dir), c.Now)
	if _, ok := s2.Token(secret); ok {
		t.Error("the token of a user removed from the configuration still works")
	}
}
