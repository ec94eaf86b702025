package cef

import (
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
	parsecef "github.com/mamori-sec/mamori/internal/parse/cef"
)

// Trend Micro Deep Security names the protected computer in dvchost (or in
// a vendor "hostname" extension) and writes most detail into labelled
// custom fields, whose labels say what they hold.

func isDeepSecurity(m *parsecef.Message) bool {
	return m.DeviceVendor == "Trend Micro" && strings.HasPrefix(m.DeviceProduct, "Deep Security")
}

// labelled lists the custom fields that carry a label.
var labelled = [...]struct{ value, label string }{
	{"cef.extensions.deviceCustomString1", "cef.extensions.deviceCustomString1Label"},
	{"cef.extensions.deviceCustomString2", "cef.extensions.deviceCustomString2Label"},
	{"cef.extensions.deviceCustomString3", "cef.extensions.deviceCustomString3Label"},
	{"cef.extensions.deviceCustomString4", "cef.extensions.deviceCustomString4Label"},
	{"cef.extensions.deviceCustomString5", "cef.extensions.deviceCustomString5Label"},
	{"cef.extensions.deviceCustomString6", "cef.extensions.deviceCustomString6Label"},
	{"cef.extensions.deviceCustomNumber1", "cef.extensions.deviceCustomNumber1Label"},
	{"cef.extensions.deviceCustomNumber2", "cef.extensions.deviceCustomNumber2Label"},
	{"cef.extensions.deviceCustomNumber3", "cef.extensions.deviceCustomNumber3Label"},
}

// mapDeepSecurity runs after the generic mapping and reads what it stored
// under cef.extensions (so short and full key names both count).
func mapDeepSecurity(ev *event.Event) {
	if h := strings.TrimSpace(ev.String("cef.extensions.hostname")); h != "" {
		ev.Set("host.name", h)
	} else if h := strings.TrimSpace(ev.String("cef.extensions.deviceHostName")); h != "" {
		ev.Set("host.name", h)
	}
	for _, l := range labelled {
		v, ok := ev.Get(l.value)
		if !ok {
			continue
		}
		name := labelField(ev.String(l.label))
		if name == "" {
			continue
		}
		// A label never overwrites a field the record already has.
		ev.SetIfAbsent("cef.extensions."+name, v)
	}
}

// labelField turns a label ("TCP Flags") into a field name ("TCP_Flags"):
// spaces, dots and other punctuation would break the query syntax or nest
// the field.
func labelField(label string) string {
	label = strings.TrimSpace(label)
	b := []byte(label)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b)
}
