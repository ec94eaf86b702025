package geoip

import (
	"context"
	"net/netip"

	"github.com/mamori-sec/mamori/internal/enrich"
	"github.com/mamori-sec/mamori/internal/event"
)

// side holds the field names of one endpoint, built once.
type side struct {
	ip       string
	geo      [nGeo]string
	asNumber string
	asOrg    string
}

func newSide(name string) side {
	s := side{ip: name + ".ip", asNumber: name + ".as.number", asOrg: name + ".as.organization.name"}
	for i, suffix := range geoSuffixes() {
		s.geo[i] = name + ".geo." + suffix
	}
	return s
}

// sides are the endpoints enriched (read only).
var sides = [...]side{newSide("source"), newSide("destination"), newSide("client"), newSide("server")}

// hasGeo reports whether the event already locates the side: then none of
// the database's values are added, so that a location is never a mix of
// the log's and the database's.
func (s *side) hasGeo(e *event.Event) bool {
	for _, f := range s.geo {
		if e.Has(f) {
			return true
		}
	}
	return false
}

// Enrich adds <side>.geo.* and <side>.as.* for the public addresses of
// source.ip, destination.ip, client.ip and server.ip, where the event has
// none of them.
func (g *DB) Enrich(ctx context.Context, evs []*event.Event) {
	if g == nil {
		return
	}
	d := g.cur.Load()
	// Counted per batch: one atomic add per lookup would make concurrent
	// searches and the detection stream contend for the counters.
	var n tally
	defer func() {
		g.lookups.Add(n.lookups)
		g.found.Add(n.found)
	}()
	var buf [2 * (nGeo + 2)]string
	for _, e := range evs {
		if e == nil {
			continue
		}
		fields := buf[:0]
		for i := range sides {
			s := &sides[i]
			text := e.String(s.ip)
			if text == "" {
				continue
			}
			ip, err := netip.ParseAddr(text)
			if err != nil {
				continue
			}
			ip = ip.Unmap().WithZone("")
			if g.skip(ip) {
				continue
			}
			if d.city != nil && !s.hasGeo(e) {
				fields = g.addGeo(e, d.city, s, ip, fields, &n)
			}
			if d.asn != nil && !e.Has(s.asNumber) && !e.Has(s.asOrg) {
				fields = g.addAS(e, d.asn, s, ip, fields, &n)
			}
		}
		enrich.Added(e, fields...)
	}
}

func (g *DB) addGeo(e *event.Event, src *source, s *side, ip netip.Addr, fields []string, n *tally) []string {
	n.lookups++
	info, err := src.city(ip)
	if err != nil {
		g.lookupFailed(src, ip, err)
		return fields
	}
	if info == nil {
		return fields
	}
	n.found++
	for i, v := range info.vals {
		if v != nil {
			e.Set(s.geo[i], v)
			fields = append(fields, s.geo[i])
		}
	}
	return fields
}

func (g *DB) addAS(e *event.Event, src *source, s *side, ip netip.Addr, fields []string, n *tally) []string {
	n.lookups++
	info, err := src.asn(ip)
	if err != nil {
		g.lookupFailed(src, ip, err)
		return fields
	}
	if info == nil {
		return fields
	}
	n.found++
	if info.number != 0 {
		e.Set(s.asNumber, info.number)
		fields = append(fields, s.asNumber)
	}
	if info.org != "" {
		e.Set(s.asOrg, info.org)
		fields = append(fields, s.asOrg)
	}
	return fields
}

type tally struct{ lookups, found int64 }
