package panw

import (
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// decryptionColumns are the DECRYPTION log's own columns after the
// session's (PAN-OS 10.0+).
var decryptionColumns = []column{
	{31, "panw.panos.tunnel", asText},
	{34, "panw.panos.source.vm_uuid", asText},
	{35, "panw.panos.destination.vm_uuid", asText},
	{36, "rule.uuid", asText},
	{37, "panw.panos.tls.client_stage", asText},
	{38, "panw.panos.tls.server_stage", asText},
	{40, "panw.panos.tls.key_exchange", asText},
	{41, "panw.panos.tls.encryption", asText},
	{42, "panw.panos.tls.hash", asText},
	{43, "panw.panos.decryption_policy", asText},
	{44, "tls.curve", asText},
	{45, "panw.panos.tls.error_index", asText},
	{46, "panw.panos.tls.root_status", asText},
	{47, "panw.panos.tls.chain_status", asText},
	{48, "panw.panos.tls.proxy_type", asText},
	{49, "tls.server.x509.serial_number", asText},
	{50, "panw.panos.tls.fingerprint", asText},
	{51, "panw.panos.tls.not_before", asText},
	{52, "panw.panos.tls.not_after", asText},
	{53, "tls.server.x509.version_number", asText},
	{54, "panw.panos.tls.certificate_size", asInt},
	{59, "panw.panos.tls.certificate_flags", asText},
	{60, "tls.server.x509.subject.common_name", asList},
	{61, "tls.server.x509.issuer.common_name", asList},
	{62, "panw.panos.tls.root_common_name", asText},
	{63, "tls.client.server_name", asText},
	{64, "panw.panos.tls.error", asText},
	{65, "container.id", asText},
	{66, "orchestrator.namespace", asText},
	{67, "panw.panos.pod_name", asText},
	{68, "panw.panos.source.edl", asText},
	{69, "panw.panos.destination.edl", asText},
	{70, "panw.panos.source.dynamic_address_group", asText},
	{71, "panw.panos.destination.dynamic_address_group", asText},
	{79, "panw.panos.source.hostname", asText},
	{80, "source.mac", asMAC},
	{87, "panw.panos.destination.hostname", asText},
	{88, "destination.mac", asMAC},
	{89, "panw.panos.sequence_number", asText},
	{90, "panw.panos.action_flags", asText},
	{91, "panw.panos.device_group_hierarchy1", asOpt},
	{92, "panw.panos.device_group_hierarchy2", asOpt},
	{93, "panw.panos.device_group_hierarchy3", asOpt},
	{94, "panw.panos.device_group_hierarchy4", asOpt},
	{95, "panw.panos.virtual_sys_name", asText},
	{96, "observer.hostname", asText},
}

// mapDecryption maps a DECRYPTION log: the TLS handshake of a session
// that matched a decryption policy.
func (p *parser) mapDecryption(ev *event.Event, r row) {
	p.mapSession(ev, r)
	p.apply(ev, r, decryptionColumns)
	ev.Set(event.FieldKind, "event")
	ev.Set("event.action", "decryption")
	ev.SetStrings("event.category", "network")
	ev.Append("event.type", "connection", "protocol")
	// "TLS1.2" is ECS's tls.version_protocol "tls" and tls.version "1.2".
	if v := r.get(39); v != "" {
		lv := strings.ToLower(v)
		if strings.HasPrefix(lv, "tls") || strings.HasPrefix(lv, "ssl") {
			ev.SetString("tls.version_protocol", lv[:3])
			ev.SetString("tls.version", strings.TrimLeft(lv[3:], "v "))
		} else {
			ev.SetString("panw.panos.tls.version", v)
		}
	}
	if r.get(64) != "" && !strings.EqualFold(r.get(64), "none") {
		ev.Set("event.outcome", "failure")
	}
	p.highRes(ev, r, 72)
	relatedHosts(ev, "panw.panos.source.hostname", "panw.panos.destination.hostname", "tls.client.server_name")
}
