package auth

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestSessionExpiry(t *testing.T) {
	c := newClock()
	s, err := NewSessions("", time.Hour, 3*time.Hour, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.Create("alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(id) < 43 {
		t.Errorf("session id %q: shorter than 256 bits", id)
	}
	if u, ok := s.Lookup(id); !ok || u != "alice" {
		t.Fatalf("lookup: %q %v", u, ok)
	}
	// Used every 50 minutes, it lives until the absolute limit.
	for i := 0; i < 3; i++ {
		c.Add(50 * time.Minute)
		if _, ok := s.Lookup(id); !ok {
			t.Fatalf("session ended after %d uses 50 minutes apart", i+1)
		}
	}
	c.Add(31 * time.Minute) // 3h01m after login
	if _, ok := s.Lookup(id); ok {
		t.Error("session outlived max_age")
	}
	id2, _ := s.Create("alice")
	c.Add(time.Hour)
	if _, ok := s.Lookup(id2); ok {
		t.Error("session outlived the idle timeout")
	}
	if _, ok := s.Lookup("not-a-session"); ok {
		t.Error("an unknown id is a session")
	}
}

func TestSessionLogout(t *testing.T) {
	s, _ := NewSessions("", time.Hour, time.Hour, nil)
	a, _ := s.Create("alice")
	b, _ := s.Create("alice")
	if err := s.Delete(a); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Lookup(a); ok {
		t.Error("logged-out session still works")
	}
	if _, ok := s.Lookup(b); !ok {
		t.Error("logging out one session ended another")
	}
	if ca, cb := CSRFToken(a), CSRFToken(b); ca == cb || ca == "" || strings.Contains(ca, a) {
		t.Errorf("CSRF tokens %q, %q: not per session, or telling the id", ca, cb)
	}
}

// TestSessionsSurviveRestart checks that the file brings sessions back,
// with their idle time, and holds no session id.
func TestSessionsSurviveRestart(t *testing.T) {
	c := newClock()
	path := filepath.Join(t.TempDir(), "auth", "sessions.json")
	s, err := NewSessions(path, time.Hour, 12*time.Hour, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	keep, _ := s.Create("alice")
	idle, _ := s.Create("bob")
	c.Add(40 * time.Minute)
	s.Lookup(keep)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), keep) || strings.Contains(string(data), idle) {
		t.Fatal("the session file holds a session id")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("session file mode %v", fi.Mode().Perm())
	}
	c.Add(30 * time.Minute) // bob idle 70 minutes, alice 30
	s2, err := NewSessions(path, time.Hour, 12*time.Hour, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := s2.Lookup(keep); !ok || u != "alice" {
		t.Errorf("alice's session not restored: %q %v", u, ok)
	}
	if _, ok := s2.Lookup(idle); ok {
		t.Error("bob's idle session came back")
	}
}

func TestSessionsPerUserBound(t *testing.T) {
	c := newClock()
	s, _ := NewSessions("", time.Hour, time.Hour, c.Now)
	first, _ := s.Create("alice")
	for i := 0; i < maxSessionsPerUser; i++ {
		c.Add(time.Millisecond)
		if _, err := s.Create("alice"); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := s.Lookup(first); ok {
		t.Error("the oldest session survived past the per-user bound")
	}
	if n := s.Len(); n != maxSessionsPerUser {
		t.Errorf("%d sessions, want %d", n, maxSessionsPerUser)
	}
}
