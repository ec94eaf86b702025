package store

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// benchStore fills an in-memory store with synthetic events spread evenly
// over 30 days from the returned time, in time order as the store keeps
// them: 10 million by default (MAMORI_BENCH_ROWS sets another number).
// Columns have the cardinalities of a security log: 3 datasets, 50 hosts,
// 65,536 source addresses, 1,000 users, 20 actions, 2 outcomes.
func benchStore(b *testing.B) (*Store, time.Time) {
	b.Helper()
	rows := 10_000_000
	if v, err := strconv.Atoi(os.Getenv("MAMORI_BENCH_ROWS")); err == nil && v > 0 {
		rows = v
	}
	ctx := context.Background()
	s, err := Open(ctx, "", Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	from := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	step := (30 * 24 * time.Hour).Microseconds() / int64(rows)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO events (ts, dataset, event_action, event_outcome, host_name, source_ip, user_name, blk, off, sub)
		SELECT make_timestamp(? + i * ?), ['linux.syslog', 'trendmicro.deepsecurity', 'aws.cloudtrail'][i % 3 + 1],
			'action-' || (i % 20), CASE WHEN i % 7 = 0 THEN 'failure' ELSE 'success' END, 'host-' || (i % 50),
			'10.' || ((hash(i) % 65536) // 256) || '.' || (hash(i) % 256) || '.1', 'user' || (hash(i + 1) % 1000),
			i // 4096, (i % 4096)::INTEGER, 0
		FROM range(?) t(i)`, from.UnixMicro(), step, rows); err != nil {
		b.Fatal(err)
	}
	return s, from
}

// BenchmarkBuckets measures the histogram's SQL. The console asks for
// about 150 bars over 30 days: 6-hour buckets.
func BenchmarkBuckets(b *testing.B) {
	s, from := benchStore(b)
	to := from.Add(30 * 24 * time.Hour)
	width := 6 * time.Hour
	for _, c := range []struct {
		name string
		q    RowQuery
	}{
		{"everything", RowQuery{From: from, To: to}},
		{"promoted field", RowQuery{From: from, To: to, Where: "event_outcome = ?", Args: []any{"failure"}}},
		{"last day", RowQuery{From: to.Add(-24 * time.Hour), To: to}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				got, err := s.Buckets(context.Background(), c.q, from, width)
				if err != nil || len(got) == 0 {
					b.Fatal(len(got), err)
				}
			}
		})
	}
}

// BenchmarkTopValues measures one facet over 30 days, over every row and
// over the sample the searcher takes past 250,000 matches (2.5 % of 10 M).
func BenchmarkTopValues(b *testing.B) {
	s, from := benchStore(b)
	q := RowQuery{From: from, To: from.Add(30 * 24 * time.Hour)}
	for _, percent := range []float64{0, 2.5} {
		for _, field := range []string{"event.dataset", "host.name", "source.ip", "user.name", "event.outcome"} {
			b.Run(fmt.Sprintf("%s/sample=%g%%", field, percent), func(b *testing.B) {
				for b.Loop() {
					top, _, _, err := s.TopValues(context.Background(), q, field, 10, percent)
					if err != nil || len(top) == 0 {
						b.Fatal(len(top), err)
					}
				}
			})
		}
	}
}
