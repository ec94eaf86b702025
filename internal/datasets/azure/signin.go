package azure

import (
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/parse/jsontree"
)

const signInNS = "azure.signinlogs"

// signIn maps a sign-in: env is the diagnostic record (missing for a
// Graph resource), props its properties or the Graph signIn resource,
// which have the same keys.
func signIn(env, props jsontree.Value) *event.Event {
	ev := event.New(48 + 2*props.Len())
	ev.Set(event.FieldDataset, SignInLogsName)
	ev.Set(event.FieldKind, "event")
	ev.Set("event.category", []string{"authentication"})
	ev.Set("event.type", []string{"info"})
	ev.Set("cloud.provider", "azure")
	setEnvelope(ev, env, signInNS)
	ev.SetIfAbsent("event.action", "Sign-in activity")
	if t, ok := parseTime(props.Get("createdDateTime").Text()); ok {
		ev.SetIfAbsent(event.FieldTimestamp, t)
	}

	setUser(ev, "user", props.Get("userPrincipalName").Text(), props.Get("userDisplayName").Text(), props.Get("userId").Text())
	if ip, ok := parseIP(props.Get("ipAddress").Text()); ok {
		ev.SetString("source.ip", ip)
	}
	setSignInStatus(ev, props.Get("status"), env.Get("resultType").Text())
	setLocation(ev, props.Get("location"))
	ev.SetIfAbsent("source.geo.country_iso_code", env.Get("location").Text())
	setDevice(ev, props.Get("deviceDetail"))
	ev.SetString("user_agent.original", props.Get("userAgent").Text())
	ev.SetIfAbsent("azure.correlation_id", props.Get("correlationId").Text())

	setProperties(ev, props, signInNS+".properties.")
	return ev
}

// setSignInStatus sets the outcome from status.errorCode (0 is success),
// else from the record's resultType, and the message from the failure
// reason and its details.
func setSignInStatus(ev *event.Event, status jsontree.Value, resultType string) {
	code, hasCode := status.Get("errorCode").Int()
	switch {
	case hasCode && code == 0:
		ev.Set("event.outcome", "success")
	case hasCode:
		ev.Set("event.outcome", "failure")
	default:
		ev.SetString("event.outcome", resultOutcome(resultType))
	}
	reason := status.Get("failureReason").Text()
	if hasCode && code == 0 {
		// Successful sign-ins carry "Other." as their failure reason.
		reason = ""
	}
	details := status.Get("additionalDetails").Text()
	switch {
	case reason != "" && details != "":
		ev.SetString(event.FieldMessage, reason+" ("+details+")")
	case reason != "":
		ev.SetString(event.FieldMessage, reason)
	default:
		ev.SetString(event.FieldMessage, details)
	}
}

// setLocation maps the sign-in's location, which Entra ID resolves from
// the address itself.
func setLocation(ev *event.Event, loc jsontree.Value) {
	ev.SetString("source.geo.city_name", loc.Get("city").Text())
	ev.SetString("source.geo.region_name", loc.Get("state").Text())
	ev.SetString("source.geo.country_iso_code", loc.Get("countryOrRegion").Text())
	geo := loc.Get("geoCoordinates")
	lat, okLat := geo.Get("latitude").Float()
	lon, okLon := geo.Get("longitude").Float()
	if okLat && okLon && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 {
		ev.Set("source.geo.location.lat", lat)
		ev.Set("source.geo.location.lon", lon)
	}
}

// setDevice maps the device the user signed in from: its id, and its
// browser and operating system as the user agent Entra ID saw.
func setDevice(ev *event.Event, d jsontree.Value) {
	ev.SetString("device.id", d.Get("deviceId").Text())
	if name, version := splitBrowser(d.Get("browser").Text()); name != "" {
		ev.SetString("user_agent.name", name)
		ev.SetString("user_agent.version", version)
	}
	ev.SetString("user_agent.os.full", d.Get("operatingSystem").Text())
}

// splitBrowser splits Entra ID's browser text, a name and an optional
// version ("Chrome 77.0.3865", "Mobile Safari", "IE 11.0").
func splitBrowser(s string) (name, version string) {
	s = strings.TrimSpace(s)
	i := strings.LastIndexByte(s, ' ')
	if i > 0 && i < len(s)-1 && s[i+1] >= '0' && s[i+1] <= '9' {
		return s[:i], s[i+1:]
	}
	return s, ""
}
