// Package kv is the generic key=value dataset: every pair of the line is
// kept under kv.<key> as text, and the few keys whose meaning is not in
// doubt also fill ECS fields.
package kv

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
	parsekv "github.com/mamori-sec/mamori/internal/parse/kv"
)

// Name is the dataset's name and event.dataset value.
const Name = "kv"

// Options configure the dataset.
type Options struct {
	// Location is the zone of date/time pairs without a tz pair (nil
	// means UTC).
	Location *time.Location
}

// New returns the kv dataset.
func New(opts Options) dataset.Dataset {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	return dataset.Dataset{
		Name:        Name,
		Description: "generic key=value lines (FortiGate style); pairs under kv.*",
		Parser:      &parser{loc: loc},
	}
}

type parser struct {
	loc *time.Location
}

// The keys mapped to ECS, by the conversion they need.
var (
	ipKeys = map[string]string{
		"srcip": "source.ip", "src_ip": "source.ip",
		"dstip": "destination.ip", "dst_ip": "destination.ip",
	}
	portKeys = map[string]string{
		"srcport": "source.port", "src_port": "source.port",
		"dstport": "destination.port", "dst_port": "destination.port",
	}
	textKeys = map[string]string{
		"user": "user.name", "username": "user.name",
		"action": "event.action",
	}
)

// Parse maps one line. A line without any pair still becomes an event with
// its message; an empty line carries none.
func (p *parser) Parse(rec dataset.Record) ([]*event.Event, error) {
	line := rec.String()
	if strings.TrimSpace(line) == "" {
		return nil, nil
	}
	var buf [32]parsekv.Pair
	pairs := parsekv.AppendString(buf[:0], line)
	ev := event.New(8 + len(pairs))
	ev.SetString(event.FieldMessage, line)
	var date, clock, tz string
	for _, kv := range pairs {
		ev.SetString("kv."+kv.Key, kv.Value)
		v := strings.TrimSpace(kv.Value)
		switch kv.Key {
		case "date":
			date = v
		case "time":
			clock = v
		case "tz":
			tz = v
		}
		if v == "" {
			continue
		}
		if f, ok := ipKeys[kv.Key]; ok {
			if a, err := netip.ParseAddr(v); err == nil {
				ev.SetString(f, a.Unmap().String())
			}
		} else if f, ok := portKeys[kv.Key]; ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 && n <= 65535 {
				ev.Set(f, n)
			}
		} else if f, ok := textKeys[kv.Key]; ok {
			ev.SetString(f, v)
		}
	}
	if date != "" && clock != "" {
		p.setTimestamp(ev, date, clock, tz)
	}
	return []*event.Event{ev}, nil
}

// setTimestamp reads FortiGate's date=YYYY-MM-DD time=hh:mm:ss and an
// optional tz="+hhmm"; without tz the configured zone applies.
func (p *parser) setTimestamp(ev *event.Event, date, clock, tz string) {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", date+" "+clock, p.loc)
	if err != nil {
		return
	}
	if tz != "" {
		for _, layout := range []string{"2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05 -07:00"} {
			if zt, err := time.Parse(layout, date+" "+clock+" "+tz); err == nil {
				ev.Set(event.FieldTimestamp, zt)
				return
			}
		}
	}
	ev.Set(event.FieldTimestamp, t)
	ev.SetString("event.timezone", p.loc.String())
}
