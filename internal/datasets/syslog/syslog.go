// Package syslog is the generic syslog dataset: one syslog message (RFC
// 5424, RFC 3164, rsyslog file lines) mapped to ECS. A message whose body
// is another format, such as CEF or LEEF, is handed to that format's
// dataset and keeps the syslog header's time, host and priority.
package syslog

import (
	"strconv"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
	parsesyslog "github.com/mamori-sec/mamori/internal/parse/syslog"
)

// Name is the dataset's name and event.dataset value.
const Name = "syslog"

// Options configure the dataset.
type Options struct {
	// Location is the zone of timestamps that carry none, such as every
	// BSD timestamp (nil means UTC).
	Location *time.Location
	// Now gives the reference time when a record has no receive time
	// (nil means time.Now). A BSD timestamp's year is the one nearest it.
	Now func() time.Time
	// Body picks the dataset for a message body in another format, or
	// reports false to keep the message as syslog. The registry passes a
	// detector here (see internal/datasets); nil keeps every message as
	// syslog.
	Body func(body []byte) (dataset.Dataset, bool)
}

// New returns the syslog dataset.
func New(opts Options) dataset.Dataset {
	p := &parser{loc: opts.Location, now: opts.Now, body: opts.Body}
	if p.loc == nil {
		p.loc = time.UTC
	}
	if p.now == nil {
		p.now = time.Now
	}
	return dataset.Dataset{
		Name:        Name,
		Description: "syslog messages (RFC 5424, RFC 3164, rsyslog files); CEF and LEEF bodies are handed on",
		Parser:      p,
	}
}

type parser struct {
	loc  *time.Location
	now  func() time.Time
	body func([]byte) (dataset.Dataset, bool)
}

// Parse never fails: a line without a syslog header becomes a message.
// An empty record carries no event.
func (p *parser) Parse(rec dataset.Record) ([]*event.Event, error) {
	ref := rec.Received
	if ref.IsZero() {
		ref = p.now()
	}
	m := parsesyslog.Parse(rec.Data, ref, p.loc)
	if !m.HeaderFound() && !m.HasPriority && m.Body == "" {
		return nil, nil
	}
	if evs := p.parseBody(&m, rec); evs != nil {
		return evs, nil
	}
	ev := event.New(24)
	p.setHeader(ev, &m, false)
	ev.Set(event.FieldMessage, m.Body)
	return []*event.Event{ev}, nil
}

// parseBody hands the body to another dataset when one claims it. It
// returns nil when the message stays syslog, including when the other
// dataset cannot parse the body after all.
func (p *parser) parseBody(m *parsesyslog.Message, rec dataset.Record) []*event.Event {
	if p.body == nil || m.Body == "" {
		return nil
	}
	data := []byte(m.Body)
	ds, ok := p.body(data)
	if !ok {
		return nil
	}
	evs, err := ds.Parser.Parse(dataset.Record{Data: data, Received: rec.Received, Peer: rec.Peer})
	if err != nil || len(evs) == 0 {
		return nil
	}
	for _, ev := range evs {
		ev.SetIfAbsent(event.FieldDataset, ds.Name)
		p.setHeader(ev, m, true)
	}
	return evs
}

// setHeader sets the fields the syslog header carries. On an event made
// by another dataset (wrapped), the header only fills what that dataset
// left empty, and the tag is not taken for the event's process.
func (p *parser) setHeader(ev *event.Event, m *parsesyslog.Message, wrapped bool) {
	set := ev.Set
	if wrapped {
		set = ev.SetIfAbsent
	}
	if m.HasTimestamp && !(wrapped && ev.Has(event.FieldTimestamp)) {
		ev.Set(event.FieldTimestamp, m.Timestamp)
		if m.ZoneAssumed {
			ev.Set("event.timezone", p.loc.String())
		}
	}
	if m.HasPriority {
		ev.Set("log.syslog.priority", m.Priority)
		ev.Set("log.syslog.facility.code", m.Facility)
		ev.Set("log.syslog.facility.name", parsesyslog.FacilityName(m.Facility))
		ev.Set("log.syslog.severity.code", m.Severity)
		ev.Set("log.syslog.severity.name", parsesyslog.SeverityName(m.Severity))
	}
	if m.Version > 0 {
		ev.Set("log.syslog.version", strconv.Itoa(m.Version))
	}
	ev.Set("log.syslog.hostname", m.Hostname)
	set("host.hostname", m.Hostname)
	set("host.name", m.Hostname)
	ev.Set("log.syslog.appname", m.AppName)
	ev.Set("log.syslog.procid", m.ProcID)
	ev.Set("log.syslog.msgid", m.MsgID)
	if !wrapped {
		ev.Set("process.name", m.AppName)
		if pid, err := strconv.ParseInt(m.ProcID, 10, 64); err == nil {
			ev.Set("process.pid", pid)
		}
	}
	for _, el := range m.StructuredData {
		prefix := "log.syslog.structured_data." + el.ID + "."
		for _, prm := range el.Params {
			ev.Set(prefix+prm.Name, prm.Value)
		}
	}
}
