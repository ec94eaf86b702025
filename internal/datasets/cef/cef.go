// Package cef is the generic CEF dataset: ArcSight Common Event Format
// records mapped to ECS, with every extension kept under
// cef.extensions.<full name>.
package cef

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
	parsecef "github.com/mamori-sec/mamori/internal/parse/cef"
	"github.com/mamori-sec/mamori/internal/parse/decimal"
)

// Name is the dataset's name and event.dataset value.
const Name = "cef"

// Options configure the dataset.
type Options struct {
	// Location is the zone of rt/start/end values that carry none
	// (nil means UTC).
	Location *time.Location
}

// New returns the cef dataset.
func New(opts Options) dataset.Dataset {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	return dataset.Dataset{
		Name:        Name,
		Description: "ArcSight Common Event Format (CEF) records, any vendor",
		Parser:      &parser{loc: loc},
		// Extension values are kept as written (numbers and addresses
		// aside, which searches compare by meaning).
		Verbatim: []string{"cef.extensions."},
	}
}

type parser struct {
	loc *time.Location
}

// Parse maps one CEF record. The record must start with "CEF:"; a syslog
// header in front is the syslog dataset's to remove.
func (p *parser) Parse(rec dataset.Record) ([]*event.Event, error) {
	m, err := parsecef.ParseString(rec.String())
	if err != nil {
		return nil, fmt.Errorf("cef dataset: %w", err)
	}
	ev := event.New(40 + 2*len(m.Extensions))
	Map(ev, &m, rec.Received, p.loc)
	return []*event.Event{ev}, nil
}

// Map sets on ev the fields this dataset makes of a parsed CEF record: the
// header under cef.*, observer.*, event.code and event.severity, every
// extension under cef.extensions.<full name>, and the ECS field each
// dictionary extension stands for. received is the reference time for
// times without a year; loc the zone of times without one (nil means UTC).
// Vendor datasets built on CEF call it first and refine the result.
func Map(ev *event.Event, m *parsecef.Message, received time.Time, loc *time.Location) {
	if loc == nil {
		loc = time.UTC
	}
	ev.SetString("cef.version", strconv.Itoa(m.Version))
	ev.SetString("cef.device.vendor", m.DeviceVendor)
	ev.SetString("cef.device.product", m.DeviceProduct)
	ev.SetString("cef.device.version", m.DeviceVersion)
	ev.SetString("cef.device.event_class_id", m.SignatureID)
	ev.SetString("cef.name", m.Name)
	ev.SetString("cef.severity", m.Severity)
	ev.SetString("observer.vendor", m.DeviceVendor)
	ev.SetString("observer.product", m.DeviceProduct)
	ev.SetString("observer.version", m.DeviceVersion)
	ev.SetString("event.code", m.SignatureID)
	if sev, ok := m.SeverityLevel(); ok {
		ev.Set("event.severity", sev)
	}
	for _, ext := range m.Extensions {
		k := lookup(ext.Key)
		setTyped(ev, k.field, k.typ, ext.Value)
		if k.mapped {
			mapECS(ev, k.rule, ext.Value, received, loc)
		}
	}
	if msg, ok := ev.Get(event.FieldMessage); !ok || msg == "" {
		ev.SetString(event.FieldMessage, m.Name)
	}
}

// setTyped sets a value converted to the dictionary type of its key:
// integers and floats as numbers, IP addresses in canonical form; anything
// that does not parse stays text. (The typed setters spare a boxing for
// each extension.)
func setTyped(ev *event.Event, field string, typ parsecef.Type, v string) {
	switch typ {
	case parsecef.TypeInteger:
		if n, ok := decimal.ParseInt(strings.TrimSpace(v)); ok {
			ev.SetInt(field, n)
			return
		}
	case parsecef.TypeFloat:
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			ev.Set(field, f)
			return
		}
	case parsecef.TypeIP:
		if ip, ok := canonicalIP(v); ok {
			ev.SetString(field, ip)
			return
		}
	}
	ev.SetString(field, v)
}

// conversion is how an extension's text becomes an ECS value.
type conversion uint8

const (
	asText conversion = iota
	asIP
	asInt
	asMAC
	asLower
	asTime
	asObserverIP
	asHash
	asOutcome
)

// rule maps one extension, by full name, to an ECS field.
type rule struct {
	field string
	conv  conversion
}

var rules = map[string]rule{
	"sourceAddress":                {"source.ip", asIP},
	"destinationAddress":           {"destination.ip", asIP},
	"sourceTranslatedAddress":      {"source.nat.ip", asIP},
	"destinationTranslatedAddress": {"destination.nat.ip", asIP},
	"sourcePort":                   {"source.port", asInt},
	"destinationPort":              {"destination.port", asInt},
	"sourceTranslatedPort":         {"source.nat.port", asInt},
	"destinationTranslatedPort":    {"destination.nat.port", asInt},
	"bytesIn":                      {"source.bytes", asInt},
	"bytesOut":                     {"destination.bytes", asInt},
	"baseEventCount":               {"event.count", asInt},
	"fileSize":                     {"file.size", asInt},
	"sourceHostName":               {"source.domain", asText},
	"destinationHostName":          {"destination.domain", asText},
	"sourceUserName":               {"source.user.name", asText},
	"destinationUserName":          {"destination.user.name", asText},
	"sourceUserId":                 {"source.user.id", asText},
	"destinationUserId":            {"destination.user.id", asText},
	"deviceAction":                 {"event.action", asText},
	"fileName":                     {"file.name", asText},
	"filePath":                     {"file.path", asText},
	"requestUrl":                   {"url.original", asText},
	"requestMethod":                {"http.request.method", asText},
	"requestClientApplication":     {"user_agent.original", asText},
	"deviceHostName":               {"observer.hostname", asText},
	"deviceExternalId":             {"observer.serial_number", asText},
	"message":                      {"message", asText},
	"sourceMacAddress":             {"source.mac", asMAC},
	"destinationMacAddress":        {"destination.mac", asMAC},
	"deviceMacAddress":             {"observer.mac", asMAC},
	"transportProtocol":            {"network.transport", asLower},
	"applicationProtocol":          {"network.protocol", asLower},
	"deviceReceiptTime":            {event.FieldTimestamp, asTime},
	"startTime":                    {"event.start", asTime},
	"endTime":                      {"event.end", asTime},
	"deviceAddress":                {"observer.ip", asObserverIP},
	"fileHash":                     {"file.hash.", asHash},
	"eventOutcome":                 {"event.outcome", asOutcome},
}

// keyInfo is what Map needs to know of an extension key: its full name,
// the field it is kept under, its dictionary type and its ECS rule.
type keyInfo struct {
	full, field string
	typ         parsecef.Type
	rule        rule
	mapped      bool
}

// keys holds the keyInfo of every key the dictionary and the rules know,
// under both the short and the full name, so that an extension costs one
// lookup and the common case builds no string.
var keys = func() map[string]keyInfo {
	m := make(map[string]keyInfo, 4*len(rules))
	add := func(key, full string) {
		r, ok := rules[full]
		m[key] = keyInfo{full: full, field: "cef.extensions." + full, typ: parsecef.TypeOf(full), rule: r, mapped: ok}
	}
	for short, full := range parsecef.Dictionary() {
		add(short, full)
		add(full, full)
	}
	for full := range rules {
		add(full, full)
	}
	return m
}()

func lookup(key string) keyInfo {
	if k, ok := keys[key]; ok {
		return k
	}
	return keyInfo{full: key, field: "cef.extensions." + key}
}

// ExtensionField returns the field an extension is kept under:
// "cef.extensions." and its full dictionary name (the key itself for a
// vendor key the dictionary does not define).
func ExtensionField(key string) string {
	return lookup(key).field
}

// mapECS sets the ECS field an extension stands for, when it has one.
func mapECS(ev *event.Event, r rule, v string, received time.Time, loc *time.Location) {
	if strings.TrimSpace(v) == "" {
		return
	}
	switch r.conv {
	case asText:
		ev.SetString(r.field, v)
	case asIP:
		if ip, ok := canonicalIP(v); ok {
			ev.SetString(r.field, ip)
		}
	case asInt:
		if n, ok := decimal.ParseInt(strings.TrimSpace(v)); ok {
			ev.SetInt(r.field, n)
		}
	case asMAC:
		if mac, ok := ecsMAC(v); ok {
			ev.SetString(r.field, mac)
		}
	case asLower:
		ev.SetString(r.field, strings.ToLower(strings.TrimSpace(v)))
	case asTime:
		if t, zoned, err := parsecef.ParseTime(v, received, loc); err == nil {
			ev.SetTime(r.field, t)
			if !zoned {
				ev.SetString("event.timezone", loc.String())
			}
		}
	case asObserverIP:
		if ip, ok := canonicalIP(v); ok {
			ev.SetStrings(r.field, ip)
		}
	case asHash:
		if alg := hashAlgorithm(v); alg != "" {
			ev.SetString(r.field+alg, strings.ToLower(strings.TrimSpace(v)))
		}
	case asOutcome:
		ev.SetString(r.field, outcome(v))
	}
}

// canonicalIP returns an address in canonical form, reusing the text when
// it is canonical already (see event.AddrText).
func canonicalIP(v string) (string, bool) {
	v = strings.TrimSpace(v)
	a, ok := event.ParseAddr(v)
	if !ok {
		return "", false
	}
	return event.AddrText(v, a), true
}

// ecsMAC writes a MAC address as ECS recommends: upper-case hex octets
// separated by hyphens.
func ecsMAC(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if mac, ok := ecsMAC48(v); ok {
		return mac, true
	}
	hw, err := net.ParseMAC(v)
	if err != nil {
		return "", false
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(hw)*3)
	for i, o := range hw {
		if i > 0 {
			b = append(b, '-')
		}
		b = append(b, hex[o>>4], hex[o&0xf])
	}
	return string(b), true
}

// ecsMAC48 is ecsMAC for the usual form, six octets separated by ':' or
// '-' throughout, without net.ParseMAC's allocation; ok is false for
// anything else, which ecsMAC leaves to ParseMAC.
func ecsMAC48(v string) (string, bool) {
	if len(v) != 17 || (v[2] != ':' && v[2] != '-') {
		return "", false
	}
	var b [17]byte
	for i := 0; i < 17; i++ {
		c := v[i]
		if i%3 == 2 {
			if c != v[2] {
				return "", false
			}
			b[i] = '-'
			continue
		}
		switch {
		case c >= '0' && c <= '9', c >= 'A' && c <= 'F':
		case c >= 'a' && c <= 'f':
			c -= 'a' - 'A'
		default:
			return "", false
		}
		b[i] = c
	}
	return string(b[:]), true
}

// hashAlgorithm guesses a hex digest's algorithm from its length.
func hashAlgorithm(v string) string {
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		c := v[i] | 0x20
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return ""
		}
	}
	switch len(v) {
	case 32:
		return "md5"
	case 40:
		return "sha1"
	case 64:
		return "sha256"
	case 128:
		return "sha512"
	}
	return ""
}

// outcome maps CEF's free-text outcome onto ECS's success/failure/unknown.
func outcome(v string) string {
	switch s := strings.ToLower(strings.TrimLeft(strings.TrimSpace(v), "/")); {
	case strings.HasPrefix(s, "succe"), s == "ok":
		return "success"
	case strings.HasPrefix(s, "fail"):
		return "failure"
	default:
		return "unknown"
	}
}
