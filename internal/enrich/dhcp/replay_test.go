package dhcp_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	dhcpds "github.com/mamori-sec/mamori/internal/datasets/dhcp"
	"github.com/mamori-sec/mamori/internal/enrich/dhcp"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/pipeline"
)

// store is a Source over a fixed list of events, answering newest first as
// a search does, and keeping the window it was asked for.
type store struct {
	evs   []*event.Event
	since time.Time
	err   error
}

func (s *store) source(ctx context.Context, since time.Time, yield func(*event.Event) bool) error {
	s.since = since
	sorted := slices.Clone(s.evs)
	slices.SortStableFunc(sorted, func(a, b *event.Event) int { return b.Time().Compare(a.Time()) })
	for i, e := range sorted {
		if s.err != nil && i == len(sorted)/2 {
			return s.err
		}
		if e.Time().Before(since) {
			continue
		}
		if !yield(e) {
			return ctx.Err()
		}
	}
	return nil
}

func TestReplayRebuildsTheTable(t *testing.T) {
	evs := scenario()
	want := leasesOf(table(evs...))
	c := &clock{day0.Add(24 * time.Hour)}
	tb := newTable(c)
	st := &store{evs: evs}
	if err := tb.Replay(context.Background(), st.source); err != nil {
		t.Fatal(err)
	}
	if !st.since.Equal(c.t.Add(-dhcp.DefaultRetention)) {
		t.Errorf("Replay asked for events since %v, want now - retention = %v", st.since, c.t.Add(-dhcp.DefaultRetention))
	}
	if got := leasesOf(tb); !reflect.DeepEqual(got, want) {
		t.Errorf("replayed table differs:\n got %v\nwant %v", got, want)
	}
}

func TestReplayMergesWithObserved(t *testing.T) {
	// Commits observed while the replay runs overlap what it reads.
	evs := scenario()
	want := leasesOf(table(evs...))
	tb := newTable(&clock{day0.Add(24 * time.Hour)})
	tb.Observe(evs[len(evs)/3:])
	if err := tb.Replay(context.Background(), (&store{evs: evs[:2*len(evs)/3]}).source); err != nil {
		t.Fatal(err)
	}
	if got := leasesOf(tb); !reflect.DeepEqual(got, want) {
		t.Errorf("table differs:\n got %v\nwant %v", got, want)
	}
	if s := tb.Stats(); s.Observations != len(evs) {
		t.Errorf("%d observations kept, want %d (overlap kept once)", s.Observations, len(evs))
	}
}

func TestReplayKeepsWhatWasReadBeforeAnError(t *testing.T) {
	tb := newTable(&clock{day0.Add(24 * time.Hour)})
	broken := errors.New("search failed")
	err := tb.Replay(context.Background(), (&store{evs: scenario(), err: broken}).source)
	if !errors.Is(err, broken) || !strings.Contains(err.Error(), "dhcp: replay") {
		t.Errorf("Replay error = %v, want it to wrap the source's", err)
	}
	if s := tb.Stats(); s.Observations == 0 || s.Observations >= len(scenario()) {
		t.Errorf("after a failed replay %d observations kept, want the half read", s.Observations)
	}
}

func TestReplayStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tb := newTable(&clock{day0.Add(24 * time.Hour)})
	read := 0
	src := func(ctx context.Context, _ time.Time, yield func(*event.Event) bool) error {
		for _, e := range scenario() {
			read++
			if !yield(e) {
				return nil
			}
		}
		return nil
	}
	if err := tb.Replay(ctx, src); !errors.Is(err, context.Canceled) {
		t.Errorf("Replay = %v, want context.Canceled", err)
	}
	if read != 1 {
		t.Errorf("source read %d events after cancellation, want 1", read)
	}
}

// TestWithTheDataset feeds lines through the dhcp.lease dataset and the
// pipeline's normalisation, as the processor's OnCommit hook would, and
// attributes a later event. The lines are written for this test in dhcpd's
// and Kea's documented formats.
func TestWithTheDataset(t *testing.T) {
	if dhcp.Dataset != dhcpds.Name {
		t.Fatalf("Dataset = %q, the dataset's name is %q", dhcp.Dataset, dhcpds.Name)
	}
	ds := dhcpds.New(dhcpds.Options{})
	lines := []string{
		"<30>Nov 20 10:00:00 dhcp1 dhcpd[5074]: DHCPOFFER on 10.0.0.5 to 00:0c:29:aa:bb:cc (host1) via eth0",
		"<30>Nov 20 10:00:01 dhcp1 dhcpd[5074]: DHCPACK on 10.0.0.5 to 00:0c:29:aa:bb:cc (host1) via eth0",
		"<30>Nov 20 10:06:00 dhcp1 dhcpd[5074]: DHCPRELEASE of 10.0.0.5 from 00:0c:29:aa:bb:cc (host1) via eth0 (found)",
		"2026-11-20 10:00:00.152 INFO  [kea-dhcp4.leases/1234.140245] DHCP4_LEASE_ALLOC [hwtype=1 00:0c:29:aa:bb:dd], cid=[no info], tid=0x1a2b3c4e: lease 192.0.2.50 has been allocated for 3600 seconds",
	}
	received := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	var committed []*event.Event
	for i, l := range lines {
		evs, failed := pipeline.Normalize(ds, dataset.Record{Data: []byte(l), Received: received}, "raw/test", int64(i), received)
		if failed {
			t.Fatalf("line %d failed: %v", i, evs[0].String(event.FieldError))
		}
		committed = append(committed, evs...)
	}
	tb := newTable(&clock{received})
	tb.Observe(committed)

	inside := flow(time.Date(2026, 11, 20, 10, 3, 0, 0, time.UTC), "10.0.0.5", "192.0.2.50")
	after := flow(time.Date(2026, 11, 20, 10, 7, 0, 0, time.UTC), "10.0.0.5", "192.0.2.50")
	tb.Enrich(context.Background(), []*event.Event{inside, after})
	if got := inside.String("source.domain"); got != "host1" {
		t.Errorf("source.domain = %q, want host1", got)
	}
	if got := inside.String("source.mac"); got != "00-0C-29-AA-BB-CC" {
		t.Errorf("source.mac = %q", got)
	}
	if got := inside.String("mamori.enrichment.dhcp.source.lease_start"); got != "2026-11-20T10:00:01Z" {
		t.Errorf("lease_start = %q, want the ACK's time", got)
	}
	if got := inside.String("destination.mac"); got != "00-0C-29-AA-BB-DD" {
		t.Errorf("destination.mac = %q (Kea lease)", got)
	}
	if after.Has("source.mac") {
		t.Error("attributed after the release")
	}
	if got := after.String("destination.mac"); got != "00-0C-29-AA-BB-DD" {
		t.Errorf("destination.mac after 10:06 = %q, want the Kea lease still running", got)
	}
}
