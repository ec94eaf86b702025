package geoip

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/oschwald/maxminddb-golang/v2"
)

// maxCached bounds each database's cache of decoded records. Records are
// shared by many networks (a city, an AS), so a few tens of thousands cover
// the addresses a site sees; past that, records are decoded every time.
const maxCached = 1 << 16

type dbKind string

const (
	kindCity dbKind = "city"
	kindASN  dbKind = "asn"
)

// source is one opened database file. It is never changed once opened: a
// reload opens a new one, and lookups still running on the old one finish
// on it.
type source struct {
	kind dbKind
	path string
	info os.FileInfo // as opened, to notice a replaced file
	r    *maxminddb.Reader

	cache  sync.Map // record offset → *geoInfo or *asInfo
	cached atomic.Int64
}

// open reads a database file into memory. Reading it (rather than mapping
// it, the library's default) means a file rewritten in place cannot change
// under running lookups; it costs the file's size in memory (GeoLite2-City
// is about 60 MB), twice during a reload.
func open(kind dbKind, path string, verify bool) (*source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("geoip: %s database: %w", kind, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("geoip: %s database: %w", kind, err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("geoip: %s database: read %s: %w", kind, path, err)
	}
	r, err := maxminddb.OpenBytes(data)
	if err != nil {
		return nil, fmt.Errorf("geoip: %s database %s: not a MaxMind DB file: %w", kind, path, err)
	}
	if verify {
		if err := r.Verify(); err != nil {
			return nil, fmt.Errorf("geoip: %s database %s: %w", kind, path, err)
		}
	}
	// A database given in the wrong place would silently add nothing.
	t := r.Metadata.DatabaseType
	switch {
	case kind == kindCity && strings.Contains(t, "ASN"):
		return nil, fmt.Errorf("geoip: city database %s is of type %q: give it as the ASN database", path, t)
	case kind == kindASN && (strings.Contains(t, "City") || strings.Contains(t, "Country")):
		return nil, fmt.Errorf("geoip: ASN database %s is of type %q: give it as the city database", path, t)
	}
	return &source{kind: kind, path: path, info: info, r: r}, nil
}

// changed reports whether the file at the source's path is no longer the
// one opened: another file renamed over it, or the same file rewritten.
func (s *source) changed() (bool, error) {
	info, err := os.Stat(s.path)
	if err != nil {
		return false, fmt.Errorf("geoip: %s database: %w", s.kind, err)
	}
	return !os.SameFile(info, s.info) || !info.ModTime().Equal(s.info.ModTime()) || info.Size() != s.info.Size(), nil
}

// city returns the City record of ip, nil when the database has none.
func (s *source) city(ip netip.Addr) (*geoInfo, error) {
	res := s.r.Lookup(ip)
	if err := res.Err(); err != nil {
		return nil, err
	}
	if !res.Found() {
		return nil, nil
	}
	off := res.Offset()
	if v, ok := s.cache.Load(off); ok {
		return v.(*geoInfo), nil
	}
	var rec cityRecord
	if err := res.Decode(&rec); err != nil {
		return nil, err
	}
	g := rec.info()
	s.keep(off, g)
	return g, nil
}

// asn returns the ASN record of ip, nil when the database has none.
func (s *source) asn(ip netip.Addr) (*asInfo, error) {
	res := s.r.Lookup(ip)
	if err := res.Err(); err != nil {
		return nil, err
	}
	if !res.Found() {
		return nil, nil
	}
	off := res.Offset()
	if v, ok := s.cache.Load(off); ok {
		return v.(*asInfo), nil
	}
	var rec asnRecord
	if err := res.Decode(&rec); err != nil {
		return nil, err
	}
	a := &asInfo{number: int64(rec.Number), org: rec.Organization}
	s.keep(off, a)
	return a, nil
}

func (s *source) keep(off uintptr, v any) {
	if s.cached.Load() >= maxCached {
		return
	}
	if _, loaded := s.cache.LoadOrStore(off, v); !loaded {
		s.cached.Add(1)
	}
}
