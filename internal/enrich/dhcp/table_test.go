package dhcp_test

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/enrich/dhcp"
	"github.com/mamori-sec/mamori/internal/event"
)

var day0 = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// at is a time on day0: at("10:30").
func at(hhmm string) time.Time {
	d, err := time.ParseDuration(strings.Replace(hhmm, ":", "h", 1) + "m")
	if err != nil {
		panic(err)
	}
	return day0.Add(d)
}

const (
	macA = "00-0C-29-AA-BB-01"
	macB = "00-0C-29-AA-BB-02"
)

// lease is a dhcp.lease event as the dataset writes it; dur 0 leaves
// dhcp.lease.duration out.
func lease(t time.Time, state, ip, mac, host string, dur time.Duration) *event.Event {
	e := event.New(10)
	e.Set(event.FieldDataset, dhcp.Dataset)
	e.Set(event.FieldTimestamp, t)
	e.Set(dhcp.FieldLeaseState, state)
	e.Set(dhcp.FieldLeaseIP, ip)
	e.Set(dhcp.FieldLeaseMAC, mac)
	e.Set(dhcp.FieldLeaseHostname, host)
	if dur > 0 {
		e.Set(dhcp.FieldLeaseDuration, int64(dur/time.Second))
	}
	return e
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// clock is a settable Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTable(c *clock) *dhcp.Table {
	return dhcp.New(dhcp.Options{Now: c.now, Logger: quiet()})
}

func table(evs ...*event.Event) *dhcp.Table {
	tb := newTable(&clock{day0.Add(24 * time.Hour)})
	tb.Observe(evs)
	return tb
}

// span is a lease interval in the tests' short notation.
type span struct {
	from, to  string
	mac, host string
}

func spans(ls []dhcp.Lease) []span {
	out := make([]span, 0, len(ls))
	for _, l := range ls {
		out = append(out, span{l.Start.Format("15:04:05"), l.End.Format("15:04:05"), l.MAC, l.Hostname})
	}
	return out
}

func wantLeases(t *testing.T, tb *dhcp.Table, ip string, want ...span) {
	t.Helper()
	got := spans(tb.Leases(netip.MustParseAddr(ip)))
	if len(want) == 0 {
		want = []span{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("leases of %s:\n got %v\nwant %v", ip, got, want)
	}
}

func TestBindWithDuration(t *testing.T) {
	tb := table(lease(at("10:00"), "bound", "10.0.0.5", macA, "ws1", time.Hour))
	wantLeases(t, tb, "10.0.0.5", span{"10:00:00", "11:00:00", macA, "ws1"})
	ip := netip.MustParseAddr("10.0.0.5")
	for _, c := range []struct {
		when string
		in   bool
	}{{"09:59", false}, {"10:00", true}, {"10:59", true}, {"11:00", false}} {
		l, ok := tb.Lookup(ip, at(c.when))
		if ok != c.in {
			t.Errorf("Lookup at %s: found %v, want %v", c.when, ok, c.in)
		}
		if ok && (l.MAC != macA || l.Hostname != "ws1" || !l.Start.Equal(at("10:00"))) {
			t.Errorf("Lookup at %s = %+v", c.when, l)
		}
	}
}

func TestReleaseEndsTheInterval(t *testing.T) {
	tb := table(
		lease(at("10:00"), "bound", "10.0.0.5", macA, "ws1", time.Hour),
		lease(at("10:20"), "released", "10.0.0.5", macA, "ws1", 0),
	)
	wantLeases(t, tb, "10.0.0.5", span{"10:00:00", "10:20:00", macA, "ws1"})
}

func TestExpiryAndDeclineEndTheInterval(t *testing.T) {
	tb := table(
		lease(at("10:00"), "bound", "10.0.0.5", macA, "", 0),
		lease(at("12:00"), "expired", "10.0.0.5", macA, "", 0),
		lease(at("10:00"), "bound", "10.0.0.6", macB, "", 0),
		lease(at("10:01"), "declined", "10.0.0.6", macB, "", 0),
	)
	wantLeases(t, tb, "10.0.0.5", span{"10:00:00", "12:00:00", macA, ""})
	wantLeases(t, tb, "10.0.0.6", span{"10:00:00", "10:01:00", macB, ""})
}

func TestEndingWithNothingBoundIsIgnored(t *testing.T) {
	tb := table(
		lease(at("09:00"), "released", "10.0.0.5", macA, "", 0),
		lease(at("10:00"), "bound", "10.0.0.5", macA, "", time.Hour),
		lease(at("11:30"), "expired", "10.0.0.5", macA, "", 0), // after the lease ran out
	)
	wantLeases(t, tb, "10.0.0.5", span{"10:00:00", "11:00:00", macA, ""})
}

func TestRebindByAnotherMACEndsThePrevious(t *testing.T) {
	tb := table(
		lease(at("10:00"), "bound", "10.0.0.5", macA, "ws1", time.Hour),
		lease(at("10:30"), "bound", "10.0.0.5", macB, "ws2", time.Hour),
	)
	wantLeases(t, tb, "10.0.0.5",
		span{"10:00:00", "10:30:00", macA, "ws1"},
		span{"10:30:00", "11:30:00", macB, "ws2"})
}

func TestRenewalBySameMACExtends(t *testing.T) {
	tb := table(
		lease(at("10:00"), "bound", "10.0.0.5", macA, "ws1", time.Hour),
		lease(at("10:30"), "bound", "10.0.0.5", macA, "", time.Hour), // Kea renewals carry no name
		lease(at("11:00"), "bound", "10.0.0.5", macA, "ws1", 30*time.Minute),
	)
	wantLeases(t, tb, "10.0.0.5", span{"10:00:00", "11:30:00", macA, "ws1"})
}

func TestBindAfterExpiryStartsANewInterval(t *testing.T) {
	tb := table(
		lease(at("10:00"), "bound", "10.0.0.5", macA, "ws1", time.Hour),
		lease(at("12:00"), "bound", "10.0.0.5", macA, "ws1", time.Hour),
	)
	wantLeases(t, tb, "10.0.0.5",
		span{"10:00:00", "11:00:00", macA, "ws1"},
		span{"12:00:00", "13:00:00", macA, "ws1"})
}

func TestSameMACNewHostNameStartsANewInterval(t *testing.T) {
	tb := table(
		lease(at("10:00"), "bound", "10.0.0.5", macA, "old-name", time.Hour),
		lease(at("10:30"), "bound", "10.0.0.5", macA, "new-name", time.Hour),
	)
	wantLeases(t, tb, "10.0.0.5",
		span{"10:00:00", "10:30:00", macA, "old-name"},
		span{"10:30:00", "11:30:00", macA, "new-name"})
}

func TestNoDurationLastsTheDefaultOrUntilTheNextEvent(t *testing.T) {
	c := &clock{day0.Add(48 * time.Hour)}
	tb := dhcp.New(dhcp.Options{Now: c.now, Logger: quiet(), DefaultLease: 2 * time.Hour})
	tb.Observe([]*event.Event{
		lease(at("10:00"), "bound", "10.0.0.5", macA, "ws1", 0),
		lease(at("10:00"), "bound", "10.0.0.6", macA, "ws1", 0),
		lease(at("11:00"), "bound", "10.0.0.6", macB, "ws2", 0),
	})
	wantLeases(t, tb, "10.0.0.5", span{"10:00:00", "12:00:00", macA, "ws1"})
	wantLeases(t, tb, "10.0.0.6",
		span{"10:00:00", "11:00:00", macA, "ws1"},
		span{"11:00:00", "13:00:00", macB, "ws2"})

	tb = table(lease(at("10:00"), "bound", "10.0.0.5", macA, "ws1", 0))
	if ls := tb.Leases(netip.MustParseAddr("10.0.0.5")); len(ls) != 1 || ls[0].End.Sub(ls[0].Start) != dhcp.DefaultLease {
		t.Errorf("without a duration or DefaultLease option the lease is %v, want %v long", ls, dhcp.DefaultLease)
	}
}

func TestOfferToAnotherMACEndsTheHolder(t *testing.T) {
	tb := table(
		lease(at("10:00"), "bound", "10.0.0.5", macA, "ws1", time.Hour),
		lease(at("10:10"), "offered", "10.0.0.5", macA, "ws1", 0), // the holder asking again
		lease(at("10:20"), "offered", "10.0.0.5", macB, "ws2", 0),
		lease(at("10:21"), "offered", "10.0.0.7", macB, "ws2", 0), // an offer alone binds nothing
	)
	wantLeases(t, tb, "10.0.0.5", span{"10:00:00", "10:20:00", macA, "ws1"})
	wantLeases(t, tb, "10.0.0.7")
}

func TestReleaseAndBindInTheSameSecondLeaveItBound(t *testing.T) {
	evs := []*event.Event{
		lease(at("10:00"), "bound", "10.0.0.5", macA, "ws1", time.Hour),
		lease(at("10:30"), "bound", "10.0.0.5", macA, "ws1", time.Hour),
		lease(at("10:30"), "released", "10.0.0.5", macA, "ws1", 0),
	}
	want := []span{{"10:00:00", "10:30:00", macA, "ws1"}, {"10:30:00", "11:30:00", macA, "ws1"}}
	wantLeases(t, table(evs...), "10.0.0.5", want...)
	wantLeases(t, table(evs[0], evs[2], evs[1]), "10.0.0.5", want...)
}

func TestOtherEventsAreIgnored(t *testing.T) {
	fw := event.New(4)
	fw.Set(event.FieldDataset, "fortinet.fortigate")
	fw.Set(event.FieldTimestamp, at("10:00"))
	fw.Set(dhcp.FieldLeaseIP, "10.0.0.9") // not a dhcp.lease event
	fw.Set(dhcp.FieldLeaseState, "bound")
	discover := event.New(4) // a dhcp.lease event that states no lease
	discover.Set(event.FieldDataset, dhcp.Dataset)
	discover.Set(event.FieldTimestamp, at("10:00"))
	discover.Set("client.mac", macA)
	odd := lease(at("10:00"), "renewing", "10.0.0.10", macA, "", 0)
	bad := lease(at("10:00"), "bound", "10.0.0.300", macA, "", 0)
	tb := table(fw, discover, odd, bad, nil)
	if s := tb.Stats(); s.Addresses != 0 || s.Observed != 0 {
		t.Errorf("stats after ignored events: %+v", s)
	}
}

func TestMappedAndPlainIPv4AreTheSameAddress(t *testing.T) {
	tb := table(lease(at("10:00"), "bound", "::ffff:10.0.0.5", macA, "ws1", time.Hour))
	if _, ok := tb.Lookup(netip.MustParseAddr("10.0.0.5"), at("10:30")); !ok {
		t.Error("a lease stated for ::ffff:10.0.0.5 is not found for 10.0.0.5")
	}
	tb = table(lease(at("10:00"), "bound", "2001:db8::5", macA, "ws1", time.Hour))
	if _, ok := tb.Lookup(netip.MustParseAddr("2001:db8::5"), at("10:30")); !ok {
		t.Error("IPv6 lease not found")
	}
}

func TestDuplicatesAreKeptOnce(t *testing.T) {
	e := lease(at("10:00"), "bound", "10.0.0.5", macA, "ws1", time.Hour)
	tb := table(e, e, lease(at("10:00"), "bound", "10.0.0.5", macA, "ws1", time.Hour))
	if s := tb.Stats(); s.Observations != 1 || s.Intervals != 1 || s.Observed != 3 {
		t.Errorf("stats = %+v, want 1 observation and 1 interval of 3 observed", s)
	}
}

// scenario is a day of leases for a few addresses that exercises every
// rule: renewals, releases, expiries, other MACs, offers, same-second ties.
func scenario() []*event.Event {
	var evs []*event.Event
	for i := range 6 {
		ip := fmt.Sprintf("10.0.0.%d", 10+i)
		base := day0.Add(time.Duration(i) * time.Minute)
		evs = append(evs,
			lease(base.Add(8*time.Hour), "offered", ip, macA, "ws", 0),
			lease(base.Add(8*time.Hour+time.Second), "bound", ip, macA, "ws", time.Hour),
			lease(base.Add(8*time.Hour+30*time.Minute), "bound", ip, macA, "", time.Hour),
			lease(base.Add(9*time.Hour), "released", ip, macA, "ws", 0),
			lease(base.Add(9*time.Hour), "bound", ip, macB, "laptop", 0),
			lease(base.Add(10*time.Hour), "offered", ip, macA, "ws", 0),
			lease(base.Add(10*time.Hour+time.Second), "bound", ip, macA, "ws", 2*time.Hour),
			lease(base.Add(11*time.Hour), "expired", ip, macA, "", 0),
			lease(base.Add(13*time.Hour), "bound", ip, macB, "laptop", 0),
			lease(base.Add(13*time.Hour), "declined", ip, macA, "", 0),
		)
	}
	return evs
}

func leasesOf(tb *dhcp.Table) map[string][]span {
	out := map[string][]span{}
	for i := range 6 {
		ip := fmt.Sprintf("10.0.0.%d", 10+i)
		out[ip] = spans(tb.Leases(netip.MustParseAddr(ip)))
	}
	return out
}

func TestOutOfOrderGivesTheSameTable(t *testing.T) {
	evs := scenario()
	want := leasesOf(table(evs...))
	// In order, by the rules: the renewal extends, the release and the
	// other MAC's bind at 09:00 hand over, the offer to A at 10:00 ends
	// B's default-length lease, the expiry cuts A's, and at 13:00 the
	// decline sorts before B's bind, which then runs for DefaultLease.
	first := []span{
		{"08:00:01", "09:00:00", macA, "ws"},
		{"09:00:00", "10:00:00", macB, "laptop"},
		{"10:00:01", "11:00:00", macA, "ws"},
		{"13:00:00", "13:00:00", macB, "laptop"}, // the next day
	}
	if !reflect.DeepEqual(want["10.0.0.10"], first) {
		t.Fatalf("in-order scenario gives %v, want %v", want["10.0.0.10"], first)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		shuffled := append([]*event.Event(nil), evs...)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		// Observed in batches of random sizes, as commits would deliver them.
		tb := newTable(&clock{day0.Add(24 * time.Hour)})
		for len(shuffled) > 0 {
			n := 1 + rng.IntN(len(shuffled))
			tb.Observe(shuffled[:n])
			shuffled = shuffled[n:]
		}
		if got := leasesOf(tb); !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: out-of-order table differs:\n got %v\nwant %v", round, got, want)
		}
	}
}

func TestPruning(t *testing.T) {
	c := &clock{day0.Add(24 * time.Hour)}
	tb := dhcp.New(dhcp.Options{Now: c.now, Logger: quiet(), Retention: 48 * time.Hour})
	tb.Observe([]*event.Event{
		lease(at("10:00"), "bound", "10.0.0.5", macA, "old", time.Hour),
		lease(at("10:00"), "bound", "10.0.0.6", macA, "straddles", 0),
		lease(at("09:00").Add(24*time.Hour), "bound", "10.0.0.6", macA, "", 0), // renews to day 2 09:00
		lease(at("10:00").Add(36*time.Hour), "bound", "10.0.0.7", macB, "recent", time.Hour),
	})
	if s := tb.Stats(); s.Addresses != 3 {
		t.Fatalf("before pruning: %+v", s)
	}
	// Day 3 11:00: the retention window starts at day 1 11:00. 10.0.0.5's
	// lease ended before it; 10.0.0.6's interval began before it but
	// reaches into it and is kept whole.
	c.t = at("11:00").Add(72 * time.Hour)
	tb.Prune()
	wantLeases(t, tb, "10.0.0.5")
	if got := tb.Leases(netip.MustParseAddr("10.0.0.6")); len(got) != 1 || !got[0].Start.Equal(at("10:00")) {
		t.Errorf("straddling interval after pruning: %v", spans(got))
	}
	if s := tb.Stats(); s.Addresses != 2 || s.Intervals != 2 {
		t.Errorf("after pruning: %+v, want 2 addresses, 2 intervals", s)
	}
	// An event older than the window is not taken in.
	tb.Observe([]*event.Event{lease(at("09:00"), "bound", "10.0.0.8", macA, "", 0)})
	if s := tb.Stats(); s.TooOld != 1 || s.Addresses != 2 {
		t.Errorf("an event older than retention was kept: %+v", s)
	}
	// A late event inside the window still refolds to what a table that had
	// everything from the start says about the window.
	late := lease(at("10:00").Add(30*time.Hour), "released", "10.0.0.6", macA, "", 0)
	tb.Observe([]*event.Event{late})
	wantLeases(t, tb, "10.0.0.6", span{"10:00:00", "16:00:00", macA, "straddles"})
	if got := tb.Leases(netip.MustParseAddr("10.0.0.6")); !got[0].End.Equal(late.Time()) {
		t.Errorf("late release: interval ends %v, want %v", got[0].End, late.Time())
	}
}

func TestPruneKeepsWhatAFullHistoryWouldSay(t *testing.T) {
	// After pruning, every lookup inside the window agrees with a table
	// that never pruned, whatever arrives late (in any order) within it.
	evs := scenario()
	rng := rand.New(rand.NewPCG(3, 4))
	cutoffs := []time.Duration{8*time.Hour + 30*time.Minute, 9*time.Hour + 30*time.Second, 12 * time.Hour}
	for _, cut := range cutoffs {
		retention := 24 * time.Hour
		c := &clock{day0.Add(cut)}
		pruned := dhcp.New(dhcp.Options{Now: c.now, Logger: quiet(), Retention: retention})
		// Seen before pruning: everything before the cut, and every
		// other event after it; the rest comes late, shuffled.
		var early, late []*event.Event
		for i, e := range evs {
			if e.Time().Before(day0.Add(cut)) || i%2 == 0 {
				early = append(early, e)
			} else {
				late = append(late, e)
			}
		}
		pruned.Observe(early)
		c.t = day0.Add(cut + retention) // the window now starts at cut
		pruned.Prune()
		rng.Shuffle(len(late), func(i, j int) { late[i], late[j] = late[j], late[i] })
		for _, e := range late {
			pruned.Observe([]*event.Event{e})
		}
		full := table(evs...)
		if pruned.Stats().Observations >= full.Stats().Observations {
			t.Errorf("cutoff %v: nothing was pruned (%+v)", cut, pruned.Stats())
		}
		for i := range 6 {
			ip := netip.MustParseAddr(fmt.Sprintf("10.0.0.%d", 10+i))
			for m := cut; m < 16*time.Hour; m += 7 * time.Minute {
				w, wok := full.Lookup(ip, day0.Add(m))
				g, gok := pruned.Lookup(ip, day0.Add(m))
				if wok != gok || w != g {
					t.Fatalf("cutoff %v, %s at %v: pruned says %+v %v, full history %+v %v", cut, ip, m, g, gok, w, wok)
				}
			}
		}
	}
}
