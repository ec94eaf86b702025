package cylance

import (
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/datasets/syslog"
	"github.com/mamori-sec/mamori/internal/event"
	parsesyslog "github.com/mamori-sec/mamori/internal/parse/syslog"
)

// markers name the product in front of the payload; BlackBerry renamed
// CylancePROTECT Desktop to BlackBerry Protect Desktop.
var markers = [...]string{"CylancePROTECT", "BlackBerry Protect"}

// findMarker returns where the product name starts, and its length.
func findMarker(s string) (int, int) {
	for _, m := range markers {
		if i := strings.Index(s, m); i >= 0 {
			return i, len(m)
		}
	}
	return -1, 0
}

// parseSyslog maps "[syslog header] CylancePROTECT[:] Event Type: X,
// Event Name: Y, Key: value, ...".
func (p *parser) parseSyslog(s string, ref time.Time) (*event.Event, error) {
	mi, ml := findMarker(s)
	if mi < 0 {
		return nil, errorf("no CylancePROTECT in the record")
	}
	start := payloadStart(s[mi+ml:])
	if start < 0 {
		return nil, errorf("no \"Event Type:\" or \"Event Name:\" after CylancePROTECT")
	}
	payload := strings.TrimSpace(s[mi+ml+start:])
	ev := event.New(48)
	ev.Set("observer.vendor", "Cylance")
	ev.Set("observer.product", "PROTECT")
	ev.SetString(event.FieldMessage, payload)
	var f fields
	eachPair(payload, func(key, value string) { f.mapPair(ev, key, value) })
	f.categorise(ev)
	p.setHeader(ev, s, s[:mi], ref)
	return ev, nil
}

// payloadStart finds the first field of the payload. Relays and the
// generators of test data put words (even a stray "Event Type: X,")
// between the product name and the payload, so the payload is taken to
// start at the "Event Type:" that directly precedes "Event Name:".
func payloadStart(s string) int {
	name := strings.Index(s, "Event Name:")
	if name < 0 {
		return strings.Index(s, "Event Type:")
	}
	if typ := strings.LastIndex(s[:name], "Event Type:"); typ >= 0 {
		return typ
	}
	return name
}

// setHeader sets what the record's header says: the syslog header's
// time, host and priority when it has one, else a leading
// "dd-Mon-yyyy H:MM:SS" or "yyyy-m-dTh:mm:ss" time and the host name
// written just before the product name.
func (p *parser) setHeader(ev *event.Event, s, head string, ref time.Time) {
	m := parsesyslog.ParseString(s, ref, p.loc)
	if m.HeaderFound() && m.HasTimestamp {
		syslog.SetHeader(ev, &m, p.loc, true)
	} else {
		if t, ok := headerTime(head, p.loc); ok {
			ev.Set(event.FieldTimestamp, t)
			ev.SetString("event.timezone", p.loc.String())
		}
		if f := strings.Fields(head); len(f) > 0 {
			host := f[len(f)-1]
			ev.SetString("log.syslog.hostname", host)
			ev.SetIfAbsent("host.name", host)
			ev.SetIfAbsent("host.hostname", host)
		}
	}
	// The sender's name is a host the event mentions even where the
	// device is the event's host.
	if h := ev.String("log.syslog.hostname"); h != "" && h != "-" {
		ev.Append(event.RelatedHosts, h)
	}
}
