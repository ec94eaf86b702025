// Package leef is the generic LEEF dataset: IBM QRadar Log Event Extended
// Format records (1.0 and 2.0) mapped to ECS, with every attribute kept
// under leef.attributes.<key>.
package leef

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
	parseleef "github.com/mamori-sec/mamori/internal/parse/leef"
)

// Name is the dataset's name and event.dataset value.
const Name = "leef"

// Options configure the dataset.
type Options struct {
	// Location is the zone of devTime values that carry none (nil means
	// UTC).
	Location *time.Location
}

// New returns the leef dataset.
func New(opts Options) dataset.Dataset {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	return dataset.Dataset{
		Name:        Name,
		Description: "IBM QRadar Log Event Extended Format (LEEF 1.0 and 2.0) records, any vendor",
		Parser:      &parser{loc: loc},
	}
}

type parser struct {
	loc *time.Location
}

// Parse maps one LEEF record. The record must start with "LEEF:"; a syslog
// header in front is the syslog dataset's to remove.
func (p *parser) Parse(rec dataset.Record) ([]*event.Event, error) {
	m, err := parseleef.ParseString(rec.String())
	if err != nil {
		return nil, fmt.Errorf("leef dataset: %w", err)
	}
	ev := event.New(16 + 2*len(m.Attributes))
	ev.SetString("leef.version", m.Version)
	ev.SetString("leef.vendor", m.Vendor)
	ev.SetString("leef.product", m.Product)
	ev.SetString("leef.product_version", m.ProductVersion)
	ev.SetString("leef.event_id", m.EventID)
	ev.SetString("observer.vendor", m.Vendor)
	ev.SetString("observer.product", m.Product)
	ev.SetString("observer.version", m.ProductVersion)
	ev.SetString("event.code", m.EventID)
	for _, a := range m.Attributes {
		ev.SetString("leef.attributes."+a.Key, a.Value)
		mapECS(ev, a.Key, a.Value)
	}
	if ev.String("user.name") == "" {
		ev.SetString("user.name", ev.String("leef.attributes.accountName"))
	}
	if v, ok := m.Get("devTime"); ok {
		format, _ := m.Get("devTimeFormat")
		if t, zoned, err := parseleef.ParseDevTime(v, format, p.loc); err == nil {
			ev.Set(event.FieldTimestamp, t)
			if !zoned {
				ev.SetString("event.timezone", p.loc.String())
			}
		}
	}
	return []*event.Event{ev}, nil
}

// The LEEF predefined attributes that have an ECS field, by the conversion
// they need.
var (
	ipFields = map[string]string{
		"src":        "source.ip",
		"dst":        "destination.ip",
		"srcPostNAT": "source.nat.ip",
		"dstPostNAT": "destination.nat.ip",
	}
	intFields = map[string]string{
		"srcPort":        "source.port",
		"dstPort":        "destination.port",
		"srcPostNATPort": "source.nat.port",
		"dstPostNATPort": "destination.nat.port",
		"srcBytes":       "source.bytes",
		"dstBytes":       "destination.bytes",
		"totalBytes":     "network.bytes",
		"srcPackets":     "source.packets",
		"dstPackets":     "destination.packets",
		"totalPackets":   "network.packets",
	}
	stringFields = map[string]string{
		"usrName": "user.name",
		"url":     "url.original",
		"policy":  "rule.name",
		"msg":     "message",
	}
	macFields = map[string]string{
		"srcMAC": "source.mac",
		"dstMAC": "destination.mac",
	}
)

func mapECS(ev *event.Event, key, v string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return
	}
	if f, ok := stringFields[key]; ok {
		ev.SetString(f, v)
		return
	}
	if f, ok := ipFields[key]; ok {
		if a, err := netip.ParseAddr(v); err == nil {
			ev.SetString(f, a.Unmap().String())
		}
		return
	}
	if f, ok := intFields[key]; ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			ev.Set(f, n)
		}
		return
	}
	if f, ok := macFields[key]; ok {
		if hw, err := net.ParseMAC(v); err == nil {
			ev.SetString(f, strings.ToUpper(strings.ReplaceAll(hw.String(), ":", "-")))
		}
		return
	}
	switch key {
	case "proto":
		ev.SetString("network.transport", transport(v))
	case "sev":
		if n, err := strconv.Atoi(v); err == nil {
			ev.Set("event.severity", n)
		}
	}
}

// transport names the protocol: LEEF allows the name or its IANA number.
func transport(v string) string {
	switch v {
	case "1":
		return "icmp"
	case "6":
		return "tcp"
	case "17":
		return "udp"
	case "47":
		return "gre"
	case "50":
		return "esp"
	case "58":
		return "ipv6-icmp"
	case "132":
		return "sctp"
	}
	return strings.ToLower(v)
}
