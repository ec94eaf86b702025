package mapping

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

// format is a mapping's wire format.
type format uint8

const (
	formatJSON format = iota + 1
	formatCSV
	formatKV
	formatCEF
	formatLEEF
	formatRegex
	formatSyslog
)

var formatNames = map[string]format{
	"json":   formatJSON,
	"csv":    formatCSV,
	"kv":     formatKV,
	"cef":    formatCEF,
	"leef":   formatLEEF,
	"regex":  formatRegex,
	"syslog": formatSyslog,
}

const validFormats = "json, csv, kv, cef, leef, regex, syslog"

// field is one entry of `fields:` (or the `timestamp:` shortcut).
type field struct {
	// from holds the slots of the source keys, in order: the first that
	// is present and not blank is used.
	from []int
	to   string
	conv converter
}

// static is one entry of `set:`.
type static struct {
	field string
	value any
}

// parser is a compiled mapping. It holds no per-record state, so the
// pipeline may call it from several goroutines.
type parser struct {
	name   string
	format format
	// syslog: strip a syslog header when the record has one.
	syslog bool
	loc    *time.Location
	now    func() time.Time
	skip   []string

	// slots numbers the source keys the fields read; keys[slot] is the
	// key's name, for keeping a value that did not convert.
	slots  map[string]int
	keys   []string
	fields []field
	set    []static
	// copyTo is "<namespace>." when unmapped keys are kept, else "".
	copyTo string
	// rawNS is "<namespace>.": where a value that does not convert is
	// kept as text.
	rawNS string
	// headerSlots are the slots of syslog.hostname ... syslog.priority
	// (see syslogKeys), -1 when not read.
	headerSlots [len(syslogKeys)]int

	csv   *csvFormat
	kv    *kvFormat
	re    *regexFormat
	json  *jsonFormat
	cefHd [len(cefHeaderKeys)]int
	leeHd [len(leefHeaderKeys)]int
}

// syslogKeys are the source keys a syslog header offers.
var syslogKeys = [...]string{"syslog.hostname", "syslog.appname", "syslog.procid", "syslog.msgid",
	"syslog.facility", "syslog.severity", "syslog.priority"}

// record is the state of one Parse call.
type record struct {
	p    *parser
	vals []value
	ev   *event.Event
}

// put stores a source value: in its slot when a field reads it, else
// under the copy namespace when unmapped keys are kept. The first value
// of a key that occurs twice wins.
func (r *record) put(key, v string) {
	if slot, ok := r.p.slots[key]; ok {
		if !r.vals[slot].ok {
			r.vals[slot] = textValue(v)
		}
		return
	}
	if r.p.copyTo != "" && v != "" {
		r.ev.SetIfAbsent(r.p.copyTo+fieldKey(key), v)
	}
}

// Parse maps one record.
func (p *parser) Parse(rec dataset.Record) ([]*event.Event, error) {
	if len(bytes.TrimSpace(rec.Data)) == 0 {
		return nil, nil
	}
	ref := rec.Received
	if ref.IsZero() {
		ref = p.now()
	}
	body := rec.String()
	var m parsesyslog.Message
	headed := false
	if p.syslog {
		m = parsesyslog.ParseString(body, ref, p.loc)
		headed = m.HeaderFound() || m.HasPriority
		body = m.Body
	}
	body = strings.TrimRight(body, "\r\n")
	if strings.TrimSpace(body) == "" && p.format != formatSyslog {
		return nil, nil
	}
	for _, s := range p.skip {
		if strings.HasPrefix(body, s) {
			return nil, nil
		}
	}
	// Room for the mapped fields and a syslog header's; a larger hint
	// costs more to allocate and clear than the occasional growth.
	r := record{p: p, vals: make([]value, len(p.keys)), ev: event.New(8 + len(p.fields) + len(p.set))}
	if headed {
		p.putHeader(&r, &m)
	}
	var err error
	switch p.format {
	case formatJSON:
		err = p.json.decode(&r, body)
	case formatCSV:
		if rec.Header != nil && bytes.Equal(rec.Data, rec.Header) {
			return nil, nil // the object's header line names the columns
		}
		err = p.csv.decode(&r, body, rec.Header)
	case formatKV:
		err = p.kv.decode(&r, body)
	case formatCEF:
		err = p.decodeCEF(&r, body)
	case formatLEEF:
		err = p.decodeLEEF(&r, body)
	case formatRegex:
		err = p.re.decode(&r, body)
	case formatSyslog:
		r.put("message", body)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.name, err)
	}
	for _, s := range p.set {
		r.ev.Set(s.field, s.value)
	}
	for i := range p.fields {
		p.apply(&r, &p.fields[i], ref)
	}
	if headed {
		syslog.SetHeader(r.ev, &m, p.loc, true)
	}
	return []*event.Event{r.ev}, nil
}

// apply sets one field from the first of its source keys that has a
// value. A value that does not convert leaves the field unset and is kept
// as text under the namespace, so nothing the record said is lost.
func (p *parser) apply(r *record, f *field, ref time.Time) {
	for _, slot := range f.from {
		v := r.vals[slot]
		if v.blank() {
			continue
		}
		out, ok := f.conv.convert(v, ref)
		if !ok {
			r.ev.SetString(p.rawNS+fieldKey(p.keys[slot]), v.text())
			return
		}
		if out != nil {
			r.ev.Set(f.to, out)
		}
		return
	}
}

// putHeader offers the syslog header's parts as source keys.
func (p *parser) putHeader(r *record, m *parsesyslog.Message) {
	for i, slot := range p.headerSlots {
		if slot < 0 {
			continue
		}
		var s string
		switch i {
		case 0:
			s = m.Hostname
		case 1:
			s = m.AppName
		case 2:
			s = m.ProcID
		case 3:
			s = m.MsgID
		case 4:
			if m.HasPriority {
				s = parsesyslog.FacilityName(m.Facility)
			}
		case 5:
			if m.HasPriority {
				s = parsesyslog.SeverityName(m.Severity)
			}
		case 6:
			if m.HasPriority {
				s = strconv.Itoa(m.Priority)
			}
		}
		if s != "" {
			r.vals[slot] = textValue(s)
		}
	}
}

// fieldKey makes a source key usable as the last part of a field name:
// characters that would break the query syntax or nest oddly (spaces,
// quotes, colons, slashes) become '_'; dots are kept and nest.
func fieldKey(k string) string {
	clean := true
	for i := 0; i < len(k); i++ {
		if !isFieldChar(k[i]) {
			clean = false
			break
		}
	}
	if clean && k != "" && k[0] != '.' && k[len(k)-1] != '.' && !strings.Contains(k, "..") {
		return k
	}
	b := []byte(k)
	for i, c := range b {
		if !isFieldChar(c) || c == '.' && (i == 0 || i == len(b)-1 || b[i-1] == '.') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

func isFieldChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '@'
}
