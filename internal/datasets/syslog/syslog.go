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
	// (nil means time.Now). A BSD timestamp's year is the latest that puts
	// it no more than a day after it.
	Now func() time.Time
	// Body picks the dataset for a message body in another format, or
	// reports false to keep the message as syslog. The registry passes a
	// detector here (see internal/datasets); nil keeps every message as
	// syslog.
	Body func(body []byte) (dataset.Dataset, bool)
	// Claim picks a specific dataset that owns the whole message (a
	// firewall, sshd), or reports false. The registry passes its Claim
	// here; nil keeps every message as syslog.
	Claim func(dataset.Line) (dataset.Dataset, bool)
}

// New returns the syslog dataset.
func New(opts Options) dataset.Dataset {
	p := &parser{loc: opts.Location, now: opts.Now, body: opts.Body, claim: opts.Claim}
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
	loc   *time.Location
	now   func() time.Time
	body  func([]byte) (dataset.Dataset, bool)
	claim func(dataset.Line) (dataset.Dataset, bool)
}

// Parse never fails: a line without a syslog header becomes a message.
// An empty record carries no event.
func (p *parser) Parse(rec dataset.Record) ([]*event.Event, error) {
	ref := rec.Received
	if ref.IsZero() {
		ref = p.now()
	}
	m := parsesyslog.ParseString(rec.String(), ref, p.loc)
	if !m.HeaderFound() && !m.HasPriority && m.Body == "" {
		return nil, nil
	}
	claimErr := ""
	if p.claim != nil {
		if ds, ok := p.claim(dataset.Line{Data: rec.Data, App: m.AppName, Body: []byte(m.Body)}); ok {
			evs, err := ds.Parser.Parse(rec)
			if err == nil {
				for _, ev := range evs {
					ev.SetIfAbsent(event.FieldDataset, ds.Name)
				}
				return evs, nil
			}
			// The message stays syslog, so its header and text are kept
			// and searchable, and says why the specific dataset failed.
			claimErr = err.Error()
		}
	}
	if evs := p.parseBody(&m, rec); evs != nil {
		return evs, nil
	}
	ev := event.New(24)
	SetHeader(ev, &m, p.loc, false)
	ev.SetString(event.FieldMessage, m.Body)
	if claimErr != "" {
		ev.SetString(event.FieldError, claimErr)
	}
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
	evs, err := ds.Parser.Parse(dataset.Record{Data: data, Text: m.Body, Received: rec.Received, Peer: rec.Peer})
	if err != nil || len(evs) == 0 {
		return nil
	}
	for _, ev := range evs {
		ev.SetIfAbsent(event.FieldDataset, ds.Name)
		SetHeader(ev, m, p.loc, true)
	}
	return evs
}

// SetHeader sets the fields a syslog header carries: @timestamp,
// log.syslog.*, host.name and, unless wrapped, process.name and
// process.pid. loc is the zone assumed for a timestamp without one. On an
// event made by a specific dataset from the message's body (wrapped), the
// header only fills what that dataset left empty, and the tag is not
// taken for the event's process (a firewall's tag is no process): such
// datasets set process.* themselves where the tag is one.
func SetHeader(ev *event.Event, m *parsesyslog.Message, loc *time.Location, wrapped bool) {
	set := ev.Set
	if wrapped {
		set = ev.SetIfAbsent
	}
	if m.HasTimestamp && !(wrapped && ev.Has(event.FieldTimestamp)) {
		ev.Set(event.FieldTimestamp, m.Timestamp)
		if m.ZoneAssumed {
			ev.SetString("event.timezone", loc.String())
		}
	}
	if m.HasPriority {
		ev.Set("log.syslog.priority", m.Priority)
		ev.Set("log.syslog.facility.code", m.Facility)
		ev.SetString("log.syslog.facility.name", parsesyslog.FacilityName(m.Facility))
		ev.Set("log.syslog.severity.code", m.Severity)
		ev.SetString("log.syslog.severity.name", parsesyslog.SeverityName(m.Severity))
	}
	if m.Version > 0 {
		ev.SetString("log.syslog.version", strconv.Itoa(m.Version))
	}
	ev.SetString("log.syslog.hostname", m.Hostname)
	set("host.hostname", m.Hostname)
	set("host.name", m.Hostname)
	ev.SetString("log.syslog.appname", m.AppName)
	ev.SetString("log.syslog.procid", m.ProcID)
	ev.SetString("log.syslog.msgid", m.MsgID)
	if !wrapped {
		ev.SetString("process.name", m.AppName)
		if pid, err := strconv.ParseInt(m.ProcID, 10, 64); err == nil {
			ev.Set("process.pid", pid)
		}
	}
	for _, el := range m.StructuredData {
		prefix := "log.syslog.structured_data." + el.ID + "."
		for _, prm := range el.Params {
			ev.SetString(prefix+prm.Name, prm.Value)
		}
	}
}
