package dhcp_test

import (
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// fuzzEvents reads lease events from bytes, four per event: the minute of
// the day, the state, the address and MAC (two of each), and the lease
// length in minutes (0: none given).
func fuzzEvents(data []byte) []*event.Event {
	states := []string{"bound", "released", "expired", "declined", "offered", "bound"}
	ips := []string{"10.0.0.1", "10.0.0.2"}
	macs := []string{macA, macB}
	hosts := []string{"", "ws", "laptop"}
	var evs []*event.Event
	for i := 0; i+4 <= len(data); i += 4 {
		when := day0.Add(time.Duration(data[i]) * 5 * time.Minute)
		b := data[i+2]
		evs = append(evs, lease(when, states[int(data[i+1])%len(states)], ips[b&1], macs[b>>1&1],
			hosts[int(b>>2)%len(hosts)], time.Duration(data[i+3])*time.Minute))
	}
	return evs
}

// FuzzTable checks the table's invariants on any sequence of lease events:
// intervals are non-empty, sorted and do not overlap; Lookup agrees with
// them; and the table does not depend on the order the events come in.
func FuzzTable(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		evs := fuzzEvents(data)
		inOrder := table(evs...)
		reversed := slices.Clone(evs)
		slices.Reverse(reversed)
		backwards := newTable(&clock{day0.Add(24 * time.Hour)})
		for _, e := range reversed {
			backwards.Observe([]*event.Event{e})
		}
		for _, ipText := range []string{"10.0.0.1", "10.0.0.2"} {
			ip := netip.MustParseAddr(ipText)
			ls := inOrder.Leases(ip)
			if other := backwards.Leases(ip); !reflect.DeepEqual(ls, other) {
				t.Fatalf("%s: order matters:\n in order %v\nbackwards %v", ip, spans(ls), spans(other))
			}
			for i, l := range ls {
				if !l.Start.Before(l.End) {
					t.Fatalf("%s: empty interval %v", ip, spans(ls))
				}
				if i > 0 && l.Start.Before(ls[i-1].End) {
					t.Fatalf("%s: overlapping intervals %v", ip, spans(ls))
				}
				got, ok := inOrder.Lookup(ip, l.Start)
				if !ok || got != l {
					t.Fatalf("%s: Lookup(%v) = %v %v, want %v", ip, l.Start, got, ok, l)
				}
				if got, ok := inOrder.Lookup(ip, l.End.Add(-time.Nanosecond)); !ok || got != l {
					t.Fatalf("%s: Lookup just before the end of %v = %v %v", ip, l, got, ok)
				}
				if got, ok := inOrder.Lookup(ip, l.End); ok && got.Start.Before(l.End) {
					t.Fatalf("%s: Lookup at the end of %v found %v", ip, l, got)
				}
			}
		}
		if s := inOrder.Stats(); s.Observed != int64(len(evs)) {
			t.Fatalf("Observed = %d of %d events", s.Observed, len(evs))
		}
	})
}
