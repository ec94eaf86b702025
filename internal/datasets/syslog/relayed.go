package syslog

import (
	"bytes"
	"fmt"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"

	parsesyslog "github.com/mamori-sec/mamori/internal/parse/syslog"
)

// JSONBody returns the JSON document of a record that a forwarder may have
// relayed over syslog (cloud and SaaS logs shipped through rsyslog): the
// record itself when it starts with '{' (or a byte-order mark), or else the
// body after a syslog header, with the header. The header is nil when
// there is none, or when no JSON object follows it; the record is then
// returned as it is. ref is the receive time (a BSD timestamp's year), loc
// the zone of timestamps without one. Datasets call SetHeader with the
// header, wrapped, on the events they make of the body.
func JSONBody(data []byte, ref time.Time, loc *time.Location) ([]byte, *parsesyslog.Message) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] == '{' || bytes.HasPrefix(trimmed, []byte("\ufeff")) {
		return trimmed, nil
	}
	m := parsesyslog.Parse(data, ref, loc)
	body := bytes.TrimLeft([]byte(m.Body), " \t")
	if !m.HeaderFound() || len(body) == 0 || body[0] != '{' {
		return trimmed, nil
	}
	return body, &m
}

// ParseRelayedJSON parses a record that a forwarder relayed over syslog
// in front of a JSON document: parse reads the body, and the header fills
// only what the events lack. name prefixes the error for a record that
// holds no JSON object after its header.
func ParseRelayedJSON(rec dataset.Record, loc *time.Location, now func() time.Time, name string,
	parse func([]byte) ([]*event.Event, error)) ([]*event.Event, error) {
	ref := rec.Received
	if ref.IsZero() {
		ref = now()
	}
	body, m := JSONBody(rec.Data, ref, loc)
	if m == nil {
		return nil, fmt.Errorf("%s: record is not a JSON object", name)
	}
	evs, err := parse(body)
	if err != nil {
		return nil, err
	}
	for _, ev := range evs {
		SetHeader(ev, m, loc, true)
	}
	return evs, nil
}
