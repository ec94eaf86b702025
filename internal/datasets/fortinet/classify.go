package fortinet

import (
	"strconv"
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// Actions that stop a session or request; everything else FortiGate
// logs (accept, close, timeout, passthrough, monitored, ...) let it
// happen.
var denyActions = map[string]bool{
	"deny": true, "denied": true, "block": true, "blocked": true, "drop": true, "dropped": true,
	"reset": true, "reset_client": true, "reset_server": true, "reject": true,
	"quarantine": true, "ban-ip": true, "clear_session": true,
}

// classify sets event.kind, category, type, action and outcome from the
// log's type and subtype, and the fields whose meaning depends on them
// (users, VPN peers, URLs).
func classify(ev *event.Event, l *logInfo) {
	ev.Set("observer.vendor", "Fortinet")
	ev.Set("observer.product", "Fortigate")
	ev.Set("observer.type", "firewall")
	ev.Set(event.FieldKind, "event")
	setUsers(ev, l)
	setURL(ev)
	action := strings.ToLower(l.action)
	denied := denyActions[action] || l.utmaction == "block" || l.utmaction == "blocked"

	switch l.typ {
	case "traffic":
		ev.SetStrings("event.category", "network")
		ev.SetString("event.action", l.action)
		// Built on the stack: this is the most frequent log.
		var buf [3]string
		types := append(buf[:0], "connection")
		switch {
		case action == "start":
			types = append(types, "start", "allowed")
		case denied:
			types = append(types, "end", "denied")
		case action != "":
			types = append(types, "end", "allowed")
		}
		ev.SetStrings("event.type", types...)
		if action != "" {
			ev.SetString("event.outcome", outcomeOf(denied))
		}
	case "utm", "dns":
		classifyUTM(ev, l, denied)
	case "event":
		classifyEvent(ev, l)
	default:
		ev.SetString("event.action", firstOf(l.action, l.eventtype))
	}
}

// classifyUTM classifies a security profile log (antivirus, IPS, web
// filter, DNS filter, application control, ...).
func classifyUTM(ev *event.Event, l *logInfo, denied bool) {
	ev.SetString("event.action", firstOf(l.action, l.eventtype))
	switch l.subtype {
	case "virus":
		ev.Set(event.FieldKind, "alert")
		ev.SetStrings("event.category", "malware", "network")
	case "ips", "anomaly":
		ev.Set(event.FieldKind, "alert")
		ev.SetStrings("event.category", "intrusion_detection", "network")
	case "webfilter", "waf":
		ev.SetStrings("event.category", "web", "network")
		ev.Append("event.type", "access")
	case "emailfilter":
		ev.SetStrings("event.category", "email", "network")
	case "dns":
		ev.SetStrings("event.category", "network")
		ev.Append("event.type", "protocol")
		ev.SetIfAbsent("network.protocol", "dns")
	case "app-ctrl", "ssl", "ssh", "cifs", "file-filter", "dlp", "icap", "voip":
		ev.SetStrings("event.category", "network")
		ev.Append("event.type", "protocol")
	default:
		ev.SetStrings("event.category", "network")
	}
	setAllowed(ev, denied, l.action != "" || l.utmaction != "")
	if !ev.Has("event.type") {
		ev.SetStrings("event.type", "info")
	}
}

// classifyEvent classifies an event log: the firewall's own system,
// administrator, user authentication and VPN events.
func classifyEvent(ev *event.Event, l *logInfo) {
	action := strings.ToLower(l.action)
	desc := strings.ToLower(l.logdesc)
	ev.SetString("event.action", firstOf(l.action, l.logdesc, l.eventtype))
	switch {
	case action == "login" || action == "logout" || strings.Contains(desc, "login") ||
		strings.Contains(desc, "logout") || strings.Contains(desc, "logged in"):
		ev.SetStrings("event.category", "authentication")
		if action == "logout" || strings.Contains(desc, "logout") {
			ev.SetStrings("event.type", "end")
		} else {
			ev.SetStrings("event.type", "start")
		}
	case l.cfgpath != "" || strings.Contains(desc, "configured") || strings.Contains(desc, "config change"):
		ev.SetStrings("event.category", "configuration")
		ev.SetStrings("event.type", "change")
	case l.subtype == "user":
		ev.SetStrings("event.category", "authentication")
		switch action {
		case "auth-logon", "fsso-logon", "logon":
			ev.SetStrings("event.type", "start")
		case "auth-logout", "fsso-logoff", "logoff":
			ev.SetStrings("event.type", "end")
		default:
			ev.SetStrings("event.type", "info")
		}
	case l.subtype == "vpn":
		ev.SetStrings("event.category", "network")
		ev.Append("event.type", "connection")
		switch action {
		case "tunnel-up", "phase2-up", "ssl-login-success", "tunnel-add":
			ev.Append("event.type", "start")
		case "tunnel-down", "phase2-down", "ssl-exit", "tunnel-delete":
			ev.Append("event.type", "end")
		}
	case l.subtype == "system":
		ev.SetStrings("event.category", "host")
		ev.SetStrings("event.type", "info")
	}
	setOutcome(ev, l)
	if l.subtype == "vpn" {
		setVPNPeers(ev, l)
	}
}

// setOutcome reads event.outcome from an event log's status or result.
func setOutcome(ev *event.Event, l *logInfo) {
	switch l.status {
	case "success", "succeeded", "up":
		ev.Set("event.outcome", "success")
		return
	case "failed", "failure", "fail", "negotiate_error", "error":
		ev.Set("event.outcome", "failure")
		return
	}
	switch strings.ToUpper(l.result) {
	case "OK":
		ev.Set("event.outcome", "success")
	case "ERROR":
		ev.Set("event.outcome", "failure")
	}
	switch strings.ToLower(l.action) {
	case "auth-logon", "auth-logout", "fsso-logon", "fsso-logoff":
		ev.SetIfAbsent("event.outcome", "success")
	case "auth-fail", "auth-failed":
		ev.SetIfAbsent("event.outcome", "failure")
	}
}

func outcomeOf(denied bool) string {
	if denied {
		return "failure"
	}
	return "success"
}

// setAllowed sets event.type allowed or denied, and the outcome, when the
// log says what was done.
func setAllowed(ev *event.Event, denied, known bool) {
	if !known {
		return
	}
	if denied {
		ev.Append("event.type", "denied")
		ev.Set("event.outcome", "failure")
		return
	}
	ev.Append("event.type", "allowed")
	ev.Set("event.outcome", "success")
}

// setUsers sets source.user.name from user (or, for traffic, the
// unauthenticated user FortiGate saw), and user.name from it: the user who
// acted.
func setUsers(ev *event.Event, l *logInfo) {
	name := firstOf(l.user, l.unauthuser)
	if l.subtype == "vpn" && l.xauthuser != "" {
		name = l.xauthuser
	}
	if l.user != "" && l.unauthuser != "" && l.user != l.unauthuser {
		ev.SetString(vendorPrefix+"unauthuser", l.unauthuser)
	}
	if l.xauthuser != "" && name != l.xauthuser {
		ev.SetString(vendorPrefix+"xauthuser", l.xauthuser)
	}
	ev.SetString("source.user.name", name)
	ev.SetString("user.name", name)
}

// setVPNPeers makes a VPN log's remote peer (remip, the client or the
// other gateway) the source and the firewall's local address the
// destination, where the log has no srcip/dstip of its own.
func setVPNPeers(ev *event.Event, l *logInfo) {
	if l.srcip == "" {
		setIP(ev, "source.ip", "remip", l.remip)
		setIntText(ev, "source.port", "remport", l.remport)
	} else if l.remip != "" {
		ev.SetString(vendorPrefix+"remip", l.remip)
	}
	if l.dstip == "" {
		setIP(ev, "destination.ip", "locip", l.locip)
		setIntText(ev, "destination.port", "locport", l.locport)
	} else if l.locip != "" {
		ev.SetString(vendorPrefix+"locip", l.locip)
	}
}

func setIntText(ev *event.Event, field, key, v string) {
	if v != "" {
		setInt(ev, field, key, v)
	}
}

// setURL builds url.* from the url pair (a path in most logs, a whole URL
// in some) and the hostname pair (already url.domain).
func setURL(ev *event.Event) {
	raw := ev.String(vendorPrefix + "url")
	if raw == "" {
		setDestinationDomain(ev, ev.String("url.domain"))
		return
	}
	ev.Delete(vendorPrefix + "url")
	host := ev.String("url.domain")
	rest := raw
	if i := strings.Index(rest, "://"); i > 0 {
		ev.SetString("url.scheme", strings.ToLower(rest[:i]))
		rest = rest[i+3:]
		j := strings.IndexAny(rest, "/?#")
		if j < 0 {
			j = len(rest)
		}
		h := rest[:j]
		if k := strings.LastIndexByte(h, ':'); k >= 0 && !strings.HasSuffix(h, "]") {
			if n, err := strconv.ParseInt(h[k+1:], 10, 64); err == nil && n > 0 && n < 65536 {
				ev.SetInt("url.port", n)
				h = h[:k]
			}
		}
		if h != "" {
			host = strings.Trim(h, "[]")
			ev.SetString("url.domain", host)
		}
		rest = rest[j:]
		ev.SetString("url.original", raw)
	} else if host != "" && strings.HasPrefix(raw, "/") {
		ev.SetString("url.original", host+raw)
	} else {
		ev.SetString("url.original", raw)
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		ev.SetString("url.fragment", rest[i+1:])
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		ev.SetString("url.query", rest[i+1:])
		rest = rest[:i]
	}
	ev.SetString("url.path", rest)
	setDestinationDomain(ev, host)
}

// setDestinationDomain makes the requested host name the destination's
// domain, unless it is an address.
func setDestinationDomain(ev *event.Event, host string) {
	if _, ok := event.ParseAddr(host); host != "" && !ok {
		ev.SetIfAbsent("destination.domain", host)
	}
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
