// Package panw is the panw.panos dataset: Palo Alto Networks PAN-OS
// firewall logs in the default syslog CSV format (TRAFFIC, THREAT, SYSTEM,
// CONFIG, GLOBALPROTECT, HIP-MATCH, USERID, AUTH, DECRYPTION), mapped to ECS.
//
// A record arrives exactly as the firewall sent it: with a BSD or RFC 5424
// syslog header, or without one when read from a file. Columns are mapped
// by position, following Palo Alto's "Syslog Field Descriptions" for PAN-OS
// 8.1 to 11.x; later versions only append columns, so a record with more
// columns than known keeps the known ones and one with fewer (an older
// version) maps what it has.
package panw

import (
	"fmt"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/syslog"
	"github.com/mamori-sec/mamori/internal/event"
	parsesyslog "github.com/mamori-sec/mamori/internal/parse/syslog"
)

// Name is the dataset's name and event.dataset value.
const Name = "panw.panos"

// Options configure the dataset.
type Options struct {
	// Location is the firewall's time zone: PAN-OS writes its times
	// without one (nil means UTC).
	Location *time.Location
	// Now gives the reference time for a BSD syslog header's year when a
	// record has no receive time (nil means time.Now).
	Now func() time.Time
}

// New returns the panw.panos dataset.
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
		Description: "Palo Alto Networks PAN-OS firewall logs (syslog CSV: traffic, threat, system, config, GlobalProtect, ...)",
		Parser:      p,
		Claim:       Claim,
	}
}

type parser struct {
	loc *time.Location
	now func() time.Time
}

// maxColumns bounds the columns kept on the stack; longer records still
// parse (the slice grows), this only saves an allocation for usual ones.
const maxColumns = 128

// Parse maps one PAN-OS log. A record that is empty, or a syslog header
// with nothing after it, carries no event; a body that is not a PAN-OS CSV
// log is an error.
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
	var buf [maxColumns]string
	cols := splitCSV(body, buf[:0])
	// Most columns of a record become a field (some are empty or
	// unused); the syslog header and the pipeline add some twenty (the
	// golden cases need 13 to 89 fields for 16 to 118 columns).
	ev := event.New(28 + len(cols)/2)
	if err := p.mapLog(ev, row(cols)); err != nil {
		return nil, err
	}
	if m.HeaderFound() || m.HasPriority {
		ev.SetIfAbsent("observer.hostname", m.Hostname)
		syslog.SetHeader(ev, &m, p.loc, true)
	}
	return []*event.Event{ev}, nil
}

// mapLog maps the columns of one log: the common head, then the columns
// of its type.
func (p *parser) mapLog(ev *event.Event, r row) error {
	if len(r) < 7 {
		return fmt.Errorf("panw: not a PAN-OS log: %d columns, want at least 7", len(r))
	}
	typ := strings.ToUpper(strings.TrimSpace(r[3]))
	if !knownType(typ) {
		return fmt.Errorf("panw: not a PAN-OS log: unknown log type %q in column 4", clip(r[3]))
	}
	received, okR := p.parseTime(r[1])
	generated, okG := p.parseTime(r[6])
	if !okR && !okG {
		return fmt.Errorf("panw: not a PAN-OS log: no receive or generated time (%q, %q)", clip(r[1]), clip(r[6]))
	}
	ev.Set("observer.vendor", "Palo Alto Networks")
	ev.Set("observer.product", "PAN-OS")
	ev.Set("observer.type", "firewall")
	ev.SetString("observer.serial_number", r.get(2))
	ev.SetString("panw.panos.type", typ)
	ev.SetString("panw.panos.sub_type", r.get(4))
	// The generated time is when the event happened on the dataplane
	// (@timestamp); the receive time, when the management plane logged
	// it, is kept only when it says something else.
	if okG {
		ev.SetTime(event.FieldTimestamp, generated)
		if okR && !received.Equal(generated) {
			ev.SetTime("panw.panos.received_time", received)
		}
	} else {
		ev.SetTime(event.FieldTimestamp, received)
	}
	ev.SetString("event.timezone", p.loc.String())

	switch typ {
	case "TRAFFIC":
		p.mapTraffic(ev, r)
	case "THREAT", "URL", "WILDFIRE", "DATA":
		p.mapThreat(ev, r)
	case "SYSTEM":
		p.mapSystem(ev, r)
	case "CONFIG":
		p.mapConfig(ev, r)
	case "GLOBALPROTECT":
		p.mapGlobalProtect(ev, r)
	case "HIP-MATCH":
		p.mapHIPMatch(ev, r)
	case "USERID":
		p.mapUserID(ev, r)
	case "AUTH", "AUTHENTICATION":
		p.mapAuth(ev, r)
	case "DECRYPTION":
		p.mapDecryption(ev, r)
	default:
		// A type PAN-OS documents but this dataset does not map column
		// by column (IPTAG, TUNNEL, SCTP, ...): the head is kept.
		ev.Set(event.FieldKind, "event")
	}
	return nil
}

// highRes uses the High Resolution Timestamp column (PAN-OS 10+, RFC 3339
// with milliseconds and the firewall's offset) for @timestamp when it is
// there: it is the generated time, more precise and with its zone.
func (p *parser) highRes(ev *event.Event, r row, i int) {
	s := r.get(i)
	if s == "" {
		return
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() < 1970 {
		ev.SetString("panw.panos.high_res_timestamp", s)
		return
	}
	ev.SetTime("panw.panos.high_res_timestamp", t)
	ev.SetTime(event.FieldTimestamp, t)
	ev.Delete("event.timezone")
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
