package azure

import (
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/parse/jsontree"
)

// setEnvelope maps the diagnostic record around properties (absent for
// Graph resources): time, tenant, resource, level, duration, operation.
// ns is the vendor namespace ("azure.signinlogs"); the record's own keys
// go under it in snake case.
func setEnvelope(ev *event.Event, r jsontree.Value, ns string) {
	for k, x := range r.Members() {
		switch k {
		case "properties":
		case "time":
			if t, ok := parseTime(x.Text()); ok {
				ev.Set(event.FieldTimestamp, t)
			}
		case "resourceId":
			id := x.Text()
			ev.SetString("azure.resource.id", id)
			if i := strings.LastIndex(id, "/providers/"); i >= 0 {
				provider, _, _ := strings.Cut(id[i+len("/providers/"):], "/")
				ev.SetString("azure.resource.provider", provider)
			}
		case "tenantId":
			ev.SetString("azure.tenant_id", x.Text())
		case "correlationId":
			ev.SetString("azure.correlation_id", x.Text())
		case "Level", "level":
			ev.SetString("log.level", x.Text())
		case "durationMs":
			if ms, ok := x.Float(); ok && ms >= 0 {
				ev.Set("event.duration", int64(ms*float64(time.Millisecond)))
			}
		case "operationName":
			ev.SetString("event.action", x.Text())
			ev.SetString(ns+".operation_name", x.Text())
		case "callerIpAddress":
			ev.SetString(ns+".caller_ip_address", x.Text())
			if ip, ok := parseIP(x.Text()); ok {
				ev.SetIfAbsent("source.ip", ip)
			}
		default:
			setAny(ev, ns+"."+jsontree.SnakeCase(k), x)
		}
	}
}

// setProperties stores every property under prefix, snake cased, as it
// came: the vendor record stays complete beside the ECS fields.
func setProperties(ev *event.Event, props jsontree.Value, prefix string) {
	for k, x := range props.Members() {
		setAny(ev, prefix+jsontree.SnakeCase(k), x)
	}
}

// setAny stores a vendor value: objects flattened below name, lists and
// scalars as event values (objects in lists with snake-cased keys).
func setAny(ev *event.Event, name string, v jsontree.Value) {
	if v.Kind() == jsontree.Object {
		for k, x := range v.Members() {
			setAny(ev, name+"."+jsontree.SnakeCase(k), x)
		}
		return
	}
	if x := v.Any(jsontree.SnakeCase); x != nil {
		ev.Set(name, x)
	}
}

// resultOutcome reads a diagnostic resultType or Graph result: "0" and
// "success" succeed; "failure", "timeout" and other error codes fail.
func resultOutcome(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return ""
	case "0", "success":
		return "success"
	case "failure", "timeout":
		return "failure"
	case "unknownfuturevalue", "none":
		return "unknown"
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return "unknown"
		}
	}
	return "failure"
}

// setUser maps a user principal name, display name and object id to
// user.* below prefix ("user" or "user.target").
func setUser(ev *event.Event, prefix, upn, displayName, id string) {
	if name, domain, ok := splitUPN(upn); ok {
		ev.SetString(prefix+".name", name)
		ev.SetString(prefix+".domain", domain)
	} else {
		ev.SetString(prefix+".name", upn)
	}
	ev.SetString(prefix+".full_name", displayName)
	ev.SetString(prefix+".id", id)
	if id != "" {
		// related.user holds every way a user is named; FillRelated
		// does not take ids.
		ev.Append(event.RelatedUser, id)
	}
}

// splitUPN splits user@domain. The name is the part before the last "@"
// (guest UPNs such as a_b.com#EXT#@tenant.onmicrosoft.com keep theirs).
func splitUPN(s string) (name, domain string, ok bool) {
	i := strings.LastIndexByte(s, '@')
	if i <= 0 || i == len(s)-1 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// parseIP reads an address, with or without a port, in canonical form.
// The unspecified address (0.0.0.0), which Entra ID writes when it has
// none, is no address.
func parseIP(s string) (string, bool) {
	s = strings.TrimSpace(s)
	addr, err := netip.ParseAddr(s)
	if err != nil {
		host, _, splitErr := net.SplitHostPort(s)
		if splitErr != nil {
			return "", false
		}
		if addr, err = netip.ParseAddr(host); err != nil {
			return "", false
		}
	}
	addr = addr.Unmap().WithZone("")
	if addr.IsUnspecified() {
		return "", false
	}
	return addr.String(), true
}

// parseTime reads Entra ID times: RFC 3339 with up to seven fractional
// digits ("2019-10-18T09:45:48.0729893Z", "...+00:00"); a time without a
// zone is UTC, as every Entra ID time is.
func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
