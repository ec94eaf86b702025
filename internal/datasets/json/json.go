// Package json is the generic JSON dataset: each record is one JSON object,
// flattened into the event as it is (a document already in ECS stays as
// it is). A fluentd / td-agent wrapper around a plain log line is unwrapped
// and the line parsed by the dataset it turns out to be.
package json

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
)

// Name is the dataset's name and event.dataset value.
const Name = "json"

// Options configure the dataset.
type Options struct {
	// Location is the zone of timestamps written without one (nil means
	// UTC).
	Location *time.Location
	// Inner picks the dataset for the line inside a fluentd wrapper; the
	// registry passes its detector here (see internal/datasets). nil
	// leaves wrappers as plain JSON.
	Inner func(line []byte) (dataset.Dataset, bool)
}

// New returns the json dataset.
func New(opts Options) dataset.Dataset {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	return dataset.Dataset{
		Name:        Name,
		Description: "JSON objects, one per record, flattened as they are; fluentd wrappers unwrapped",
		Parser:      &parser{loc: loc, inner: opts.Inner},
	}
}

type parser struct {
	loc   *time.Location
	inner func([]byte) (dataset.Dataset, bool)
}

// errNotObject is wrapped for a record that is valid JSON but no object.
var errNotObject = errors.New("record is not a JSON object")

// timeKeys are the fields read for @timestamp, in order of preference.
var timeKeys = [...]string{event.FieldTimestamp, "timestamp", "time", "ts", "eventTime"}

// Parse maps one JSON object.
func (p *parser) Parse(rec dataset.Record) ([]*event.Event, error) {
	obj, err := decodeObject(rec.Data)
	if err != nil {
		return nil, fmt.Errorf("json dataset: %w", err)
	}
	if evs := p.unwrap(obj, rec); evs != nil {
		return evs, nil
	}
	ev := event.New(2 * len(obj))
	ev.SetObject("", obj)
	// A @timestamp that is not a time would poison the store's time
	// column; the raw record keeps it in event.original.
	ev.Delete(event.FieldTimestamp)
	for _, k := range timeKeys {
		if t, ok := p.parseTime(obj[k]); ok {
			ev.Set(event.FieldTimestamp, t)
			break
		}
	}
	return []*event.Event{ev}, nil
}

func decodeObject(data []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		return nil, fmt.Errorf("decode: %d bytes after the JSON value", len(rest))
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errNotObject
	}
	return obj, nil
}

// isWrapper reports the fluentd / td-agent shape: a string "message" plus
// "hostname" and/or "timestamp", and nothing else but "tag" or "time".
func isWrapper(obj map[string]any) bool {
	if _, ok := obj["message"].(string); !ok {
		return false
	}
	_, host := obj["hostname"]
	_, ts := obj["timestamp"]
	if !host && !ts {
		return false
	}
	for k := range obj {
		switch k {
		case "message", "hostname", "timestamp", "tag", "time":
		default:
			return false
		}
	}
	return true
}

// unwrap parses the line inside a fluentd wrapper with the dataset the
// detector picks. It returns nil, so that the object is kept as plain
// JSON, when the record is no wrapper or the line cannot be parsed.
func (p *parser) unwrap(obj map[string]any, rec dataset.Record) []*event.Event {
	if p.inner == nil || !isWrapper(obj) {
		return nil
	}
	msg := obj["message"].(string)
	data := []byte(msg)
	ds, ok := p.inner(data)
	if !ok {
		return nil
	}
	evs, err := ds.Parser.Parse(dataset.Record{Data: data, Received: rec.Received, Peer: rec.Peer})
	if err != nil || len(evs) == 0 {
		return nil
	}
	host, _ := obj["hostname"].(string)
	tag, _ := obj["tag"].(string)
	ts, hasTS := p.parseTime(obj["timestamp"])
	if !hasTS {
		ts, hasTS = p.parseTime(obj["time"])
	}
	for _, ev := range evs {
		ev.SetIfAbsent(event.FieldDataset, ds.Name)
		ev.SetString(event.FieldOriginal, msg)
		// The wrapper names the machine that shipped the line, which is
		// the log's host unless the line names one itself (a syslog
		// header, a Deep Security dvchost), as on a central collector.
		ev.SetIfAbsent("host.name", host)
		ev.SetIfAbsent("host.hostname", host)
		ev.SetString("fluentd.hostname", host)
		ev.SetString("fluentd.tag", tag)
		if hasTS {
			ev.SetIfAbsent(event.FieldTimestamp, ts)
		}
	}
	return evs
}

// parseTime reads a decoded JSON value as a time: RFC 3339 text (a time
// without zone is in the configured location), or a number of seconds,
// milliseconds, microseconds or nanoseconds since the epoch, told apart by
// magnitude.
func (p *parser) parseTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return time.Time{}, false
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t, true
		}
		for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
			if t, err := time.ParseInLocation(layout, s, p.loc); err == nil {
				return t, true
			}
		}
		return epoch(json.Number(s))
	case json.Number:
		return epoch(x)
	}
	return time.Time{}, false
}

// epoch reads a number of seconds, milliseconds, microseconds or
// nanoseconds since the epoch. Integers are scaled exactly; fractions
// (seconds with decimals) are rounded to the microsecond.
func epoch(n json.Number) (time.Time, bool) {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		switch {
		case i <= 0:
			return time.Time{}, false
		case i < 1e11:
			return time.Unix(i, 0).UTC(), true
		case i < 1e14:
			return time.UnixMilli(i).UTC(), true
		case i < 1e17:
			return time.UnixMicro(i).UTC(), true
		default:
			return time.Unix(0, i).UTC(), true
		}
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 || f >= 1e11 {
		return time.Time{}, false
	}
	return time.UnixMicro(int64(math.Round(f * 1e6))).UTC(), true
}
