package dhcp

import (
	"context"
	"net/netip"
	"time"

	"github.com/mamori-sec/mamori/internal/enrich"
	"github.com/mamori-sec/mamori/internal/event"
)

// side names the fields of one endpoint of an event: where its address is
// read from, and where the holder's MAC address and host name go.
type side struct {
	ip, mac, name string
	// macList: host.mac is a list in ECS; source.mac and the like are not.
	macList bool
	// the record of what was attributed, under mamori.enrichment.dhcp.<side>
	recMAC, recHost, recStart string
}

func newSide(name, nameField string, macList bool) side {
	rec := "mamori.enrichment.dhcp." + name + "."
	return side{
		ip: name + ".ip", mac: name + ".mac", name: name + "." + nameField, macList: macList,
		recMAC: rec + "mac", recHost: rec + "hostname", recStart: rec + "lease_start",
	}
}

// sides are the endpoints attributed (read only). A network endpoint's host name goes
// to <side>.domain, which ECS defines as "a host name, a fully qualified
// domain name, or another host naming format"; the host's to host.hostname.
var sides = [...]side{
	newSide("source", "domain", false),
	newSide("destination", "domain", false),
	newSide("client", "domain", false),
	newSide("host", "hostname", true),
}

// Enrich adds, for every side of an event whose address a client held at
// the event's @timestamp, the holder's MAC address (<side>.mac, host.mac)
// and host name (<side>.domain, host.hostname) where the event has none, and
// records the attribution under mamori.enrichment.dhcp.<side>.{mac,
// hostname,lease_start}. dhcp.lease events are left alone: they state their
// leases themselves.
func (t *Table) Enrich(ctx context.Context, evs []*event.Event) {
	if t == nil || len(evs) == 0 {
		return
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if len(t.ips) == 0 {
		return
	}
	var attributed int64
	var added [16]string
	for _, e := range evs {
		if e == nil || e.String(event.FieldDataset) == Dataset {
			continue
		}
		at := e.Time()
		if at.IsZero() {
			continue
		}
		ns := at.UnixNano()
		fields := added[:0]
		for i := range sides {
			s := &sides[i]
			l, ok := t.attribute(e, s, ns)
			if !ok {
				continue
			}
			attributed++
			fields = setLease(e, s, l, fields)
		}
		enrich.Added(e, fields...)
	}
	t.attributed.Add(attributed)
}

// attribute finds the lease of the side's address: the first of host.ip's
// addresses that has one, the only address of the other sides.
func (t *Table) attribute(e *event.Event, s *side, at int64) (*interval, bool) {
	v, ok := e.Get(s.ip)
	if !ok {
		return nil, false
	}
	switch x := v.(type) {
	case string:
		return t.lookupText(x, at)
	case []string:
		for _, a := range x {
			if l, ok := t.lookupText(a, at); ok {
				return l, true
			}
		}
	case []any:
		for _, a := range x {
			if str, isStr := a.(string); isStr {
				if l, ok := t.lookupText(str, at); ok {
					return l, true
				}
			}
		}
	}
	return nil, false
}

func (t *Table) lookupText(s string, at int64) (*interval, bool) {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return nil, false
	}
	h := t.ips[ip.Unmap().WithZone("")]
	if h == nil {
		return nil, false
	}
	return h.at(at)
}

// setLease writes what the lease says where the event says nothing, and
// returns fields with the names of the ECS fields it set appended (the
// mamori.enrichment.dhcp.* record is enrichment by its name).
func setLease(e *event.Event, s *side, l *interval, fields []string) []string {
	if l.mac != "" && !e.Has(s.mac) {
		if s.macList {
			e.Set(s.mac, []string{l.mac})
		} else {
			e.Set(s.mac, l.mac)
		}
		fields = append(fields, s.mac)
	}
	if l.host != "" && !e.Has(s.name) {
		e.Set(s.name, l.host)
		fields = append(fields, s.name)
	}
	// The record is the table's word, kept even when the event's own
	// fields won, so that a disagreement between them can be seen.
	if l.mac != "" && !e.Has(s.recMAC) {
		e.Set(s.recMAC, l.mac)
	}
	if l.host != "" && !e.Has(s.recHost) {
		e.Set(s.recHost, l.host)
	}
	if !e.Has(s.recStart) {
		e.Set(s.recStart, time.Unix(0, l.start).UTC())
	}
	return fields
}
