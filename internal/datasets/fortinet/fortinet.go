// Package fortinet is the fortinet.fortigate dataset: FortiGate (FortiOS
// 6.x to 7.6) firewall logs in their syslog key=value format, mapped to ECS:
// traffic (forward, local), UTM (virus, ips, webfilter, dns, app-ctrl,
// anomaly, ssl, ...) and event logs (system, user, vpn, ...).
//
// A record arrives exactly as the firewall sent it: after a syslog PRI
// only (FortiGate's default), behind a BSD or RFC 5424 header, or with no
// header at all when read from a file.
package fortinet

import (
	"fmt"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/syslog"
	"github.com/mamori-sec/mamori/internal/event"
	parsekv "github.com/mamori-sec/mamori/internal/parse/kv"
	parsesyslog "github.com/mamori-sec/mamori/internal/parse/syslog"
)

// Name is the dataset's name and event.dataset value.
const Name = "fortinet.fortigate"

// Options configure the dataset.
type Options struct {
	// Location is the zone of a log's date and time when it has no tz
	// pair (FortiOS before 6.2 writes none; nil means UTC).
	Location *time.Location
	// Now gives the reference time for a BSD syslog header's year when a
	// record has no receive time (nil means time.Now).
	Now func() time.Time
}

// New returns the fortinet.fortigate dataset.
func New(opts Options) dataset.Dataset {
	p := &parser{loc: opts.Location, now: opts.Now, zones: newZoneTable()}
	if p.loc == nil {
		p.loc = time.UTC
	}
	if p.now == nil {
		p.now = time.Now
	}
	return dataset.Dataset{
		Name:        Name,
		Description: "Fortinet FortiGate firewall logs (syslog key=value: traffic, UTM, event)",
		Parser:      p,
		Claim:       Claim,
	}
}

type parser struct {
	loc   *time.Location
	now   func() time.Time
	zones zoneTable
}

// Parse maps one FortiGate log. An empty record, or a syslog header with
// nothing after it, carries no event; a body without FortiGate's pairs is
// an error.
func (p *parser) Parse(rec dataset.Record) ([]*event.Event, error) {
	ref := rec.Received
	if ref.IsZero() {
		ref = p.now()
	}
	m := parsesyslog.ParseString(rec.String(), ref, p.loc)
	body := strings.TrimSpace(m.Body)
	if body == "" {
		return nil, nil
	}
	var buf [64]parsekv.Pair
	pairs := parsekv.AppendString(buf[:0], body)
	if len(pairs) == 0 {
		return nil, fmt.Errorf("fortinet: not a FortiGate log: no key=value pairs in %q", clip(body))
	}
	// A log gives a field for most pairs, and some twenty more come from
	// pairs read together, the syslog header and the pipeline (the golden
	// cases need 10 to 27 more fields than pairs).
	ev := event.New(16 + len(pairs))
	var l logInfo
	p.mapPairs(ev, pairs, &l)
	if l.logid == "" && l.devid == "" && l.typ == "" {
		return nil, fmt.Errorf("fortinet: not a FortiGate log: no logid, devid or type in %q", clip(body))
	}
	p.setTime(ev, &l)
	classify(ev, &l)
	if m.HeaderFound() || m.HasPriority {
		ev.SetIfAbsent("observer.name", m.Hostname)
		syslog.SetHeader(ev, &m, p.loc, true)
	}
	return []*event.Event{ev}, nil
}

// clip shortens a text quoted in an error message.
func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
