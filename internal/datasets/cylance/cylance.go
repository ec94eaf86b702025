// Package cylance is the cylance.protect dataset: CylancePROTECT (BlackBerry
// Protect) syslog events — threats, exploit attempts, script and
// application control, device control, devices and the console's audit
// log — and the threat and device objects of the Cylance v2 API, mapped to
// ECS with the rest kept under cylance.protect.*.
package cylance

import (
	"bytes"
	"fmt"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
)

// Name is the dataset's name and event.dataset value.
const Name = "cylance.protect"

// Options configure the dataset.
type Options struct {
	// Location is the zone of syslog header times that carry none (nil
	// means UTC). The payload's own dates (Found Date) and the API's are
	// UTC.
	Location *time.Location
	// Now gives the reference time when a record has no receive time
	// (nil means time.Now); a BSD syslog timestamp's year is the one
	// nearest it.
	Now func() time.Time
}

// New returns the cylance.protect dataset.
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
		Description: "CylancePROTECT syslog events and Cylance API threat and device objects",
		Parser:      p,
		Claim:       claim,
	}
}

type parser struct {
	loc *time.Location
	now func() time.Time
}

// Parse maps a syslog record to one event, or an API record (one object,
// or a page of them) to one event per object.
func (p *parser) Parse(rec dataset.Record) ([]*event.Event, error) {
	data := bytes.TrimSpace(rec.Data)
	if len(data) == 0 {
		return nil, nil
	}
	if data[0] == '{' {
		return parseAPI(data)
	}
	ref := rec.Received
	if ref.IsZero() {
		ref = p.now()
	}
	ev, err := p.parseSyslog(string(data), ref)
	if err != nil {
		return nil, err
	}
	return []*event.Event{ev}, nil
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("cylance: "+format, args...)
}
