// Package dhcp attributes IP addresses to the clients that held them: it
// learns a lease table from dhcp.lease events (internal/datasets/dhcp) and
// adds to other events, at their @timestamp, the MAC address and host name
// that held their source, destination, client or host address then.
package dhcp

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// Dataset is the event.dataset of the events the table learns from.
const Dataset = "dhcp.lease"

// Lease fields of a dhcp.lease event.
const (
	FieldLeaseIP       = "dhcp.lease.ip"
	FieldLeaseMAC      = "dhcp.lease.mac"
	FieldLeaseHostname = "dhcp.lease.hostname"
	FieldLeaseDuration = "dhcp.lease.duration"
	FieldLeaseState    = "dhcp.lease.state"
)

// Defaults of Options.
const (
	DefaultRetention = 30 * 24 * time.Hour
	DefaultLease     = 24 * time.Hour
)

// pruneEvery is how often Observe forgets what fell out of the retention
// window: pruning walks the whole table, and an hour's excess is small.
const pruneEvery = time.Hour

// maxLease bounds a lease's length, so that an "infinite" lease (dhcpd's
// 0xffffffff seconds) or a garbled one cannot overflow the nanosecond clock.
const maxLease = 10 * 365 * 24 * time.Hour

// Options configure a Table.
type Options struct {
	// Retention is how long intervals are kept after they end; events older
	// than that are not attributed (0 means DefaultRetention).
	Retention time.Duration
	// DefaultLease is how long a bind whose log gives no lease length is
	// taken to last, unless a later event for the address ends it first
	// (0 means DefaultLease).
	DefaultLease time.Duration
	// Now is the clock that retention is measured against (nil: time.Now).
	Now func() time.Time
	// Logger (nil: slog.Default()).
	Logger *slog.Logger
}

// Source yields stored events from since on, for Replay: the caller runs a
// search for event.dataset:dhcp.lease over the retention window. yield
// returns false to stop early.
type Source func(ctx context.Context, since time.Time, yield func(*event.Event) bool) error

// Lease is one holder of an address: [Start, End).
type Lease struct {
	IP       netip.Addr
	MAC      string // ECS form, 00-0C-29-AA-BB-CC; "" when the log gave none
	Hostname string
	Start    time.Time
	End      time.Time
}

// Stats describe a table.
type Stats struct {
	Addresses    int   // addresses with a history
	Intervals    int   // lease intervals kept
	Observations int   // lease events kept
	Observed     int64 // lease events taken in (Observe and Replay), duplicates included
	TooOld       int64 // lease events ignored because older than the retention window
	Attributed   int64 // event sides Enrich attributed
}

// Table is the lease table: per IP address, the sorted, non-overlapping
// intervals during which one client held it. Safe for concurrent use; the
// methods of a nil *Table do nothing.
type Table struct {
	retention    int64
	defaultLease int64
	now          func() time.Time
	logger       *slog.Logger

	mu        sync.RWMutex
	ips       map[netip.Addr]*history
	lastPrune int64

	observed   atomic.Int64
	tooOld     atomic.Int64
	attributed atomic.Int64
}

// New returns an empty table.
func New(opts Options) *Table {
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.DefaultLease <= 0 {
		opts.DefaultLease = DefaultLease
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Table{
		retention:    int64(opts.Retention),
		defaultLease: int64(opts.DefaultLease),
		now:          opts.Now,
		logger:       opts.Logger,
		ips:          make(map[netip.Addr]*history),
	}
}

type keyed struct {
	ip netip.Addr
	o  observation
}

// Observe learns the leases stated by committed events; events of other
// datasets and dhcp.lease events that state no lease are skipped at the
// cost of a field lookup or two. Events may come in any order.
func (t *Table) Observe(evs []*event.Event) {
	if t == nil {
		return
	}
	var found []keyed
	for _, e := range evs {
		if ip, o, ok := leaseOf(e); ok {
			found = append(found, keyed{ip, o})
		}
	}
	if len(found) == 0 {
		return
	}
	t.observed.Add(int64(len(found)))
	now := t.now().UnixNano()
	cutoff := now - t.retention
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range found {
		if k.o.at < cutoff {
			t.tooOld.Add(1)
			continue
		}
		h := t.ips[k.ip]
		if h == nil {
			h = &history{}
			t.ips[k.ip] = h
		}
		h.add(k.o, t.defaultLease)
	}
	if now-t.lastPrune >= int64(pruneEvery) {
		t.pruneLocked(cutoff)
		t.lastPrune = now
	}
}

// Replay rebuilds the table from stored events at start: it asks src for
// the events of the retention window and merges them with what Observe has
// learnt meanwhile. What was read before an error is kept.
func (t *Table) Replay(ctx context.Context, src Source) error {
	if t == nil || src == nil {
		return nil
	}
	now := t.now()
	cutoff := now.UnixNano() - t.retention
	pending := make(map[netip.Addr][]observation)
	var n, old int64
	err := src(ctx, time.Unix(0, cutoff).UTC(), func(e *event.Event) bool {
		if ip, o, ok := leaseOf(e); ok {
			n++
			if o.at < cutoff {
				old++
			} else {
				pending[ip] = append(pending[ip], o)
			}
		}
		return ctx.Err() == nil
	})
	t.observed.Add(n)
	t.tooOld.Add(old)
	for ip, obs := range pending {
		pending[ip] = sortObs(obs)
	}
	t.mu.Lock()
	for ip, obs := range pending {
		h := t.ips[ip]
		if h == nil {
			h = &history{}
			t.ips[ip] = h
		}
		h.merge(obs, t.defaultLease)
	}
	t.pruneLocked(cutoff)
	t.lastPrune = now.UnixNano()
	t.mu.Unlock()
	t.logger.Info("dhcp lease table replayed", "events", n, "addresses", len(pending))
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("dhcp: replay lease events: %w", err)
	}
	return nil
}

// Prune forgets intervals that ended before the retention window (Observe
// also does so every hour).
func (t *Table) Prune() {
	if t == nil {
		return
	}
	now := t.now().UnixNano()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pruneLocked(now - t.retention)
	t.lastPrune = now
}

func (t *Table) pruneLocked(cutoff int64) {
	for ip, h := range t.ips {
		if !h.prune(cutoff) {
			delete(t.ips, ip)
		}
	}
}

// Lookup returns who held ip at time at.
func (t *Table) Lookup(ip netip.Addr, at time.Time) (Lease, bool) {
	if t == nil {
		return Lease{}, false
	}
	ip = ip.Unmap().WithZone("")
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.lookupLocked(ip, at.UnixNano())
}

func (t *Table) lookupLocked(ip netip.Addr, at int64) (Lease, bool) {
	h := t.ips[ip]
	if h == nil {
		return Lease{}, false
	}
	iv, ok := h.at(at)
	if !ok {
		return Lease{}, false
	}
	return iv.lease(ip), true
}

// Leases returns every interval kept for ip, oldest first.
func (t *Table) Leases(ip netip.Addr) []Lease {
	if t == nil {
		return nil
	}
	ip = ip.Unmap().WithZone("")
	t.mu.RLock()
	defer t.mu.RUnlock()
	h := t.ips[ip]
	if h == nil {
		return nil
	}
	out := make([]Lease, len(h.ivs))
	for i := range h.ivs {
		out[i] = h.ivs[i].lease(ip)
	}
	return out
}

// Stats returns the table's size and counters.
func (t *Table) Stats() Stats {
	if t == nil {
		return Stats{}
	}
	t.mu.RLock()
	s := Stats{Addresses: len(t.ips)}
	for _, h := range t.ips {
		s.Intervals += len(h.ivs)
		s.Observations += len(h.obs)
	}
	t.mu.RUnlock()
	s.Observed = t.observed.Load()
	s.TooOld = t.tooOld.Load()
	s.Attributed = t.attributed.Load()
	return s
}

// leaseOf reads the lease a dhcp.lease event states.
func leaseOf(e *event.Event) (netip.Addr, observation, bool) {
	var o observation
	if e == nil || e.String(event.FieldDataset) != Dataset {
		return netip.Addr{}, o, false
	}
	switch e.String(FieldLeaseState) {
	case "bound":
		o.kind = kindBind
	case "offered":
		o.kind = kindOffer
	case "released", "expired", "declined":
		o.kind = kindEnd
	default:
		return netip.Addr{}, o, false
	}
	ip, err := netip.ParseAddr(e.String(FieldLeaseIP))
	if err != nil {
		return netip.Addr{}, o, false
	}
	at := e.Time()
	if at.IsZero() {
		return netip.Addr{}, o, false
	}
	o.at = at.UnixNano()
	// Cloned: a parser's value may be a slice of the whole log line, which
	// the table would otherwise keep alive for the retention window.
	o.mac = strings.Clone(e.String(FieldLeaseMAC))
	o.host = strings.Clone(e.String(FieldLeaseHostname))
	o.dur = leaseDuration(e)
	return ip.Unmap().WithZone(""), o, true
}

// leaseDuration is dhcp.lease.duration (seconds) in nanoseconds, 0 when
// absent or not a positive number.
func leaseDuration(e *event.Event) int64 {
	v, _ := e.Get(FieldLeaseDuration)
	var secs float64
	switch x := v.(type) {
	case int64:
		secs = float64(x)
	case float64: // events read back from JSON
		secs = x
	default:
		return 0
	}
	if !(secs > 0) {
		return 0
	}
	d := time.Duration(secs * float64(time.Second))
	if secs >= maxLease.Seconds() {
		d = maxLease
	}
	return int64(d)
}

func (iv *interval) lease(ip netip.Addr) Lease {
	return Lease{IP: ip, MAC: iv.mac, Hostname: iv.host,
		Start: time.Unix(0, iv.start).UTC(), End: time.Unix(0, iv.end).UTC()}
}
