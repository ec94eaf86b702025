package guardduty

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/parse/jsontree"
)

// setAction maps what the finding saw happen (service.action): who acted
// is the source, the affected resource the destination. For a connection
// the resource itself opened (OUTBOUND) the sides are swapped.
func setAction(ev *event.Event, r reader, act jsontree.Value) {
	if act.Kind() != jsontree.Object {
		return
	}
	ev.SetString("event.action", r.str(act, "actionType"))
	if nc := r.get(act, "networkConnectionAction"); nc.Kind() == jsontree.Object {
		networkConnection(ev, r, nc)
	}
	if pp := r.get(act, "portProbeAction"); pp.Kind() == jsontree.Object {
		portProbe(ev, r, pp)
	}
	if api := r.get(act, "awsApiCallAction"); api.Kind() == jsontree.Object {
		apiCall(ev, r, api)
	}
	if dns := r.get(act, "dnsRequestAction"); dns.Kind() == jsontree.Object {
		ev.SetString("dns.question.name", r.str(dns, "domain"))
		ev.Append(event.RelatedHosts, r.str(dns, "domain"))
		ev.Set("network.protocol", "dns")
		setTransport(ev, r.str(dns, "protocol"))
	}
	if k8s := r.get(act, "kubernetesApiCallAction"); k8s.Kind() == jsontree.Object {
		kubernetesCall(ev, r, k8s)
	}
	if rds := r.get(act, "rdsLoginAttemptAction"); rds.Kind() == jsontree.Object {
		remoteSide(ev, r, "source", r.get(rds, "remoteIpDetails"))
		// GuardDuty's samples write "LoginAttributes", against the
		// camelCase of every other member: either is read.
		attrs := r.get(rds, "loginAttributes")
		if !attrs.Exists() {
			attrs = rds.Get("LoginAttributes")
		}
		for la := range attrs.Elements() {
			ev.Append(event.RelatedUser, r.str(la, "user"))
		}
	}
}

func networkConnection(ev *event.Event, r reader, nc jsontree.Value) {
	dir := strings.ToLower(r.str(nc, "connectionDirection"))
	switch dir {
	case "inbound", "outbound", "unknown":
		ev.SetString("network.direction", dir)
	}
	setTransport(ev, r.str(nc, "protocol"))
	remote, local := "source", "destination"
	if dir == "outbound" {
		remote, local = "destination", "source"
	}
	remoteSide(ev, r, remote, r.get(nc, "remoteIpDetails"))
	setPort(ev, r, remote+".port", r.get(nc, "remotePortDetails"))
	setIP(ev, local+".ip", ipOf(r, r.get(nc, "localIpDetails")))
	setPort(ev, r, local+".port", r.get(nc, "localPortDetails"))
}

// portProbe maps the probes of a port scan: the first prober and probed
// port are source and destination; every address is related.
func portProbe(ev *event.Event, r reader, pp jsontree.Value) {
	first := true
	for d := range r.get(pp, "portProbeDetails").Elements() {
		if first {
			remoteSide(ev, r, "source", r.get(d, "remoteIpDetails"))
			setIP(ev, "destination.ip", ipOf(r, r.get(d, "localIpDetails")))
			setPort(ev, r, "destination.port", r.get(d, "localPortDetails"))
			first = false
		}
		appendRelatedIP(ev, ipOf(r, r.get(d, "remoteIpDetails")))
		appendRelatedIP(ev, ipOf(r, r.get(d, "localIpDetails")))
	}
}

func apiCall(ev *event.Event, r reader, api jsontree.Value) {
	remoteSide(ev, r, "source", r.get(api, "remoteIpDetails"))
	ev.SetString("event.provider", r.str(api, "serviceName"))
	ev.SetString("source.domain", r.str(r.get(api, "domainDetails"), "domain"))
	// userAgent is text in older findings, an object in newer ones.
	if ua := r.str(api, "userAgent"); ua != "" {
		ev.SetString("user_agent.original", ua)
	} else {
		ev.SetString("user_agent.original", r.str(r.get(api, "userAgent"), "fullUserAgent"))
	}
}

func kubernetesCall(ev *event.Event, r reader, k8s jsontree.Value) {
	remoteSide(ev, r, "source", r.get(k8s, "remoteIpDetails"))
	for el := range r.get(k8s, "sourceIps").Elements() {
		if !ev.Has("source.ip") {
			setIP(ev, "source.ip", el.Str())
		}
		appendRelatedIP(ev, el.Str())
	}
	ev.SetString("url.original", r.str(k8s, "requestUri"))
	ev.SetString("user_agent.original", r.str(k8s, "userAgent"))
	if code, ok := r.get(k8s, "statusCode").Int(); ok && code >= 100 && code <= 999 {
		ev.Set("http.response.status_code", code)
	}
}

// remoteSide maps a remoteIpDetails element to side.ip, side.geo.* and
// side.as.*: GuardDuty's own geolocation of the address.
func remoteSide(ev *event.Event, r reader, side string, d jsontree.Value) {
	if d.Kind() != jsontree.Object {
		return
	}
	setIP(ev, side+".ip", ipOf(r, d))
	country := r.get(d, "country")
	ev.SetString(side+".geo.country_iso_code", r.str(country, "countryCode"))
	ev.SetString(side+".geo.country_name", r.str(country, "countryName"))
	ev.SetString(side+".geo.city_name", r.str(r.get(d, "city"), "cityName"))
	loc := r.get(d, "geoLocation")
	lat, okLat := number(r.get(loc, "lat"))
	lon, okLon := number(r.get(loc, "lon"))
	if okLat && okLon {
		ev.Set(side+".geo.location.lat", lat)
		ev.Set(side+".geo.location.lon", lon)
	}
	org := r.get(d, "organization")
	if asn, ok := r.get(org, "asn").Int(); ok {
		ev.Set(side+".as.number", asn)
	}
	ev.SetString(side+".as.organization.name", r.str(org, "asnOrg"))
}

// ipOf reads an ipDetails element: IPv4, else IPv6.
func ipOf(r reader, d jsontree.Value) string {
	if s := r.str(d, "ipAddressV4"); s != "" {
		return s
	}
	return r.str(d, "ipAddressV6")
}

// setIP sets an address field in canonical form; other text is ignored.
func setIP(ev *event.Event, field, s string) {
	if a, err := netip.ParseAddr(s); err == nil {
		ev.SetString(field, a.Unmap().String())
	}
}

func appendRelatedIP(ev *event.Event, s string) {
	if a, err := netip.ParseAddr(s); err == nil {
		ev.Append(event.RelatedIP, a.Unmap().String())
	}
}

func setPort(ev *event.Event, r reader, field string, d jsontree.Value) {
	if p, ok := r.get(d, "port").Int(); ok && p >= 0 && p <= 65535 {
		ev.Set(field, p)
	}
}

// setTransport maps a protocol name ("TCP") to network.transport, a
// protocol number to network.iana_number.
func setTransport(ev *event.Event, proto string) {
	if proto == "" {
		return
	}
	if n, err := strconv.ParseUint(proto, 10, 8); err == nil {
		ev.SetString("network.iana_number", strconv.FormatUint(n, 10))
		return
	}
	ev.SetString("network.transport", strings.ToLower(proto))
}
