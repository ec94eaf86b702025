// Package dhcp is the dhcp.lease dataset: DHCPv4 server logs of ISC dhcpd
// (also Infoblox NIOS, which runs it) and ISC Kea (kea-dhcp4), mapped to
// ECS with one lease record per event that states a lease: which IP
// address a MAC address (and host name) held, from when, in which state.
package dhcp

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/syslog"
	"github.com/mamori-sec/mamori/internal/event"
	parsesyslog "github.com/mamori-sec/mamori/internal/parse/syslog"
)

// Name is the dataset's name and event.dataset value.
const Name = "dhcp.lease"

// Lease states written to dhcp.lease.state.
const (
	StateOffered  = "offered"
	StateBound    = "bound"
	StateReleased = "released"
	StateDeclined = "declined"
	StateExpired  = "expired"
)

// Options configure the dataset.
type Options struct {
	// Location is the zone of timestamps that carry none: Kea's
	// "2026-11-20 10:00:00.123" and BSD syslog headers (nil means UTC).
	Location *time.Location
	// Now gives the reference time when a record has no receive time
	// (nil means time.Now); a BSD syslog timestamp's year is the one
	// nearest it.
	Now func() time.Time
}

// New returns the dhcp.lease dataset.
func New(opts Options) dataset.Dataset {
	p := &parser{loc: opts.Location, now: opts.Now}
	if p.loc == nil {
		p.loc = time.UTC
	}
	if p.now == nil {
		p.now = time.Now
	}
	return dataset.Dataset{
		Name:        Name,
		Description: "DHCPv4 server logs (ISC dhcpd, Infoblox, Kea kea-dhcp4): IP, MAC and host name leases",
		Parser:      p,
		Claim:       claim,
	}
}

type parser struct {
	loc *time.Location
	now func() time.Time
}

// Parse maps one dhcpd or Kea line, with or without a syslog header.
func (p *parser) Parse(rec dataset.Record) ([]*event.Event, error) {
	data := bytes.TrimSpace(rec.Data)
	if len(data) == 0 {
		return nil, nil
	}
	var m parsesyslog.Message
	body := string(data)
	// A Kea log file line starts with a date that the syslog parser would
	// take for an rsyslog header.
	if !isKea(body) {
		ref := rec.Received
		if ref.IsZero() {
			ref = p.now()
		}
		m = parsesyslog.ParseString(body, ref, p.loc)
		body = strings.TrimSpace(m.Body)
	}
	ev := event.New(40)
	switch {
	case isKea(body):
		if err := p.parseKea(ev, body); err != nil {
			return nil, err
		}
	case isISCMessage(body):
		if err := parseISC(ev, body); err != nil {
			return nil, err
		}
	case m.HeaderFound() && dhcpPrograms[m.AppName]:
		// Another line of the DHCP server (start-up, lease file writes):
		// kept as an event of the server.
		ev.Set("event.kind", "event")
		ev.Set("event.category", []string{"network"})
		ev.Set("event.type", []string{"info"})
	default:
		return nil, fmt.Errorf("dhcp: not a dhcpd or Kea DHCPv4 message: %.60q", body)
	}
	ev.SetString(event.FieldMessage, body)
	if m.HeaderFound() {
		syslog.SetHeader(ev, &m, p.loc, true)
		// The tag is the DHCP server process.
		ev.SetIfAbsent("process.name", m.AppName)
		if pid, err := strconv.ParseInt(m.ProcID, 10, 64); err == nil {
			ev.SetIfAbsent("process.pid", pid)
		}
	}
	return []*event.Event{ev}, nil
}

// dhcpPrograms are the syslog programs of the DHCPv4 servers read here.
var dhcpPrograms = map[string]bool{"dhcpd": true, "dhcpd4": true, "kea-dhcp4": true}

// lease is the lease record an event states.
type lease struct {
	ip, mac, hostname, state string
	duration                 int64 // seconds; 0 when the log does not say
}

// set writes dhcp.lease.* and the client's fields. Only events that state
// a lease carry dhcp.lease.*, so that looking up an address at a time
// finds the lease and not, say, a client's request for one.
func (l lease) set(ev *event.Event) {
	ev.SetString("dhcp.lease.state", l.state)
	ev.SetString("dhcp.lease.ip", l.ip)
	ev.SetString("dhcp.lease.mac", l.mac)
	ev.SetString("dhcp.lease.hostname", l.hostname)
	if l.duration > 0 {
		ev.Set("dhcp.lease.duration", l.duration)
	}
}

// setClient sets client.* — the DHCP client, whatever the direction of
// the message — from the parts the line names.
func setClient(ev *event.Event, ip, mac, hostname string) {
	ev.SetString("client.ip", ip)
	ev.SetString("client.mac", mac)
	ev.SetString("client.domain", hostname)
}

func categorise(ev *event.Event, types ...string) {
	ev.Set("event.kind", "event")
	ev.Set("event.category", []string{"network"})
	ev.Set("event.type", types)
}
