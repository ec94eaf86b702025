package panw

import (
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/parse/decimal"
)

// sessionColumns are the columns 7 to 30 that TRAFFIC, THREAT and
// DECRYPTION logs share: the session's addresses, rule, zones, ports.
var sessionColumns = []column{
	{7, "source.ip", asIP},
	{8, "destination.ip", asIP},
	{11, "rule.name", asText},
	{14, "network.application", asLower},
	{15, "panw.panos.virtual_sys", asText},
	{16, "observer.ingress.zone", asText},
	{17, "observer.egress.zone", asText},
	{18, "observer.ingress.interface.name", asText},
	{19, "observer.egress.interface.name", asText},
	{20, "panw.panos.log_profile", asText},
	{22, "panw.panos.flow_id", asText},
	{23, "panw.panos.repeat_count", asInt},
	{24, "source.port", asInt},
	{25, "destination.port", asInt},
	{28, "panw.panos.flags", asText},
	{29, "network.transport", asLower},
	{30, "panw.panos.action", asText},
}

// mapSession maps the shared session columns and what follows from them.
func (p *parser) mapSession(ev *event.Event, r row) {
	p.apply(ev, r, sessionColumns)
	// Column 21 (FUTURE_USE, "time logged") repeats the generated time in
	// practice; it is kept only when it says something else.
	if t, ok := p.parseTime(r.get(21)); ok && !t.Equal(ev.Time()) {
		ev.SetTime("panw.panos.logged_time", t)
	}
	setUser(ev, sourceUser, r.get(12))
	setUser(ev, destinationUser, r.get(13))
	copyUser(ev)
	setNAT(ev, "source.nat.ip", "source.nat.port", r.get(9), r.get(26))
	setNAT(ev, "destination.nat.ip", "destination.nat.port", r.get(10), r.get(27))
	setFlags(ev, r.get(28))
	if ip := ev.String("source.ip"); ip != "" {
		if strings.IndexByte(ip, ':') >= 0 {
			ev.Set("network.type", "ipv6")
		} else {
			ev.Set("network.type", "ipv4")
		}
	}
	setActionOutcome(ev, r.get(30))
}

// setNAT sets the post-NAT address and port of one side. PAN-OS writes
// 0.0.0.0 and port 0 when the session was not translated.
func setNAT(ev *event.Event, ipField, portField, ip, port string) {
	a, ok := parseIP(ip)
	if !ok || a == "0.0.0.0" || a == "::" {
		return
	}
	ev.SetString(ipField, a)
	if n, ok := decimal.ParseInt(port); ok {
		ev.SetInt(portField, n)
	}
}

// Actions that let the session or request through, and those that stop
// it; anything else says neither.
var (
	allowActions = map[string]bool{
		"allow": true, "alert": true, "continue": true, "override": true, "forward": true,
		"wildfire-upload-success": true, "wildfire-upload-skip": true,
	}
	denyActions = map[string]bool{
		"deny": true, "drop": true, "drop-icmp": true, "drop-all-packets": true, "random-drop": true,
		"reset-client": true, "reset-server": true, "reset-both": true,
		"block": true, "block-url": true, "block-ip": true, "block-continue": true,
		"block-override": true, "override-lockout": true, "sinkhole": true,
	}
)

// setActionOutcome sets event.type allowed or denied and event.outcome
// from the firewall's action.
func setActionOutcome(ev *event.Event, action string) {
	a := strings.ToLower(strings.TrimSpace(action))
	switch {
	case allowActions[a]:
		ev.Append("event.type", "allowed")
		ev.Set("event.outcome", "success")
	case denyActions[a]:
		ev.Append("event.type", "denied")
		ev.Set("event.outcome", "failure")
	}
}

// sessionFlags decode the Flags column's bits (Palo Alto documents each)
// into labels, so that "was this session NATed / decrypted" is a term
// query.
var sessionFlags = []struct {
	bit   uint64
	field string
}{
	{0x80000000, "labels.pcap_included"},
	{0x40000000, "labels.multipath_allowed"},
	{0x20000000, "labels.wildfire_submitted"},
	{0x10000000, "labels.credential_detected"},
	{0x08000000, "labels.recon_excluded"},
	{0x02000000, "labels.ipv6_session"},
	{0x01000000, "labels.ssl_decrypted"},
	{0x00800000, "labels.url_filter_denied"},
	{0x00400000, "labels.nat_translated"},
	{0x00200000, "labels.captive_portal"},
	{0x00100000, "labels.non_standard_port_usage"},
	{0x00080000, "labels.x_forwarded_for"},
	{0x00040000, "labels.http_proxy"},
	{0x00008000, "labels.container_page"},
	{0x00002000, "labels.temporary_match"},
	{0x00000800, "labels.symmetric_return"},
}

func setFlags(ev *event.Event, s string) {
	if !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		return
	}
	v, err := strconv.ParseUint(s[2:], 16, 64)
	if err != nil {
		return
	}
	for _, f := range sessionFlags {
		if v&f.bit != 0 {
			ev.Set(f.field, true)
		}
	}
}

// trafficColumns are the TRAFFIC log's own columns after the session's.
var trafficColumns = []column{
	{31, "network.bytes", asInt},
	{32, "source.bytes", asInt},
	{33, "destination.bytes", asInt},
	{34, "network.packets", asInt},
	{35, "event.start", asTime},
	{36, "panw.panos.elapsed_time", asInt},
	{37, "panw.panos.url.category", asText},
	{39, "panw.panos.sequence_number", asText},
	{40, "panw.panos.action_flags", asText},
	{41, "source.geo.name", asText},
	{42, "destination.geo.name", asText},
	{44, "source.packets", asInt},
	{45, "destination.packets", asInt},
	{46, "panw.panos.endreason", asText},
	{47, "panw.panos.device_group_hierarchy1", asOpt},
	{48, "panw.panos.device_group_hierarchy2", asOpt},
	{49, "panw.panos.device_group_hierarchy3", asOpt},
	{50, "panw.panos.device_group_hierarchy4", asOpt},
	{51, "panw.panos.virtual_sys_name", asText},
	{52, "observer.hostname", asText},
	{53, "panw.panos.action_source", asText},
	{54, "panw.panos.source.vm_uuid", asText},
	{55, "panw.panos.destination.vm_uuid", asText},
	{56, "panw.panos.imsi", asOpt},
	{57, "panw.panos.imei", asOpt},
	{58, "panw.panos.parent_session.id", asOpt},
	{59, "panw.panos.parent_session.start_time", asTime},
	{60, "panw.panos.tunnel_type", asOpt},
	{61, "panw.panos.sctp.assoc_id", asOpt},
	{62, "panw.panos.sctp.chunks", asOptInt},
	{63, "panw.panos.sctp.chunks_sent", asOptInt},
	{64, "panw.panos.sctp.chunks_received", asOptInt},
	{65, "rule.uuid", asText},
	{66, "panw.panos.http2_connection", asOpt},
	{67, "panw.panos.link_change_count", asOptInt},
	{68, "panw.panos.sdwan.policy_name", asText},
	{69, "panw.panos.link_switches", asText},
	{70, "panw.panos.sdwan.cluster", asText},
	{71, "panw.panos.sdwan.device_type", asText},
	{72, "panw.panos.sdwan.cluster_type", asText},
	{73, "panw.panos.sdwan.site", asText},
	{74, "panw.panos.dynamic_user_group", asText},
	{76, "panw.panos.source.device.category", asText},
	{77, "panw.panos.source.device.profile", asText},
	{78, "panw.panos.source.device.model", asText},
	{79, "panw.panos.source.device.vendor", asText},
	{80, "panw.panos.source.device.os_family", asText},
	{81, "panw.panos.source.device.os_version", asText},
	{82, "panw.panos.source.hostname", asText},
	{83, "source.mac", asMAC},
	{84, "panw.panos.destination.device.category", asText},
	{85, "panw.panos.destination.device.profile", asText},
	{86, "panw.panos.destination.device.model", asText},
	{87, "panw.panos.destination.device.vendor", asText},
	{88, "panw.panos.destination.device.os_family", asText},
	{89, "panw.panos.destination.device.os_version", asText},
	{90, "panw.panos.destination.hostname", asText},
	{91, "destination.mac", asMAC},
	{92, "container.id", asText},
	{93, "orchestrator.namespace", asText},
	{94, "panw.panos.pod_name", asText},
	{95, "panw.panos.source.edl", asText},
	{96, "panw.panos.destination.edl", asText},
	{97, "panw.panos.host_id", asText},
	{98, "panw.panos.user_device_serial", asText},
	{99, "panw.panos.source.dynamic_address_group", asText},
	{100, "panw.panos.destination.dynamic_address_group", asText},
	{101, "panw.panos.session_owner", asText},
}

// trafficActions name the event for each TRAFFIC subtype.
var trafficActions = map[string]string{
	"start": "flow_started", "end": "flow_terminated", "drop": "flow_dropped", "deny": "flow_denied",
}

// mapTraffic maps a TRAFFIC log: one session's start, end or denial.
func (p *parser) mapTraffic(ev *event.Event, r row) {
	p.mapSession(ev, r)
	p.apply(ev, r, trafficColumns)
	sub := strings.ToLower(r.get(4))
	ev.Set(event.FieldKind, "event")
	ev.SetStrings("event.category", "network")
	if a, ok := trafficActions[sub]; ok {
		ev.SetString("event.action", a)
	} else {
		ev.SetString("event.action", sub)
	}
	// One list, built once: event.type is allowed/denied (from the
	// action, set by mapSession), start/end, connection.
	var buf [4]string
	types := append(buf[:0], ev.Strings("event.type")...)
	switch sub {
	case "start":
		types = append(types, "start")
	case "end":
		types = append(types, "end")
	case "drop", "deny":
		// A session stopped before or after App-ID: denied whatever
		// the action column says.
		if len(types) == 0 || types[0] != "denied" {
			types = append(types[:0], "denied")
		}
		ev.Set("event.outcome", "failure")
	}
	ev.SetStrings("event.type", append(types, "connection")...)
	// A start log's elapsed time is always 0: the session has no
	// duration yet.
	if secs, ok := decimal.ParseInt(r.get(36)); ok && secs >= 0 && sub != "start" {
		ev.SetInt("event.duration", secs*int64(time.Second))
		if start, ok := ev.Get("event.start"); ok {
			ev.SetTime("event.end", start.(time.Time).Add(time.Duration(secs)*time.Second))
		}
	}
	setForwarded(ev, r.get(75))
	p.highRes(ev, r, 102)
	relatedHosts(ev, "panw.panos.source.hostname", "panw.panos.destination.hostname")
}

// setForwarded keeps an X-Forwarded-For address as network.forwarded_ip
// (ECS), or as text when it is not an address.
func setForwarded(ev *event.Event, s string) {
	if s == "" {
		return
	}
	if a, ok := parseIP(s); ok {
		ev.SetString("network.forwarded_ip", a)
		return
	}
	ev.SetString("panw.panos.xff", s)
}

// relatedHosts adds host names that sit in vendor fields, which the
// pipeline's FillRelated does not know, to related.hosts.
func relatedHosts(ev *event.Event, fields ...string) {
	for _, f := range fields {
		if s := ev.String(f); s != "" {
			ev.Append(event.RelatedHosts, s)
		}
	}
}
