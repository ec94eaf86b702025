package panw

import (
	"strconv"
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// threatColumns are the THREAT log's own columns after the session's
// (URL filtering, WildFire and data filtering logs share the format).
var threatColumns = []column{
	{35, "panw.panos.direction", asText},
	{36, "panw.panos.sequence_number", asText},
	{37, "panw.panos.action_flags", asText},
	{38, "source.geo.name", asText},
	{39, "destination.geo.name", asText},
	{41, "http.response.mime_type", asText},
	{42, "panw.panos.pcap_id", asOpt},
	{44, "panw.panos.cloud", asText},
	{45, "panw.panos.url_idx", asOpt},
	{46, "user_agent.original", asText},
	{47, "panw.panos.file_type", asText},
	{49, "http.request.referrer", asText},
	{50, "email.from.address", asList},
	{51, "email.subject", asText},
	{52, "email.to.address", asList},
	{53, "panw.panos.wildfire.report_id", asOpt},
	{54, "panw.panos.device_group_hierarchy1", asOpt},
	{55, "panw.panos.device_group_hierarchy2", asOpt},
	{56, "panw.panos.device_group_hierarchy3", asOpt},
	{57, "panw.panos.device_group_hierarchy4", asOpt},
	{58, "panw.panos.virtual_sys_name", asText},
	{59, "observer.hostname", asText},
	{61, "panw.panos.source.vm_uuid", asText},
	{62, "panw.panos.destination.vm_uuid", asText},
	{63, "http.request.method", asText},
	{64, "panw.panos.imsi", asOpt},
	{65, "panw.panos.imei", asOpt},
	{66, "panw.panos.parent_session.id", asOpt},
	{67, "panw.panos.parent_session.start_time", asTime},
	{68, "panw.panos.tunnel_type", asOpt},
	{69, "panw.panos.threat_category", asText},
	{70, "panw.panos.content_version", asText},
	{72, "panw.panos.sctp.assoc_id", asOpt},
	{73, "panw.panos.payload_protocol_id", asText},
	{74, "panw.panos.http_headers", asText},
	{75, "panw.panos.url.category_list", asText},
	{76, "rule.uuid", asText},
	{77, "panw.panos.http2_connection", asOpt},
	{78, "panw.panos.dynamic_user_group", asText},
	{80, "panw.panos.source.device.category", asText},
	{81, "panw.panos.source.device.profile", asText},
	{82, "panw.panos.source.device.model", asText},
	{83, "panw.panos.source.device.vendor", asText},
	{84, "panw.panos.source.device.os_family", asText},
	{85, "panw.panos.source.device.os_version", asText},
	{86, "panw.panos.source.hostname", asText},
	{87, "source.mac", asMAC},
	{88, "panw.panos.destination.device.category", asText},
	{89, "panw.panos.destination.device.profile", asText},
	{90, "panw.panos.destination.device.model", asText},
	{91, "panw.panos.destination.device.vendor", asText},
	{92, "panw.panos.destination.device.os_family", asText},
	{93, "panw.panos.destination.device.os_version", asText},
	{94, "panw.panos.destination.hostname", asText},
	{95, "destination.mac", asMAC},
	{96, "container.id", asText},
	{97, "orchestrator.namespace", asText},
	{98, "panw.panos.pod_name", asText},
	{99, "panw.panos.source.edl", asText},
	{100, "panw.panos.destination.edl", asText},
	{101, "panw.panos.host_id", asText},
	{102, "panw.panos.user_device_serial", asText},
	{103, "panw.panos.domain_edl", asText},
	{104, "panw.panos.source.dynamic_address_group", asText},
	{105, "panw.panos.destination.dynamic_address_group", asText},
	{106, "panw.panos.partial_hash", asText},
}

// threatActions name the event for each THREAT subtype.
var threatActions = map[string]string{
	"url":            "url_filtering",
	"virus":          "virus_detected",
	"wildfire-virus": "wildfire_virus_detected",
	"ml-virus":       "ml_virus_detected",
	"wildfire":       "wildfire_verdict",
	"spyware":        "spyware_detected",
	"vulnerability":  "vulnerability_detected",
	"file":           "file_match",
	"data":           "data_match",
	"scan":           "scan_detected",
	"flood":          "flood_detected",
	"packet":         "packet_attack",
	"sctp":           "sctp_event",
}

// mapThreat maps a THREAT log: a detection by URL filtering, antivirus,
// anti-spyware, vulnerability protection, WildFire, file blocking, data
// filtering or zone protection, in a session.
func (p *parser) mapThreat(ev *event.Event, r row) {
	p.mapSession(ev, r)
	p.apply(ev, r, threatColumns)
	sub := strings.ToLower(r.get(4))
	if strings.EqualFold(r.get(3), "URL") && sub == "" {
		sub = "url"
	}
	ev.Set(event.FieldKind, "alert")
	if a, ok := threatActions[sub]; ok {
		ev.SetString("event.action", a)
	} else {
		ev.SetString("event.action", sub)
	}
	switch {
	case sub == "virus", sub == "wildfire-virus", sub == "ml-virus", sub == "spyware",
		sub == "wildfire" && strings.EqualFold(r.get(33), "malicious"):
		ev.SetStrings("event.category", "malware", "intrusion_detection", "threat", "network")
	default:
		ev.SetStrings("event.category", "intrusion_detection", "threat", "network")
	}
	if !ev.Has("event.type") {
		ev.SetStrings("event.type", "info")
	}
	setSeverity(ev, r.get(34))

	misc := r.get(31)
	switch sub {
	case "url":
		setURL(ev, misc)
		ev.SetString("panw.panos.url.category", r.get(33))
	case "wildfire", "wildfire-virus":
		ev.SetString("file.name", misc)
		ev.SetString("panw.panos.wildfire.verdict", r.get(33))
	case "virus", "ml-virus", "file", "data":
		ev.SetString("file.name", misc)
		ev.SetString("panw.panos.url.category", r.get(33))
	default:
		ev.SetString("panw.panos.misc", misc)
		ev.SetString("panw.panos.url.category", r.get(33))
	}
	setThreatID(ev, r.get(32))
	setDigest(ev, r.get(43))
	setForwarded(ev, r.get(48))
	if !ev.Has("network.forwarded_ip") {
		setForwarded(ev, r.get(79))
	}
	p.highRes(ev, r, 107)
	relatedHosts(ev, "panw.panos.source.hostname", "panw.panos.destination.hostname")
}

// setThreatID splits the Threat ID column, "Name(12345)", into the
// threat's name and numeric id. ID 9999 is PAN-OS's URL filtering
// pseudo-threat, written "(9999)" without a name.
func setThreatID(ev *event.Event, s string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return
	}
	name, id := s, ""
	if strings.HasSuffix(s, ")") {
		if i := strings.LastIndexByte(s, '('); i >= 0 {
			if _, err := strconv.ParseUint(s[i+1:len(s)-1], 10, 64); err == nil {
				name, id = strings.TrimSpace(s[:i]), s[i+1:len(s)-1]
			}
		}
	}
	if name == "" && id == "9999" {
		name = "URL-filtering"
	}
	ev.SetString("panw.panos.threat.id", id)
	ev.SetString("panw.panos.threat.name", name)
}

// setDigest keeps the File Digest column (a SHA-256 for WildFire) as
// file.hash.<algorithm> when its length names the algorithm.
func setDigest(ev *event.Event, s string) {
	if s == "" || !isHex(s) {
		ev.SetString("panw.panos.file_digest", s)
		return
	}
	switch len(s) {
	case 32:
		ev.SetString("file.hash.md5", strings.ToLower(s))
	case 40:
		ev.SetString("file.hash.sha1", strings.ToLower(s))
	case 64:
		ev.SetString("file.hash.sha256", strings.ToLower(s))
	default:
		ev.SetString("panw.panos.file_digest", s)
	}
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// setURL sets url.* from a URL filtering log's URL, which PAN-OS writes
// without a scheme ("example.com/path?q") unless the request had one.
func setURL(ev *event.Event, s string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return
	}
	ev.SetString("url.original", s)
	rest := s
	if i := strings.Index(rest, "://"); i > 0 {
		ev.SetString("url.scheme", strings.ToLower(rest[:i]))
		rest = rest[i+3:]
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		ev.SetString("url.fragment", rest[i+1:])
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		ev.SetString("url.query", rest[i+1:])
		rest = rest[:i]
	}
	host, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		if n, err := strconv.ParseInt(host[i+1:], 10, 64); err == nil && n > 0 && n < 65536 {
			ev.SetInt("url.port", n)
			host = host[:i]
		}
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	ev.SetString("url.domain", host)
	ev.SetString("url.path", path)
	if _, ok := parseIP(host); !ok {
		ev.SetString("destination.domain", host)
	}
}
