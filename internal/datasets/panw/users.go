package panw

import (
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// globalProtectColumns are the GLOBALPROTECT log's columns (PAN-OS 9.1+).
var globalProtectColumns = []column{
	{7, "panw.panos.virtual_sys", asText},
	{8, "event.action", asText},
	{9, "panw.panos.stage", asText},
	{10, "panw.panos.auth_method", asText},
	{11, "panw.panos.tunnel_type", asOpt},
	{13, "panw.panos.source.region", asText},
	{14, "panw.panos.machine_name", asText},
	{19, "panw.panos.host_id", asText},
	{20, "panw.panos.user_device_serial", asText},
	{21, "panw.panos.client.version", asText},
	{22, "panw.panos.client.os", asText},
	{23, "panw.panos.client.os_version", asText},
	{24, "panw.panos.repeat_count", asInt},
	{25, "event.reason", asText},
	{26, "panw.panos.error", asText},
	{27, "message", asText},
	{28, "panw.panos.status", asText},
	{29, "panw.panos.location", asText},
	{30, "panw.panos.login_duration", asInt},
	{31, "panw.panos.connect_method", asText},
	{32, "panw.panos.error_code", asOpt},
	{33, "panw.panos.portal", asText},
	{34, "panw.panos.sequence_number", asText},
	{35, "panw.panos.action_flags", asText},
	{37, "panw.panos.selection_type", asText},
	{38, "panw.panos.response_time", asText},
	{39, "panw.panos.priority", asText},
	{40, "panw.panos.attempted_gateways", asText},
	{41, "panw.panos.gateway", asText},
	{42, "panw.panos.device_group_hierarchy1", asOpt},
	{43, "panw.panos.device_group_hierarchy2", asOpt},
	{44, "panw.panos.device_group_hierarchy3", asOpt},
	{45, "panw.panos.device_group_hierarchy4", asOpt},
	{46, "panw.panos.virtual_sys_name", asText},
	{47, "observer.hostname", asText},
	{48, "panw.panos.virtual_sys_id", asText},
	{49, "panw.panos.cluster_name", asText},
}

// mapGlobalProtect maps a GLOBALPROTECT log: a VPN client's portal or
// gateway authentication, connection or logout.
func (p *parser) mapGlobalProtect(ev *event.Event, r row) {
	p.apply(ev, r, globalProtectColumns)
	setUser(ev, sourceUser, r.get(12))
	copyUser(ev)
	// The client's public address is the session's source; the address
	// the gateway gave it inside the tunnel is kept beside it.
	setFirstIP(ev, "source.ip", r.get(15), r.get(16))
	var buf [2]string
	private := buf[:0]
	for _, s := range [...]string{r.get(17), r.get(18)} {
		if a, ok := parseIP(s); ok && a != "0.0.0.0" && a != "::" {
			private = append(private, a)
		}
	}
	ev.SetStrings("panw.panos.private.ip", private...)
	if pub, ok := parseIP(r.get(16)); ok && pub != "::" && pub != ev.String("source.ip") {
		ev.Append(event.RelatedIP, pub)
	}

	ev.Set(event.FieldKind, "event")
	id := strings.ToLower(r.get(8))
	switch {
	case strings.Contains(id, "logout") || strings.Contains(id, "disconnect"):
		ev.SetStrings("event.category", "session")
		ev.SetStrings("event.type", "end")
	case strings.Contains(id, "auth") || strings.Contains(id, "login"):
		ev.SetStrings("event.category", "authentication")
		ev.SetStrings("event.type", "info")
	case strings.Contains(id, "connected") || strings.Contains(id, "register"):
		ev.SetStrings("event.category", "session")
		ev.SetStrings("event.type", "start")
	default:
		ev.SetStrings("event.category", "network")
		ev.SetStrings("event.type", "info")
	}
	switch strings.ToLower(r.get(28)) {
	case "success":
		ev.Set("event.outcome", "success")
	case "failure", "fail", "failed":
		ev.Set("event.outcome", "failure")
	}
	p.highRes(ev, r, 36)
}

// setFirstIP sets field to the first of values that is an address other
// than the unspecified one.
func setFirstIP(ev *event.Event, field string, values ...string) {
	for _, s := range values {
		if a, ok := parseIP(s); ok && a != "0.0.0.0" && a != "::" {
			ev.SetString(field, a)
			return
		}
	}
}

// hipMatchColumns are the HIP-MATCH log's columns (PAN-OS 8.1+; 8.0.5 to
// 8.0.10 used another order, which this dataset does not read).
var hipMatchColumns = []column{
	{8, "panw.panos.virtual_sys", asText},
	{9, "panw.panos.machine_name", asText},
	{10, "panw.panos.client.os", asText},
	{12, "panw.panos.hip.name", asText},
	{13, "panw.panos.repeat_count", asInt},
	{14, "panw.panos.hip.type", asText},
	{17, "panw.panos.sequence_number", asText},
	{18, "panw.panos.action_flags", asText},
	{19, "panw.panos.device_group_hierarchy1", asOpt},
	{20, "panw.panos.device_group_hierarchy2", asOpt},
	{21, "panw.panos.device_group_hierarchy3", asOpt},
	{22, "panw.panos.device_group_hierarchy4", asOpt},
	{23, "panw.panos.virtual_sys_name", asText},
	{24, "observer.hostname", asText},
	{25, "panw.panos.virtual_sys_id", asText},
	{27, "panw.panos.host_id", asText},
	{28, "panw.panos.user_device_serial", asText},
	{29, "source.mac", asMAC},
}

// mapHIPMatch maps a HIP-MATCH log: a GlobalProtect host matched a host
// information profile or object.
func (p *parser) mapHIPMatch(ev *event.Event, r row) {
	p.apply(ev, r, hipMatchColumns)
	setUser(ev, sourceUser, r.get(7))
	copyUser(ev)
	setFirstIP(ev, "source.ip", r.get(11), r.get(26))
	ev.Set(event.FieldKind, "event")
	ev.Set("event.action", "hip_match")
	ev.SetStrings("event.category", "host")
	ev.SetStrings("event.type", "info")
	p.highRes(ev, r, 30)
}

// userIDColumns are the USERID log's columns.
var userIDColumns = []column{
	{7, "panw.panos.virtual_sys", asText},
	{8, "source.ip", asIP},
	{10, "panw.panos.data_source_name", asText},
	{11, "panw.panos.event_id", asText},
	{12, "panw.panos.repeat_count", asInt},
	{13, "panw.panos.timeout", asInt},
	{14, "panw.panos.begin_port", asInt},
	{15, "panw.panos.end_port", asInt},
	{16, "panw.panos.data_source", asText},
	{17, "panw.panos.data_source_type", asText},
	{18, "panw.panos.sequence_number", asText},
	{19, "panw.panos.action_flags", asText},
	{20, "panw.panos.device_group_hierarchy1", asOpt},
	{21, "panw.panos.device_group_hierarchy2", asOpt},
	{22, "panw.panos.device_group_hierarchy3", asOpt},
	{23, "panw.panos.device_group_hierarchy4", asOpt},
	{24, "panw.panos.virtual_sys_name", asText},
	{25, "observer.hostname", asText},
	{26, "panw.panos.virtual_sys_id", asText},
	{27, "panw.panos.factor_type", asText},
	{28, "panw.panos.factor_completion_time", asTime},
	{29, "panw.panos.factor_number", asOptInt},
	{30, "panw.panos.user_group_flags", asText},
	{31, "panw.panos.user_by_source", asText},
	{32, "panw.panos.tag_name", asText},
	{34, "panw.panos.origin_data_source", asText},
	{36, "panw.panos.cluster_name", asText},
}

// mapUserID maps a USERID log: User-ID learnt (or forgot) which user is
// at an address, or tagged a user.
func (p *parser) mapUserID(ev *event.Event, r row) {
	p.apply(ev, r, userIDColumns)
	setUser(ev, sourceUser, r.get(9))
	copyUser(ev)
	sub := strings.ToLower(r.get(4))
	ev.Set(event.FieldKind, "event")
	ev.SetString("event.action", sub)
	switch sub {
	case "login":
		ev.SetStrings("event.category", "authentication")
		ev.SetStrings("event.type", "start")
	case "logout":
		ev.SetStrings("event.category", "authentication")
		ev.SetStrings("event.type", "end")
	default:
		ev.SetStrings("event.category", "iam")
		ev.SetStrings("event.type", "change")
	}
	p.highRes(ev, r, 33)
}

// authColumns are the AUTH (Authentication) log's columns.
var authColumns = []column{
	{7, "panw.panos.virtual_sys", asText},
	{8, "source.ip", asIP},
	{10, "panw.panos.normalize_user", asText},
	{11, "panw.panos.object", asText},
	{12, "panw.panos.auth_policy", asText},
	{13, "panw.panos.repeat_count", asInt},
	{14, "panw.panos.auth_id", asText},
	{15, "panw.panos.vendor", asText},
	{16, "panw.panos.log_profile", asText},
	{17, "panw.panos.server_profile", asText},
	{18, "message", asText},
	{19, "panw.panos.client_type", asText},
	{20, "event.action", asText},
	{21, "panw.panos.factor_number", asOptInt},
	{22, "panw.panos.sequence_number", asText},
	{23, "panw.panos.action_flags", asText},
	{24, "panw.panos.device_group_hierarchy1", asOpt},
	{25, "panw.panos.device_group_hierarchy2", asOpt},
	{26, "panw.panos.device_group_hierarchy3", asOpt},
	{27, "panw.panos.device_group_hierarchy4", asOpt},
	{28, "panw.panos.virtual_sys_name", asText},
	{29, "observer.hostname", asText},
	{30, "panw.panos.virtual_sys_id", asText},
	{31, "panw.panos.auth_protocol", asText},
	{32, "rule.uuid", asText},
	{41, "source.mac", asMAC},
	{42, "panw.panos.region", asText},
	{44, "user_agent.original", asText},
	{45, "panw.panos.session_id", asText},
}

// mapAuth maps an AUTH log: a user authenticating to the firewall's
// authentication policy (captive portal, MFA).
func (p *parser) mapAuth(ev *event.Event, r row) {
	p.apply(ev, r, authColumns)
	setUser(ev, sourceUser, r.get(9))
	copyUser(ev)
	ev.Set(event.FieldKind, "event")
	ev.SetStrings("event.category", "authentication")
	ev.SetStrings("event.type", "info")
	setOutcomeWord(ev, strings.ToLower(r.get(20)))
	p.highRes(ev, r, 33)
}
