package tail

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/collect"
	"github.com/mamori-sec/mamori/internal/intake"
)

type countSink struct{ records int }

func (s *countSink) Write(_ context.Context, b intake.Batch) error {
	s.records += len(b.Records)
	return nil
}

// BenchmarkTailLines reads a 100,000-line Kea log from the beginning and
// archives it (to a sink that only counts), state saves included.
func BenchmarkTailLines(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "kea-dhcp4.log")
	var sb strings.Builder
	const lines = 100000
	for i := range lines {
		fmt.Fprintf(&sb, "2024-05-01 12:00:%02d.123 INFO  [kea-dhcp4.leases/1234.140] DHCP4_LEASE_ALLOC [hwtype=1 00:0c:29:aa:bb:%02x], cid=[no info], tid=0x%x: lease 10.0.%d.%d has been allocated for 4000 seconds\n",
			i%60, i%256, i, i/256%256, i%256)
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(sb.Len()))
	b.ResetTimer()
	for i := range b.N {
		sink := &countSink{}
		now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
		tl, err := New(Config{Path: path, Dataset: "dhcp.lease"}, collect.Env{
			Sink:     sink,
			StateDir: filepath.Join(dir, fmt.Sprint("state", i)),
			Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
			Now:      func() time.Time { return now },
		})
		if err != nil {
			b.Fatal(err)
		}
		if err := tl.step(context.Background()); err != nil {
			b.Fatal(err)
		}
		now = now.Add(time.Second)
		if err := tl.step(context.Background()); err != nil {
			b.Fatal(err)
		}
		tl.close()
		if sink.records != lines {
			b.Fatalf("%d records, want %d", sink.records, lines)
		}
	}
	b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "lines/s")
}
