package alert_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/alert"
	"github.com/mamori-sec/mamori/internal/store"
)

// benchBatch is how many matches one Handle call gets, about what a
// processor batch of a noisy rule brings.
const benchBatch = 100

func benchManager(b *testing.B, c *clock) *alert.Manager {
	b.Helper()
	st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "mamori.duckdb"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	// As mamori serve wires it: the sender tells the manager what it sent
	// (here nothing: notifications stay pending).
	m, err := alert.NewManager(st, alert.Config{Notifiers: notifiers()}, alert.Options{Now: c.Now, Sender: idleSender(b, st)})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkHandleJoin measures matches that all join one open alert, the
// common case of a noisy group: batches of 100, the clock moving 100 ms
// per batch.
func BenchmarkHandleJoin(b *testing.B) {
	c := &clock{t: t0}
	m := benchManager(b, c)
	ctx := context.Background()
	batch := make([]alert.Match, benchBatch)
	b.ResetTimer()
	for i := range b.N {
		c.Advance(100 * time.Millisecond)
		for j := range batch {
			batch[j] = match("ssh", fmt.Sprintf("e-%d-%d", i, j), c.Now(), "203.0.113.7")
		}
		if _, err := m.Handle(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch)/1e3, "µs/match")
}

// BenchmarkHandleDistinctGroups measures a rule whose every match has a
// new group key (a firewall rule grouped by source address under a scan):
// batches of 100, the clock moving 100 ms per batch. With the storm guard's
// defaults, all but the first 20 fold into the rule's storm alert.
func BenchmarkHandleDistinctGroups(b *testing.B) {
	c := &clock{t: t0}
	m := benchManager(b, c)
	ctx := context.Background()
	batch := make([]alert.Match, benchBatch)
	b.ResetTimer()
	for i := range b.N {
		c.Advance(100 * time.Millisecond)
		for j := range batch {
			n := i*benchBatch + j
			batch[j] = match("fw", fmt.Sprintf("e-%d", n), c.Now(), fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255))
		}
		if _, err := m.Handle(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch)/1e3, "µs/match")
}
