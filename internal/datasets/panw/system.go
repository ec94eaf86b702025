package panw

import (
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// systemColumns are the SYSTEM log's columns.
var systemColumns = []column{
	{7, "panw.panos.virtual_sys", asText},
	{8, "event.action", asText},
	{9, "panw.panos.object", asText},
	{12, "panw.panos.module", asText},
	{14, "message", asText},
	{15, "panw.panos.sequence_number", asText},
	{16, "panw.panos.action_flags", asText},
	{17, "panw.panos.device_group_hierarchy1", asOpt},
	{18, "panw.panos.device_group_hierarchy2", asOpt},
	{19, "panw.panos.device_group_hierarchy3", asOpt},
	{20, "panw.panos.device_group_hierarchy4", asOpt},
	{21, "panw.panos.virtual_sys_name", asText},
	{22, "observer.hostname", asText},
}

// mapSystem maps a SYSTEM log: an event of the firewall itself (a daemon,
// HA, an administrator's login, a VPN tunnel), named by its Event ID.
func (p *parser) mapSystem(ev *event.Event, r row) {
	p.apply(ev, r, systemColumns)
	setSeverity(ev, r.get(13))
	ev.Set(event.FieldKind, "event")
	id := strings.ToLower(r.get(8))
	sub := strings.ToLower(r.get(4))
	switch {
	case strings.HasPrefix(id, "auth-") || sub == "auth":
		ev.SetStrings("event.category", "authentication")
		ev.SetStrings("event.type", "info")
		setOutcomeWord(ev, id)
	case strings.Contains(id, "logout"):
		ev.SetStrings("event.category", "authentication")
		ev.SetStrings("event.type", "end")
	case strings.Contains(id, "login") || strings.Contains(id, "logged-in"):
		ev.SetStrings("event.category", "authentication")
		ev.SetStrings("event.type", "start")
		setOutcomeWord(ev, id)
	default:
		ev.SetStrings("event.category", "host")
		ev.SetStrings("event.type", "info")
		setOutcomeWord(ev, id)
	}
	p.highRes(ev, r, 25)
}

// setOutcomeWord sets event.outcome when an event name says how it ended
// ("auth-fail", "commit-succ", "login-success").
func setOutcomeWord(ev *event.Event, s string) {
	switch {
	case strings.Contains(s, "fail") || strings.Contains(s, "error") || strings.Contains(s, "denied"):
		ev.Set("event.outcome", "failure")
	case strings.Contains(s, "succ"):
		ev.Set("event.outcome", "success")
	}
}

// configColumns are the CONFIG log's columns up to the configuration path;
// what follows depends on the format (see mapConfig).
var configColumns = []column{
	{8, "panw.panos.virtual_sys", asText},
	{9, "event.action", asLower},
	{11, "panw.panos.client", asText},
	{12, "panw.panos.result", asText},
	{13, "panw.panos.config_path", asText},
}

// configTail are the columns after the path (and, in custom formats, the
// before and after change details), relative to the first of them.
var configTail = []column{
	{0, "panw.panos.sequence_number", asText},
	{1, "panw.panos.action_flags", asText},
	{2, "panw.panos.device_group_hierarchy1", asOpt},
	{3, "panw.panos.device_group_hierarchy2", asOpt},
	{4, "panw.panos.device_group_hierarchy3", asOpt},
	{5, "panw.panos.device_group_hierarchy4", asOpt},
	{6, "panw.panos.virtual_sys_name", asText},
	{7, "observer.hostname", asText},
	{8, "panw.panos.device_group", asText},
	{9, "panw.panos.audit_comment", asText},
}

// mapConfig maps a CONFIG log: a configuration change by an administrator.
func (p *parser) mapConfig(ev *event.Event, r row) {
	p.apply(ev, r, configColumns)
	ev.Set(event.FieldKind, "event")
	ev.SetStrings("event.category", "configuration")
	ev.SetStrings("event.type", "change")
	setUser(ev, actingUser, r.get(10))
	host := r.get(7)
	if a, ok := parseIP(host); ok {
		ev.SetString("source.ip", a)
	} else {
		ev.SetString("source.address", host)
	}
	// "Submitted" (a commit queued) says nothing yet about the outcome.
	switch strings.ToLower(r.get(12)) {
	case "succeeded", "success":
		ev.Set("event.outcome", "success")
	case "failed", "unauthorized":
		ev.Set("event.outcome", "failure")
	}
	// The default format has the sequence number (digits) and action
	// flags ("0x...") right after the path; a custom format that adds the
	// before- and after-change details has them two columns later.
	tail := 14
	if !isDigits(r.get(14)) || !strings.HasPrefix(r.get(15), "0x") {
		if isDigits(r.get(16)) && strings.HasPrefix(r.get(17), "0x") {
			ev.SetString("panw.panos.before_change_detail", r.get(14))
			ev.SetString("panw.panos.after_change_detail", r.get(15))
			tail = 16
		}
	}
	shifted := make([]column, len(configTail))
	for i, c := range configTail {
		shifted[i] = column{c.i + tail, c.field, c.conv}
	}
	p.apply(ev, r, shifted)
	p.highRes(ev, r, tail+11)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
