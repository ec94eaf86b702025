package mapping

import (
	"strconv"
	"time"

	parsecef "github.com/mamori-sec/mamori/internal/parse/cef"
	parseleef "github.com/mamori-sec/mamori/internal/parse/leef"
	parsesyslog "github.com/mamori-sec/mamori/internal/parse/syslog"
)

// cefHeaderKeys name the CEF header's fields as source keys. They cannot
// clash with an extension: the dictionary has no key starting "header.".
var cefHeaderKeys = [...]string{"header.version", "header.device_vendor", "header.device_product",
	"header.device_version", "header.signature_id", "header.name", "header.severity"}

// leefHeaderKeys name the LEEF header's fields as source keys.
var leefHeaderKeys = [...]string{"header.version", "header.vendor", "header.product",
	"header.product_version", "header.event_id"}

// decodeCEF reads a CEF record. Extensions are offered under their full
// dictionary names ("src" as sourceAddress), which is also how the mapping's
// keys were compiled, so a mapping may name either form.
func (p *parser) decodeCEF(r *record, body string) error {
	m, err := parsecef.ParseString(body)
	if err != nil {
		return err
	}
	header := [len(cefHeaderKeys)]string{strconv.Itoa(m.Version), m.DeviceVendor, m.DeviceProduct,
		m.DeviceVersion, m.SignatureID, m.Name, m.Severity}
	p.putHeaderFields(r, cefHeaderKeys[:], p.cefHd[:], header[:])
	for _, ext := range m.Extensions {
		r.put(parsecef.FullName(ext.Key), ext.Value)
	}
	return nil
}

// decodeLEEF reads a LEEF 1.0 or 2.0 record.
func (p *parser) decodeLEEF(r *record, body string) error {
	m, err := parseleef.ParseString(body)
	if err != nil {
		return err
	}
	header := [len(leefHeaderKeys)]string{m.Version, m.Vendor, m.Product, m.ProductVersion, m.EventID}
	p.putHeaderFields(r, leefHeaderKeys[:], p.leeHd[:], header[:])
	for _, a := range m.Attributes {
		r.put(a.Key, a.Value)
	}
	return nil
}

// putHeaderFields stores header values in their slots, or keeps them under
// the copy namespace when unmapped keys are kept.
func (p *parser) putHeaderFields(r *record, names []string, slots []int, values []string) {
	for i, v := range values {
		if slots[i] >= 0 {
			if v != "" {
				r.vals[slots[i]] = textValue(v)
			}
			continue
		}
		if p.copyTo != "" && v != "" {
			r.ev.SetString(p.copyTo+names[i], v)
		}
	}
}

// stripSyslog returns a line's text after its syslog header, if any.
func stripSyslog(line string) string {
	return parsesyslog.ParseString(line, time.Time{}, time.UTC).Body
}
