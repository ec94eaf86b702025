// Package guardduty is the aws.guardduty dataset: Amazon GuardDuty findings
// as GuardDuty exports them to S3 (one finding per line), inside an
// EventBridge "GuardDuty Finding" event, or in the GetFindings API's
// {"findings":[...]} shape, mapped to ECS alerts with every finding field
// kept under aws.guardduty.*.
package guardduty

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	syslogds "github.com/mamori-sec/mamori/internal/datasets/syslog"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/parse/jsontree"
)

// Name is the dataset's name and event.dataset value.
const Name = "aws.guardduty"

// Options configure the dataset.
type Options struct {
	// Location is the zone of a syslog header's timestamp written without
	// one, for findings relayed over syslog (nil means UTC). GuardDuty's
	// own times always carry a zone.
	Location *time.Location
	// Now is the clock used for a syslog header's year when a record has
	// no receive time (nil means time.Now).
	Now func() time.Time
}

// New returns the aws.guardduty dataset.
func New(opts Options) dataset.Dataset {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return dataset.Dataset{
		Name:        Name,
		Description: "Amazon GuardDuty findings: S3 exports, EventBridge events, GetFindings output",
		Parser:      &parser{loc: loc, now: now},
		Claim:       Claim,
		// GuardDuty's export to S3:
		// AWSLogs/{account}/GuardDuty/{region}/{yyyy}/{mm}/{dd}/{uuid}.jsonl.gz
		Keys: []string{"**/AWSLogs/*/GuardDuty/*/*/*/*/*.jsonl*"},
	}
}

type parser struct {
	loc *time.Location
	now func() time.Time
}

// errNotGuardDuty is wrapped for a JSON object that is none of the shapes
// findings arrive in.
var errNotGuardDuty = errors.New("not a GuardDuty finding, findings list or EventBridge finding event")

// Parse maps one record: a finding, an EventBridge event holding one, or
// a findings list (one event per finding, in order; none for an empty
// list).
func (p *parser) Parse(rec dataset.Record) ([]*event.Event, error) {
	data := bytes.TrimSpace(rec.Data)
	if len(data) == 0 {
		return nil, nil
	}
	if data[0] != '{' {
		return p.parseRelayed(rec)
	}
	return parseJSON(data)
}

// parseRelayed handles a record that a forwarder sent over syslog: the
// header is read with parse/syslog and fills only what the finding lacks.
func (p *parser) parseRelayed(rec dataset.Record) ([]*event.Event, error) {
	return syslogds.ParseRelayedJSON(rec, p.loc, p.now, "guardduty", parseJSON)
}

// parseJSON reads the JSON object in data or, when a delivery stream
// (Firehose) wrote EventBridge events back to back, every object in turn.
func parseJSON(data []byte) ([]*event.Event, error) {
	top, err := jsontree.Parse(data)
	if err == nil {
		evs, err := objectEvents(data, top)
		if err != nil {
			return nil, fmt.Errorf("guardduty: %w", err)
		}
		return evs, nil
	}
	// Not one document: perhaps several. A record that is no sequence
	// either keeps the first error, which says what is wrong.
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []*event.Event
	for n := 1; ; n++ {
		var raw json.RawMessage
		if derr := dec.Decode(&raw); derr == io.EOF {
			break
		} else if derr != nil {
			if n == 1 {
				return nil, fmt.Errorf("guardduty: %w", err)
			}
			return nil, fmt.Errorf("guardduty: %sdecode: %w", nth(n), derr)
		}
		top, err := jsontree.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("guardduty: %s%w", nth(n), err)
		}
		evs, err := objectEvents(raw, top)
		if err != nil {
			return nil, fmt.Errorf("guardduty: %s%w", nth(n), err)
		}
		out = append(out, evs...)
	}
	return out, nil
}

// nth names the n-th of several concatenated objects in an error; the
// first (usually the only one) goes unnamed.
func nth(n int) string {
	if n == 1 {
		return ""
	}
	return fmt.Sprintf("object %d: ", n)
}

// objectEvents maps one top-level value, parsed as top from raw.
func objectEvents(raw []byte, top jsontree.Value) ([]*event.Event, error) {
	if top.Kind() != jsontree.Object {
		return nil, errors.New("record is not a JSON object")
	}
	if dt := top.Get("detail-type"); dt.Exists() {
		return eventBridge(top, dt.Str(), len(raw))
	}
	for _, k := range [...]string{"findings", "Findings"} {
		if list := top.Get(k); list.Exists() {
			return listEvents(raw, k, list)
		}
	}
	r, ok := asFinding(top)
	if !ok {
		return nil, errNotGuardDuty
	}
	return []*event.Event{mapFinding(r, top, len(raw))}, nil
}

// eventBridge maps the finding in a "GuardDuty Finding" event; the
// envelope's account, region and time fill what the finding lacks.
func eventBridge(top jsontree.Value, detailType string, size int) ([]*event.Event, error) {
	if detailType != "GuardDuty Finding" {
		return nil, fmt.Errorf("EventBridge %q event is not a GuardDuty finding", detailType)
	}
	detail := top.Get("detail")
	r, ok := asFinding(detail)
	if !ok {
		return nil, fmt.Errorf("EventBridge GuardDuty Finding: detail is not a finding")
	}
	ev := mapFinding(r, detail, size)
	ev.SetIfAbsent("cloud.account.id", top.Get("account").Str())
	ev.SetIfAbsent("cloud.region", top.Get("region").Str())
	if t, ok := parseTime(top.Get("time").Str()); ok {
		ev.SetIfAbsent(event.FieldTimestamp, t)
	}
	return []*event.Event{ev}, nil
}

// listEvents maps each finding of a GetFindings response, written by the
// API ("findings") or the AWS CLI ("Findings"); each event keeps its own
// finding as event.original, the list being only a wrapper.
func listEvents(raw []byte, key string, list jsontree.Value) ([]*event.Event, error) {
	if list.Kind() != jsontree.Array {
		return nil, fmt.Errorf("%s is not a list", key)
	}
	var texts map[string][]json.RawMessage
	// The record parsed once already; this pass only keeps each finding's
	// text, which cannot fail where the first succeeded.
	_ = json.Unmarshal(raw, &texts)
	originals := texts[key]
	out := make([]*event.Event, 0, list.Len())
	i := 0
	for el := range list.Elements() {
		r, ok := asFinding(el)
		if !ok {
			return nil, fmt.Errorf("%s[%d]: not a finding", key, i)
		}
		size := 2048
		if i < len(originals) {
			size = len(originals[i])
		}
		ev := mapFinding(r, el, size)
		if i < len(originals) {
			ev.SetString(event.FieldOriginal, string(originals[i]))
		}
		out = append(out, ev)
		i++
	}
	return out, nil
}

// asFinding recognises a finding, camelCase as the API, EventBridge and S3
// exports write it or PascalCase as the AWS CLI prints it.
func asFinding(v jsontree.Value) (reader, bool) {
	switch {
	case v.Get("schemaVersion").Exists() && v.Get("type").Exists():
		return reader{}, true
	case v.Get("SchemaVersion").Exists() && v.Get("Type").Exists():
		return reader{pascal: true}, true
	}
	return reader{}, false
}

// reader reads a finding's members by their documented camelCase names,
// in PascalCase when the finding comes from the AWS CLI.
type reader struct{ pascal bool }

// get returns member k of object v.
func (r reader) get(v jsontree.Value, k string) jsontree.Value {
	if r.pascal && k != "" && k[0] >= 'a' && k[0] <= 'z' {
		k = string(k[0]-('a'-'A')) + k[1:]
	}
	return v.Get(k)
}

// str returns the string member k of object v, "" otherwise.
func (r reader) str(v jsontree.Value, k string) string { return r.get(v, k).Str() }
