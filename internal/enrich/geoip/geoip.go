// Package geoip adds the location and autonomous system of public IP
// addresses to events, from MaxMind DB files (GeoIP2 or GeoLite2 City or
// Country, and ASN) read into memory and swapped whole when they change.
package geoip

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a DB. At least one of City and ASN is required.
type Options struct {
	// City is the path of a City or Country database (GeoIP2-City,
	// GeoLite2-City, GeoLite2-Country or one laid out like them).
	City string
	// ASN is the path of an ASN database (GeoLite2-ASN, GeoIP2-ISP).
	ASN string
	// Skip lists networks never looked up, besides those always skipped
	// (private, loopback, link-local, CGNAT, multicast, unspecified): an
	// organisation's own public ranges, say.
	Skip []netip.Prefix
	// Verify checks every record of a database when it is opened, as the
	// library advises for files from untrusted places. It reads the whole
	// file (seconds for a City database), and is stricter than the format.
	Verify bool
	// Logger (nil: slog.Default()).
	Logger *slog.Logger
}

// Stats count lookups since the DB was made.
type Stats struct {
	Lookups int64 // addresses looked up (each database counts)
	Found   int64 // lookups that found a record
	Errors  int64 // lookups that failed (a corrupt database)
	Reloads int64 // database files replaced by Reload or ReloadIfChanged
}

// databases is the set of files in use, swapped whole on reload.
type databases struct {
	city, asn *source
}

// DB looks up addresses in the configured databases. Safe for concurrent
// use; the methods of a nil *DB do nothing.
type DB struct {
	opts   Options
	logger *slog.Logger
	cur    atomic.Pointer[databases]
	// reloadMu serialises reloads; lookups never wait for it.
	reloadMu sync.Mutex

	lookups, found, errs, reloads atomic.Int64
	lastErrLog                    atomic.Int64 // Unix ns of the last lookup error logged
}

// New opens the configured databases. A missing or unreadable file is an
// error, so that a wrong path is reported at start rather than as events
// that are never enriched.
func New(opts Options) (*DB, error) {
	if opts.City == "" && opts.ASN == "" {
		return nil, errors.New("geoip: no database configured (city or asn)")
	}
	for _, p := range opts.Skip {
		if !p.IsValid() {
			return nil, errors.New("geoip: invalid network in skip list")
		}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	g := &DB{opts: opts, logger: opts.Logger}
	var d databases
	var err error
	if opts.City != "" {
		if d.city, err = open(kindCity, opts.City, opts.Verify); err != nil {
			return nil, err
		}
	}
	if opts.ASN != "" {
		if d.asn, err = open(kindASN, opts.ASN, opts.Verify); err != nil {
			return nil, err
		}
	}
	g.cur.Store(&d)
	return g, nil
}

// Reload opens the configured files again (for SIGHUP). A file that cannot
// be opened keeps its predecessor in use, and the error is returned.
func (g *DB) Reload() error {
	if g == nil {
		return nil
	}
	_, err := g.reload(true)
	return err
}

// ReloadIfChanged reopens the files that changed on disk since they were
// opened (replaced, or rewritten: another inode, mtime or size), and
// reports whether any was.
func (g *DB) ReloadIfChanged() (bool, error) {
	if g == nil {
		return false, nil
	}
	return g.reload(false)
}

func (g *DB) reload(force bool) (bool, error) {
	g.reloadMu.Lock()
	defer g.reloadMu.Unlock()
	next := *g.cur.Load()
	var errs []error
	changed := false
	for _, slot := range []**source{&next.city, &next.asn} {
		old := *slot
		if old == nil {
			continue
		}
		if !force {
			ch, err := old.changed()
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !ch {
				continue
			}
		}
		s, err := open(old.kind, old.path, g.opts.Verify)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*slot = s
		changed = true
		g.reloads.Add(1)
		g.logger.Info("geoip database loaded", "kind", string(s.kind), "path", s.path,
			"type", s.r.Metadata.DatabaseType, "built", s.r.Metadata.BuildTime().UTC())
	}
	if changed {
		g.cur.Store(&next)
	}
	return changed, errors.Join(errs...)
}

// Watch checks the files every interval and reloads those that changed,
// until ctx is done. Run it in a goroutine of its own.
func (g *DB) Watch(ctx context.Context, every time.Duration) {
	if g == nil || every <= 0 {
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if _, err := g.ReloadIfChanged(); err != nil {
				g.logger.Warn("geoip reload failed; the previous database stays in use", "err", err)
			}
		}
	}
}

// Stats returns the lookup counters.
func (g *DB) Stats() Stats {
	if g == nil {
		return Stats{}
	}
	return Stats{Lookups: g.lookups.Load(), Found: g.found.Load(), Errors: g.errs.Load(), Reloads: g.reloads.Load()}
}

// skip reports whether ip is not to be looked up: addresses that are never
// public (and so in no GeoIP database), and the configured networks.
// Documentation ranges (192.0.2.0/24, 2001:db8::/32, ...) are looked up: a
// real database has nothing for them, and tests and examples use them.
func (g *DB) skip(ip netip.Addr) bool {
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || isCGNAT(ip) {
		return true
	}
	for _, p := range g.opts.Skip {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// isCGNAT: 100.64.0.0/10, shared address space (RFC 6598).
func isCGNAT(ip netip.Addr) bool {
	if !ip.Is4() {
		return false
	}
	b := ip.As4()
	return b[0] == 100 && b[1]&0xc0 == 64
}

// lookupFailed counts a failed lookup and logs it, at most once a minute:
// a corrupt database fails every lookup, and the stream is 50,000 events a
// second.
func (g *DB) lookupFailed(s *source, ip netip.Addr, err error) {
	g.errs.Add(1)
	now := time.Now().UnixNano()
	last := g.lastErrLog.Load()
	if now-last < int64(time.Minute) || !g.lastErrLog.CompareAndSwap(last, now) {
		return
	}
	g.logger.Warn("geoip lookup failed; event left without it", "kind", string(s.kind),
		"path", s.path, "ip", ip.String(), "err", err, "errors", g.errs.Load())
}
