// Package cloudtrail is the aws.cloudtrail dataset: AWS CloudTrail records
// as CloudTrail delivers them to S3 ({"Records":[...]}, one event per
// element), one record per line (CloudWatch Logs exports), or inside an
// EventBridge event, mapped to ECS with vendor fields under aws.cloudtrail.*.
package cloudtrail

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	syslogds "github.com/mamori-sec/mamori/internal/datasets/syslog"
	"github.com/mamori-sec/mamori/internal/event"
)

// Name is the dataset's name and event.dataset value.
const Name = "aws.cloudtrail"

// Options configure the dataset.
type Options struct {
	// Location is the zone of a syslog header's timestamp written without
	// one, for records relayed over syslog (nil means UTC). CloudTrail's
	// own times always carry a zone.
	Location *time.Location
	// Now is the clock used for a syslog header's year when a record has
	// no receive time (nil means time.Now).
	Now func() time.Time
}

// New returns the aws.cloudtrail dataset.
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
		Description: "AWS CloudTrail records: S3 log files, single records, EventBridge events",
		Parser:      &parser{loc: loc, now: now},
		Claim:       Claim,
		// CloudTrail's S3 layouts: a trail's own prefix
		// AWSLogs/{account}/CloudTrail/{region}/{yyyy}/{mm}/{dd}/{file},
		// the organisation trail's AWSLogs/{org-id}/{account}/CloudTrail/...,
		// and the same for Insights events. Digest files live under
		// CloudTrail-Digest/ and are named *_CloudTrail-Digest_*, so no
		// pattern matches them.
		Keys: []string{
			"**/AWSLogs/*/CloudTrail/*/*/*/*/*_CloudTrail_*.json*",
			"**/AWSLogs/o-*/*/CloudTrail/*/*/*/*/*_CloudTrail_*.json*",
			"**/AWSLogs/*/CloudTrail-Insight/*/*/*/*/*_CloudTrail-Insight_*.json*",
			"**/AWSLogs/o-*/*/CloudTrail-Insight/*/*/*/*/*_CloudTrail-Insight_*.json*",
		},
	}
}

type parser struct {
	loc *time.Location
	now func() time.Time
}

// errNotCloudTrail is wrapped for a JSON object that is none of the shapes
// CloudTrail records arrive in.
var errNotCloudTrail = errors.New("not a CloudTrail record, Records file or EventBridge event")

// Parse maps one record: a Records file yields one event per element, in
// order; a digest file yields none.
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
// header is read with parse/syslog and fills only what the record lacks.
func (p *parser) parseRelayed(rec dataset.Record) ([]*event.Event, error) {
	return syslogds.ParseRelayedJSON(rec, p.loc, p.now, "cloudtrail", parseJSON)
}

// parseJSON reads every JSON object in data: one usually, several when a
// delivery stream wrote objects back to back on one line.
func parseJSON(data []byte) ([]*event.Event, error) {
	sc := scanner{s: string(data)}
	var out []*event.Event
	for n := 1; sc.more(); n++ {
		if sc.peek() != '{' {
			return nil, fmt.Errorf("cloudtrail: %sdata after the JSON object", nth(n))
		}
		var env envelope
		sc.object(func(key string) { env.member(&sc, key) })
		if sc.err != nil {
			return nil, fmt.Errorf("cloudtrail: %sinvalid JSON %w", nth(n), sc.err)
		}
		evs, err := env.events()
		if err != nil {
			return nil, fmt.Errorf("cloudtrail: %s%w", nth(n), err)
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

func (env *envelope) events() ([]*event.Event, error) {
	switch {
	case env.hasRecords:
		return recordsEvents(env.Records)
	case env.DetailType != "" && env.Detail != "":
		return env.eventBridge()
	case env.isRecord():
		return []*event.Event{env.record.event()}, nil
	case env.DigestStartTime != "" || env.DigestS3Object != "":
		// A digest file only proves the integrity of log files: no events.
		return nil, nil
	}
	return nil, errNotCloudTrail
}

// recordsEvents maps each element of a CloudTrail log file. Each event
// keeps its own element as event.original: the file is only a wrapper.
func recordsEvents(elems []string) ([]*event.Event, error) {
	out := make([]*event.Event, 0, len(elems))
	for i, raw := range elems {
		if raw == "" || raw[0] != '{' {
			return nil, fmt.Errorf("log file record %d: not a JSON object", i+1)
		}
		r, err := decodeRecord(raw)
		if err != nil {
			return nil, fmt.Errorf("log file record %d: %w", i+1, err)
		}
		ev := r.event()
		ev.SetString(event.FieldOriginal, raw)
		out = append(out, ev)
	}
	return out, nil
}

// eventBridge maps the CloudTrail record in an EventBridge event's detail;
// the envelope's account, region and time fill what the record lacks.
func (env *envelope) eventBridge() ([]*event.Event, error) {
	if env.Detail[0] != '{' {
		return nil, fmt.Errorf("EventBridge %q event: detail is not an object", env.DetailType)
	}
	r, err := decodeRecord(env.Detail)
	if err != nil {
		return nil, fmt.Errorf("EventBridge detail: %w", err)
	}
	if !r.isRecord() {
		return nil, fmt.Errorf("EventBridge %q event: detail is not a CloudTrail record", env.DetailType)
	}
	ev := r.event()
	ev.SetIfAbsent("cloud.account.id", env.Account)
	ev.SetIfAbsent("cloud.region", env.Region)
	if t, ok := parseTime(env.Time); ok {
		ev.SetIfAbsent(event.FieldTimestamp, t)
	}
	ev.SetString("aws.cloudtrail.eventbridge.detail_type", env.DetailType)
	return []*event.Event{ev}, nil
}
