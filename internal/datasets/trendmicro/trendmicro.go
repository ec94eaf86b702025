// Package trendmicro is the trendmicro.deepsecurity dataset: Trend Micro
// Deep Security Agent and Manager events in CEF, as they arrive over syslog
// (with or without the syslog header) or inside fluentd's JSON wrapper,
// mapped to ECS per event class (firewall, intrusion prevention,
// anti-malware, integrity monitoring, log inspection, web reputation,
// application control, device control and manager system events).
package trendmicro

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/cef"
	"github.com/mamori-sec/mamori/internal/datasets/syslog"
	"github.com/mamori-sec/mamori/internal/event"
	parsecef "github.com/mamori-sec/mamori/internal/parse/cef"
	parsesyslog "github.com/mamori-sec/mamori/internal/parse/syslog"
)

// Name is the dataset's name and event.dataset value.
const Name = "trendmicro.deepsecurity"

// Options configure the dataset.
type Options struct {
	// Location is the zone of times that carry none: BSD syslog headers
	// and CEF rt values without a zone (nil means UTC).
	Location *time.Location
	// Now gives the reference time when a record has no receive time
	// (nil means time.Now); a BSD timestamp's year is the one nearest it.
	Now func() time.Time
}

// New returns the trendmicro.deepsecurity dataset.
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
		Description: "Trend Micro Deep Security Agent and Manager events (CEF over syslog, or fluentd ds_agent files)",
		Parser:      p,
		Claim:       Claim,
		// fluentd's S3 output as Trend Micro documents it for agents:
		// ds_agent/{yyyy}/{mm}/{dd}/{hh}_{host}_{n}.gz, under any prefix.
		Keys: []string{"**/ds_agent/*/*/*/*_*.gz"},
	}
}

// Claim reports a CEF record from Deep Security: the syslog body, or the
// whole line when it has no syslog header, starts with
// "CEF:<version>|Trend Micro|Deep Security".
func Claim(l dataset.Line) bool {
	return isDeepSecurity(l.Body)
}

const deepSecurityVendor = "|Trend Micro|Deep Security"

// isDeepSecurity looks at the CEF version and the first two header
// fields only: no parse.
func isDeepSecurity[T ~string | ~[]byte](b T) bool {
	if !parsecef.Is(b) {
		return false
	}
	i := 4
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return len(b)-i >= len(deepSecurityVendor) && string(b[i:i+len(deepSecurityVendor)]) == deepSecurityVendor
}

type parser struct {
	loc *time.Location
	now func() time.Time
	// exts holds *[]parsecef.Extension to parse records' extensions into:
	// they are needed only while a record is mapped.
	exts sync.Pool
}

// Parse maps one record: a CEF line, a syslog message whose body is CEF, or
// a fluentd wrapper ({"message": ..., "hostname": ..., "timestamp": ...})
// around either.
func (p *parser) Parse(rec dataset.Record) ([]*event.Event, error) {
	text := strings.TrimSpace(rec.String())
	if len(text) == 0 {
		return nil, nil
	}
	ref := rec.Received
	if ref.IsZero() {
		ref = p.now()
	}
	if text[0] == '{' {
		return p.parseWrapper(bytes.TrimSpace(rec.Data), ref)
	}
	ev, err := p.parseLine(text, ref)
	if err != nil {
		return nil, err
	}
	return []*event.Event{ev}, nil
}

// wrapper is the fluentd record the Deep Security agent's log files are
// shipped in.
type wrapper struct {
	Message   *string         `json:"message"`
	Hostname  string          `json:"hostname"`
	Timestamp json.RawMessage `json:"timestamp"`
}

func (p *parser) parseWrapper(data []byte, ref time.Time) ([]*event.Event, error) {
	var w wrapper
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("trendmicro: fluentd record: %w", err)
	}
	if w.Message == nil {
		return nil, errors.New("trendmicro: fluentd record has no \"message\"")
	}
	inner := strings.TrimSpace(*w.Message)
	if inner == "" {
		return nil, nil
	}
	ev, err := p.parseLine(inner, ref)
	if err != nil {
		return nil, err
	}
	// The record is the wrapper: the event's own text is the line.
	ev.SetString(event.FieldOriginal, inner)
	if host := strings.TrimSpace(w.Hostname); host != "" {
		ev.SetIfAbsent("host.name", host)
		ev.SetIfAbsent("host.hostname", host)
		ev.SetIfAbsent("server.name", host)
	}
	if t, ok := wrapperTime(w.Timestamp); ok {
		ev.SetIfAbsent(event.FieldTimestamp, t)
	}
	return []*event.Event{ev}, nil
}

// wrapperTime reads fluentd's "timestamp": RFC 3339 text.
func wrapperTime(raw json.RawMessage) (time.Time, bool) {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// parseLine maps a CEF line with or without a syslog header.
func (p *parser) parseLine(line string, ref time.Time) (*event.Event, error) {
	body := line // the record from "CEF:" on
	var hdr *parsesyslog.Message
	if !parsecef.Is(line) {
		m := parsesyslog.ParseString(line, ref, p.loc)
		i := strings.Index(m.Body, "CEF:")
		if i < 0 {
			return nil, errors.New("trendmicro: no CEF record (want CEF:0|Trend Micro|Deep Security ...)")
		}
		// A tag the syslog parser could not tell from text ("dsa CEF:0|")
		// stays in front of the record; the record starts at "CEF:".
		body = m.Body[i:]
		if m.HeaderFound() || m.HasPriority {
			hdr = &m
		}
	}
	exts, _ := p.exts.Get().(*[]parsecef.Extension)
	if exts == nil {
		exts = new([]parsecef.Extension)
	}
	defer p.exts.Put(exts)
	msg, err := parsecef.ParseStringAppend(body, (*exts)[:0])
	if err != nil {
		return nil, fmt.Errorf("trendmicro: %w", err)
	}
	*exts = msg.Extensions // keep what it grew to
	// Room for what CEF, Deep Security, the syslog header and the pipeline
	// add: some forty fields, and one or two for each extension (the
	// golden cases need 21 to 52 more fields than extensions).
	ev := event.New(36 + 4*len(msg.Extensions)/3)
	if isDeepSecurity(body) {
		// Trend Micro's own extensions go to the dataset's namespace, not
		// under cef.extensions: the generic mapping does not see them.
		generic := msg
		generic.Extensions = msg.Extensions[:vendorKeysLast(msg.Extensions)]
		cef.Map(ev, &generic, ref, p.loc)
		mapDeepSecurity(ev, &msg)
	} else {
		cef.Map(ev, &msg, ref, p.loc)
	}
	if hdr != nil {
		syslog.SetHeader(ev, hdr, p.loc, true)
		if h := ev.String("host.name"); h != "" {
			ev.SetIfAbsent("server.name", h)
		}
	}
	return ev, nil
}
