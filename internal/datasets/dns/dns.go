// Package dns is the dns.query dataset: DNS query and response logs from
// BIND's query logging (and Infoblox NIOS, which wraps BIND's lines in
// syslog and adds responses), unbound's log-queries and log-replies, and
// Packetbeat DNS documents, which are already ECS and pass through.
package dns

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
const Name = "dns.query"

// Options configure the dataset.
type Options struct {
	// Location is the zone of timestamps that carry none: BIND's
	// "20-Nov-2026 10:00:00.123" and BSD syslog headers (nil means UTC).
	Location *time.Location
	// Now gives the reference time when a record has no receive time
	// (nil means time.Now); a BSD syslog timestamp's year is the one
	// nearest it.
	Now func() time.Time
}

// New returns the dns.query dataset.
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
		Description: "DNS queries and responses: BIND/Infoblox query logs, unbound log-queries/log-replies, Packetbeat DNS documents",
		Parser:      p,
		Claim:       claim,
	}
}

type parser struct {
	loc *time.Location
	now func() time.Time
}

// Parse maps one record: a Packetbeat JSON document, or a BIND or unbound
// line with or without a syslog header.
func (p *parser) Parse(rec dataset.Record) ([]*event.Event, error) {
	data := bytes.TrimSpace(rec.Data)
	if len(data) == 0 {
		return nil, nil
	}
	if data[0] == '{' {
		ev, err := parsePacketbeat(data)
		if err != nil {
			return nil, err
		}
		return []*event.Event{ev}, nil
	}
	ref := rec.Received
	if ref.IsZero() {
		ref = p.now()
	}
	var m parsesyslog.Message
	body := string(data)
	if !ownLogFile(data) {
		m = parsesyslog.ParseString(body, ref, p.loc)
		body = strings.TrimSpace(m.Body)
	}
	ev := event.New(40)
	var err error
	if isUnbound(body) {
		err = p.parseUnbound(ev, body)
	} else {
		err = p.parseBIND(ev, body)
	}
	if err != nil {
		return nil, err
	}
	ev.SetString(event.FieldMessage, body)
	if m.HeaderFound() {
		syslog.SetHeader(ev, &m, p.loc, true)
		// named and unbound are the processes that logged the query.
		ev.SetIfAbsent("process.name", m.AppName)
		if pid, err := strconv.ParseInt(m.ProcID, 10, 64); err == nil {
			ev.SetIfAbsent("process.pid", pid)
		}
	}
	return []*event.Event{ev}, nil
}

// ownLogFile reports a line of BIND's own log file written with
// print-time iso8601 ("2026-11-20T10:00:02.250Z queries: info: client
// ..."), which the syslog parser would take for an rsyslog header with
// "queries:" as the host name.
func ownLogFile(data []byte) bool {
	if len(data) < 20 || data[4] != '-' || data[10] != 'T' {
		return false
	}
	sp := bytes.IndexByte(data, ' ')
	if sp < 0 {
		return false
	}
	next := data[sp+1:]
	if bytes.HasPrefix(next, []byte("client ")) {
		return true
	}
	word, _, _ := bytes.Cut(next, []byte(" "))
	return len(word) > 1 && word[len(word)-1] == ':'
}

// setCommon sets the categorisation every DNS line shares.
func setCommon(ev *event.Event, action string) {
	ev.Set("event.kind", "event")
	ev.Set("event.category", []string{"network"})
	ev.Set("event.type", []string{"protocol"})
	ev.SetString("event.action", action)
	ev.Set("network.protocol", "dns")
}

// setClient sets client.* and source.* (the querier is the source of the
// exchange) and network.type.
func setClient(ev *event.Event, ip string, port int64) {
	ev.SetString("client.ip", ip)
	ev.SetString("source.ip", ip)
	if port > 0 {
		ev.Set("client.port", port)
		ev.Set("source.port", port)
	}
	if strings.IndexByte(ip, ':') >= 0 {
		ev.Set("network.type", "ipv6")
	} else {
		ev.Set("network.type", "ipv4")
	}
}

// setOutcome derives event.outcome from a response code: the server
// answered (NOERROR, NXDOMAIN: the name does not exist, which is an
// answer) or it did not (SERVFAIL, REFUSED, ...).
func setOutcome(ev *event.Event, rcode string) {
	switch rcode {
	case "":
	case "NOERROR", "NXDOMAIN", "NXRRSET", "YXDOMAIN", "YXRRSET":
		ev.Set("event.outcome", "success")
	default:
		ev.Set("event.outcome", "failure")
	}
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("dns: "+format, args...)
}
