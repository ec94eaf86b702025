// Package collecttest has the fakes the collector tests share: a sink that
// records batches the way the archive names them, and a clock whose sleeps
// return at once.
package collecttest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/collect"
	"github.com/mamori-sec/mamori/internal/intake"
)

// Sink records every batch written to it. Hook, when set, is called after a
// batch is recorded (so the batch counts as durable) with the number of
// batches so far; its error is returned by Write, which lets a test stage a
// crash between archiving and saving the cursor.
type Sink struct {
	mu      sync.Mutex
	batches []intake.Batch
	Hook    func(n int, b intake.Batch) error
}

// Write copies and records b.
func (s *Sink) Write(ctx context.Context, b intake.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := b
	c.Records = make([]intake.Record, len(b.Records))
	for i, r := range b.Records {
		c.Records[i] = intake.Record{Data: bytes.Clone(r.Data), Received: r.Received, Peer: r.Peer}
	}
	s.mu.Lock()
	s.batches = append(s.batches, c)
	n := len(s.batches)
	hook := s.Hook
	s.mu.Unlock()
	if hook != nil {
		return hook(n, c)
	}
	return nil
}

// Batches returns the batches written so far, in order.
func (s *Sink) Batches() []intake.Batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.batches)
}

// Key is what the archive derives a named batch's object key from: its
// dataset, ID and earliest receive time. Unnamed batches get a key of their
// own each.
func Key(b intake.Batch, index int) string {
	if b.ID == "" {
		return fmt.Sprintf("unnamed#%d", index)
	}
	var t time.Time
	for _, r := range b.Records {
		if t.IsZero() || (!r.Received.IsZero() && r.Received.Before(t)) {
			t = r.Received
		}
	}
	return b.Dataset + "|" + b.ID + "|" + t.UTC().Format(time.RFC3339Nano)
}

// Objects returns the archive's view of what was written: one batch per
// key. It fails t when a key was written twice with different records,
// since the archive would then keep only one of the two.
func (s *Sink) Objects(t testing.TB) map[string]intake.Batch {
	t.Helper()
	out := map[string]intake.Batch{}
	for i, b := range s.Batches() {
		k := Key(b, i)
		if old, ok := out[k]; ok && !sameRecords(old.Records, b.Records) {
			t.Errorf("object %s written twice with different records", k)
		}
		out[k] = b
	}
	return out
}

func sameRecords(a, b []intake.Record) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Data, b[i].Data) || !a[i].Received.Equal(b[i].Received) || a[i].Peer != b[i].Peer {
			return false
		}
	}
	return true
}

// Clock is a fake clock. Sleep records the wait, moves the clock on by it
// and returns at once.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	// OnSleep, when set, is called after each sleep (outside the lock).
	OnSleep func(d time.Duration)
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Sleep records d, advances the clock by it and returns ctx.Err().
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	hook := c.OnSleep
	c.mu.Unlock()
	if hook != nil {
		hook(d)
	}
	return ctx.Err()
}

// Sleeps returns the waits asked for so far.
func (c *Clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sleeps)
}

// Env returns an environment with sink, clock, a fixed jitter of 0.5 and
// a state directory of its own, logging to t.
func Env(t testing.TB, sink intake.Sink, clock *Clock) collect.Env {
	return collect.Env{
		Sink:     sink,
		StateDir: t.TempDir(),
		Logger:   slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:      clock.Now,
		Sleep:    clock.Sleep,
		Jitter:   func() float64 { return 0.5 },
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

var _ io.Writer = testWriter{}
