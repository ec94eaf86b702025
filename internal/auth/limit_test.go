package auth

import (
	"testing"
	"time"
)

func TestLimiterLocksAndDoubles(t *testing.T) {
	c := newClock()
	l := NewLimiter(30*time.Second, 2*time.Minute, c.Now)
	for i := 0; i < 4; i++ {
		l.Fail("user:alice", 5)
		if d := l.Locked("user:alice"); d != 0 {
			t.Fatalf("locked after %d failures", i+1)
		}
	}
	l.Fail("user:alice", 5)
	if d := l.Locked("user:alice"); d != 30*time.Second {
		t.Fatalf("after 5 failures locked %v, want 30s", d)
	}
	if d := l.Locked("user:bob"); d != 0 {
		t.Error("another key is locked")
	}
	c.Add(31 * time.Second)
	l.Fail("user:alice", 5)
	if d := l.Locked("user:alice"); d != time.Minute {
		t.Errorf("6th failure locks %v, want 1m", d)
	}
	c.Add(61 * time.Second)
	l.Fail("user:alice", 5)
	c.Add(121 * time.Second)
	l.Fail("user:alice", 5)
	if d := l.Locked("user:alice"); d != 2*time.Minute {
		t.Errorf("lock %v, want the 2m cap", d)
	}
	l.Reset("user:alice")
	if d := l.Locked("user:alice"); d != 0 {
		t.Error("reset keeps the lock")
	}
}

func TestLimiterForgets(t *testing.T) {
	c := newClock()
	l := NewLimiter(30*time.Second, time.Minute, c.Now)
	for i := 0; i < 4; i++ {
		l.Fail("ip:192.0.2.1", 5)
	}
	c.Add(16 * time.Minute) // past max(2 × max lock-out, 15m)
	l.Fail("ip:192.0.2.1", 5)
	if d := l.Locked("ip:192.0.2.1"); d != 0 {
		t.Error("old failures still count")
	}
}
