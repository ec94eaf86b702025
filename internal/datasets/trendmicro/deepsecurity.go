package trendmicro

import (
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
	parsecef "github.com/mamori-sec/mamori/internal/parse/cef"
	"github.com/mamori-sec/mamori/internal/parse/decimal"
)

// ns is the dataset's namespace for vendor fields without an ECS home.
const ns = "trendmicro.deepsecurity."

// vendorPrefix starts the extension keys Trend Micro adds to the CEF
// dictionary (TrendMicroDsTenant, TrendMicroDsFileSHA1, ...).
const vendorPrefix = "TrendMicroDs"

// record holds the extensions the Deep Security mapping reads, by their
// CEF full names, gathered in one pass over the record.
type record struct {
	sigID   int64
	sigOK   bool
	product string
	name    string

	dvc, dvchost, hostname string
	act, msg               string
	fileName, filePath     string
	sproc                  string
	suser, suid, duser     string
	request                string
	cs1                    string
	hasCs1                 bool
	// labelled holds the custom fields with a value, nLabelled of them
	// (an array: the record stays on the stack).
	labelled  [numSlots]labelledValue
	nLabelled int
}

// labels returns the custom fields with a value, in slot order.
func (r *record) labels() []labelledValue { return r.labelled[:r.nLabelled] }

// labelledValue is a custom field (cs1-cs6, cn1-cn3) with its label.
type labelledValue struct {
	value  string
	label  string
	number bool
	n      int // 1-6
}

// customSlot returns the slot (0-8: cs1-cs6, cn1-cn3) of a custom field
// or its label, by short or full name, and whether key is the label.
func customSlot(key string) (slot int, label, ok bool) {
	switch key {
	case "cs1", "deviceCustomString1":
		return 0, false, true
	case "cs2", "deviceCustomString2":
		return 1, false, true
	case "cs3", "deviceCustomString3":
		return 2, false, true
	case "cs4", "deviceCustomString4":
		return 3, false, true
	case "cs5", "deviceCustomString5":
		return 4, false, true
	case "cs6", "deviceCustomString6":
		return 5, false, true
	case "cn1", "deviceCustomNumber1":
		return 6, false, true
	case "cn2", "deviceCustomNumber2":
		return 7, false, true
	case "cn3", "deviceCustomNumber3":
		return 8, false, true
	case "cs1Label", "deviceCustomString1Label":
		return 0, true, true
	case "cs2Label", "deviceCustomString2Label":
		return 1, true, true
	case "cs3Label", "deviceCustomString3Label":
		return 2, true, true
	case "cs4Label", "deviceCustomString4Label":
		return 3, true, true
	case "cs5Label", "deviceCustomString5Label":
		return 4, true, true
	case "cs6Label", "deviceCustomString6Label":
		return 5, true, true
	case "cn1Label", "deviceCustomNumber1Label":
		return 6, true, true
	case "cn2Label", "deviceCustomNumber2Label":
		return 7, true, true
	case "cn3Label", "deviceCustomNumber3Label":
		return 8, true, true
	}
	return 0, false, false
}

// numSlots is the number of custom fields: cs1-cs6 and cn1-cn3.
const numSlots = 9

// gather reads the extensions by short or full name: a switch, no
// dictionary lookup (Map has done one already).
func gather(m *parsecef.Message) record {
	r := record{product: m.DeviceProduct, name: m.Name}
	r.sigID, r.sigOK = parseInt(m.SignatureID)
	var values, labels [numSlots]string
	var present [numSlots]bool
	for _, ext := range m.Extensions {
		v := strings.TrimSpace(ext.Value)
		switch ext.Key {
		case "dvc", "deviceAddress":
			r.dvc = v
		case "dvchost", "deviceHostName":
			r.dvchost = v
		case "hostname":
			r.hostname = v
		case "act", "deviceAction":
			r.act = v
		case "msg", "message":
			r.msg = v
		case "fname", "fileName":
			r.fileName = v
		case "filePath":
			r.filePath = v
		case "sproc", "sourceProcessName":
			r.sproc = v
		case "suser", "sourceUserName":
			r.suser = v
		case "suid", "sourceUserId":
			r.suid = v
		case "duser", "destinationUserName":
			r.duser = v
		case "request", "requestUrl":
			r.request = v
		default:
			if slot, isLabel, ok := customSlot(ext.Key); ok {
				if isLabel {
					labels[slot] = v
				} else {
					values[slot], present[slot] = v, true
				}
			}
		}
	}
	for i := range numSlots {
		if !present[i] || values[i] == "" {
			continue
		}
		if i == 0 {
			r.cs1, r.hasCs1 = values[i], true
		}
		l := labelledValue{value: values[i], label: labels[i], n: i + 1}
		if i >= 6 {
			l.number, l.n = true, i-5
		}
		r.labelled[r.nLabelled] = l
		r.nLabelled++
	}
	return r
}

// mapDeepSecurity refines the generic CEF document of a Deep Security
// record: the protected computer, labelled custom fields, Trend Micro's own
// extensions, and the ECS categorisation of the record's event class.
func mapDeepSecurity(ev *event.Event, m *parsecef.Message) {
	r := gather(m)
	mapHost(ev, &r)
	mapLabelled(ev, &r)
	mapVendorExtensions(ev, m)
	if r.fileName != "" && r.filePath == "" {
		// The seed mapping: fname is the file's path when no filePath is
		// given (log inspection names the log file in fname).
		ev.SetString("file.path", r.fileName)
	}
	if r.hasCs1 {
		ev.SetString("rule.category", r.cs1)
	}
	ev.Set(event.FieldKind, "event")
	c := classify(&r)
	ev.SetString(ns+"event_class", c.String())
	mapClass(ev, c, &r)
	setNetworkType(ev)
}

// mapHost names the protected computer. Deep Security writes it in dvchost
// (a host name or IPv6 address) or, when the computer is known by its IPv4
// address, in dvc; relayed through the manager, the syslog header names the
// manager instead, so these win over it. (A fluentd wrapper's hostname is
// the collector that shipped the file: the json dataset keeps it as
// fluentd.hostname.)
func mapHost(ev *event.Event, r *record) {
	name := r.dvchost
	if name == "" {
		name = r.hostname
	}
	if name == "" {
		name = r.dvc
	}
	if name != "" {
		ev.SetString("host.name", name)
		ev.SetString("host.hostname", name)
		ev.SetString("server.name", name)
	}
	var ips [2]string
	n := 0
	for _, v := range [...]string{r.dvc, r.dvchost} {
		if a, ok := event.ParseAddr(v); ok {
			ips[n] = event.AddrText(v, a)
			n++
		}
	}
	if n == 2 && ips[0] == ips[1] {
		n = 1
	}
	if n == 0 {
		ev.Delete("host.ip")
		return
	}
	ev.SetStrings("host.ip", ips[:n]...)
}

// mapLabelled stores each labelled custom field under its label as well
// (cs2=0x00 ACK cs2Label=TCP Flags gives trendmicro.deepsecurity.tcp_flags),
// and the Host ID (cn1) as host.id.
func mapLabelled(ev *event.Event, r *record) {
	for _, l := range r.labels() {
		if l.number && l.n == 1 && (l.label == "" || strings.EqualFold(l.label, "Host ID")) {
			ev.SetString("host.id", l.value)
		}
		// A label never overwrites a field Trend Micro named itself.
		if f := labelField(l.label); f != "" && !ev.Has(f) {
			setNumberOrText(ev, f, l.value, l.number)
		}
	}
}

// mapVendorExtensions keeps Trend Micro's own extension keys (which
// parseLine does not give the generic mapping, so they are not under
// cef.extensions) in the dataset's namespace in snake case
// (TrendMicroDsTenantId → trendmicro.deepsecurity.tenant_id), and maps the
// ones ECS has a home for.
func mapVendorExtensions(ev *event.Event, m *parsecef.Message) {
	for _, ext := range m.Extensions {
		if !isVendorKey(ext.Key) {
			continue
		}
		v := strings.TrimSpace(ext.Value)
		if v == "" || v == "N/A" {
			continue
		}
		rest := ext.Key[len(vendorPrefix):]
		switch rest {
		// Fields with an ECS home are kept there only.
		case "FileMD5":
			ev.SetString("file.hash.md5", strings.ToLower(v))
			continue
		case "FileSHA1":
			ev.SetString("file.hash.sha1", strings.ToLower(v))
			continue
		case "FileSHA256":
			ev.SetString("file.hash.sha256", strings.ToLower(v))
			continue
		case "CommandLine":
			ev.SetString("process.command_line", v)
			continue
		case "CVE":
			ev.SetStrings("vulnerability.id", splitList(v, ',')...)
			continue
		case "RelevantDetectionNames":
			ev.SetStrings(ns+"relevant_detection_names", splitList(v, ';')...)
			continue
		case "Tags":
			ev.SetStrings(ns+"tags", splitList(v, ',')...)
			continue
		case "DetectionConfidence", "TenantId":
			if n, ok := parseInt(v); ok {
				ev.SetInt(labelField(rest), n)
				continue
			}
		}
		ev.SetString(labelField(rest), v)
	}
}

// isVendorKey reports a key of Trend Micro's own: vendorPrefix and a name.
func isVendorKey(k string) bool {
	return len(k) > len(vendorPrefix) && strings.HasPrefix(k, vendorPrefix)
}

// vendorKeysLast moves Trend Micro's own keys to the end of exts, keeping
// the order within each group, and returns how many keys are not the
// vendor's: exts[:n] is what the generic CEF mapping is given. (Moving
// them in place spares a filtered copy for every record; a record has
// few vendor keys.)
func vendorKeysLast(exts []parsecef.Extension) int {
	n := len(exts)
	for i := n - 1; i >= 0; i-- {
		if isVendorKey(exts[i].Key) {
			v := exts[i]
			copy(exts[i:n-1], exts[i+1:n])
			exts[n-1] = v
			n--
		}
	}
	return n
}

// knownFields holds the field names of the labels and vendor keys Trend
// Micro documents, so that the common case builds no string.
var knownFields = func() map[string]string {
	names := []string{
		// cs/cn labels
		"Host ID", "TCP Flags", "Fragmentation Bits", "Fragment Offset", "ICMP Type and Code",
		"Intrusion Prevention Packet Position", "Intrusion Prevention Stream Position",
		"Intrusion Prevention Flags", "Intrusion Prevention Note", "Intrusion Prevention Filter Note",
		"DPI Packet Position", "DPI Stream Position", "DPI Flags", "DPI Note",
		"Quarantine File Size", "Container", "LI Description", "actionReason", "sha1", "md5", "sha256",
		// TrendMicroDs* keys without the prefix
		"Tenant", "TenantId", "FrameType", "PacketData", "MalwareTarget", "MalwareTargetType",
		"DetectionConfidence", "Origin", "Process", "FileName",
	}
	m := make(map[string]string, len(names))
	for _, n := range names {
		m[n] = ns + snake(n)
	}
	return m
}()

// labelField returns the dataset field for a label or a vendor key ("" for
// a label that leaves no name).
func labelField(label string) string {
	if f, ok := knownFields[label]; ok {
		return f
	}
	if name := snake(label); name != "" {
		return ns + name
	}
	return ""
}

// setNetworkType names the IP version from the addresses the record has.
func setNetworkType(ev *event.Event) {
	for _, f := range [...]string{"source.ip", "destination.ip"} {
		if a, ok := event.ParseAddr(ev.String(f)); ok {
			if a.Is4() {
				ev.Set("network.type", "ipv4")
			} else {
				ev.Set("network.type", "ipv6")
			}
			return
		}
	}
}

// setNumberOrText sets a custom field's value: a number field's as an
// integer when it is one, anything else as text.
func setNumberOrText(ev *event.Event, field, v string, number bool) {
	if number {
		if n, ok := parseInt(v); ok {
			ev.SetInt(field, n)
			return
		}
	}
	ev.SetString(field, v)
}

func parseInt(s string) (int64, bool) {
	return decimal.ParseInt(strings.TrimSpace(s))
}

// splitList splits a separated list, dropping empty elements.
func splitList(s string, sep byte) []string {
	var out []string
	for len(s) > 0 {
		i := strings.IndexByte(s, sep)
		el := s
		if i >= 0 {
			el, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if el = strings.TrimSpace(el); el != "" {
			out = append(out, el)
		}
	}
	return out
}

// snake turns a label or camel-case key into a field name: lower case
// letters, digits and single underscores ("TCP Flags" → "tcp_flags",
// "actionReason" → "action_reason", "FileSHA256" → "file_sha256"). Names
// come from the record, so anything else is dropped and the length capped.
func snake(s string) string {
	const maxLen = 64
	b := make([]byte, 0, len(s)+4)
	under := func() {
		if len(b) > 0 && b[len(b)-1] != '_' {
			b = append(b, '_')
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			// A capital starts a word after a lower-case letter or digit,
			// or ends an acronym ("HTTPServer": the S of Server).
			if i > 0 && (isLower(s[i-1]) || isDigit(s[i-1]) ||
				isUpper(s[i-1]) && i+1 < len(s) && isLower(s[i+1])) {
				under()
			}
			b = append(b, c+'a'-'A')
		case isLower(c) || isDigit(c):
			b = append(b, c)
		default:
			under()
		}
	}
	out := strings.Trim(string(b), "_")
	if len(out) > maxLen {
		out = strings.TrimRight(out[:maxLen], "_")
	}
	return out
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
