package guardduty

import (
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/parse/jsontree"
)

// mapFinding maps one finding f, of about size bytes of JSON, as
// documented in the GuardDuty finding format.
func mapFinding(r reader, f jsontree.Value, size int) *event.Event {
	// A finding flattens to about one field per 24 bytes of JSON; room
	// for them all spares the map its growing.
	ev := event.New(32 + size/20)
	// Every field of the finding, in its own structure, snake_case; the
	// severity and the times are mapped below.
	flattenFinding(ev, f)

	created, hasCreated := parseTime(r.str(f, "createdAt"))
	updated, hasUpdated := parseTime(r.str(f, "updatedAt"))
	switch {
	case hasUpdated:
		ev.Set(event.FieldTimestamp, updated)
	case hasCreated:
		ev.Set(event.FieldTimestamp, created)
	}
	if hasCreated {
		ev.Set("aws.guardduty.created_at", created)
		ev.Set("event.created", created)
	}
	if hasUpdated {
		ev.Set("aws.guardduty.updated_at", updated)
	}

	typ := r.str(f, "type")
	ev.Set(event.FieldKind, "alert")
	ev.Set("event.category", categories(typ))
	ev.Set("event.type", []string{"info"})
	ev.SetString("rule.name", typ)
	// "Trojan:EC2/BlackholeTraffic!DNS": threat purpose "Trojan", and the
	// resource it concerns in "Trojan:EC2".
	if purpose, _, ok := strings.Cut(typ, ":"); ok {
		ev.SetString("rule.category", purpose)
	}
	if ruleset, _, ok := strings.Cut(typ, "/"); ok {
		ev.SetString("rule.ruleset", ruleset)
	}
	if msg := r.str(f, "description"); msg != "" {
		ev.SetString(event.FieldMessage, msg)
	} else {
		ev.SetString(event.FieldMessage, r.str(f, "title"))
	}
	if sev, ok := number(r.get(f, "severity")); ok {
		ev.Set("event.severity", int64(math.Floor(sev)))
		ev.Set("aws.guardduty.severity.code", sev)
		ev.SetString("aws.guardduty.severity.value", severityLabel(sev))
	}

	ev.Set("cloud.provider", "aws")
	ev.SetString("cloud.account.id", r.str(f, "accountId"))
	ev.SetString("cloud.region", r.str(f, "region"))

	svc := r.get(f, "service")
	ev.SetString("cloud.service.name", r.str(svc, "serviceName"))
	setTime(ev, "event.start", r.str(svc, "eventFirstSeen"))
	setTime(ev, "event.end", r.str(svc, "eventLastSeen"))
	setResource(ev, r, r.get(f, "resource"))
	setAction(ev, r, r.get(svc, "action"))
	return ev
}

// categories places a finding in ECS: GuardDuty is an intrusion detection
// system; findings about malicious software are malware too.
func categories(typ string) []string {
	purpose, _, _ := strings.Cut(typ, ":")
	switch {
	case purpose == "Trojan", purpose == "Backdoor", purpose == "CryptoCurrency",
		strings.Contains(typ, "MaliciousFile"):
		return []string{"intrusion_detection", "malware"}
	}
	return []string{"intrusion_detection"}
}

// severityLabel names GuardDuty's severity bands.
func severityLabel(sev float64) string {
	switch {
	case sev >= 9:
		return "Critical"
	case sev >= 7:
		return "High"
	case sev >= 4:
		return "Medium"
	default:
		return "Low"
	}
}

// setResource maps the affected resource: an EC2 instance to host.* and
// cloud.*, an access key's user to user.*, an EKS cluster to
// orchestrator.*.
func setResource(ev *event.Event, r reader, res jsontree.Value) {
	if inst := r.get(res, "instanceDetails"); inst.Kind() == jsontree.Object {
		id := r.str(inst, "instanceId")
		ev.SetString("cloud.instance.id", id)
		ev.SetString("host.id", id)
		ev.SetString("cloud.machine.type", r.str(inst, "instanceType"))
		ev.SetString("host.type", r.str(inst, "instanceType"))
		ev.SetString("cloud.availability_zone", r.str(inst, "availabilityZone"))
		first := true
		for nic := range r.get(inst, "networkInterfaces").Elements() {
			if first {
				// The instance's own name, what hostname returns on it.
				ev.SetString("host.name", r.str(nic, "privateDnsName"))
				ev.SetString("host.hostname", r.str(nic, "privateDnsName"))
				first = false
			}
			appendIP(ev, "host.ip", r.str(nic, "privateIpAddress"))
			for p := range r.get(nic, "privateIpAddresses").Elements() {
				appendIP(ev, "host.ip", r.str(p, "privateIpAddress"))
				ev.Append(event.RelatedHosts, r.str(p, "privateDnsName"))
			}
			appendIP(ev, "host.ip", r.str(nic, "publicIp"))
			for a := range r.get(nic, "ipv6Addresses").Elements() {
				appendIP(ev, "host.ip", a.Str())
			}
			ev.Append(event.RelatedHosts, r.str(nic, "privateDnsName"), r.str(nic, "publicDnsName"))
		}
	}
	if key := r.get(res, "accessKeyDetails"); key.Kind() == jsontree.Object {
		ev.SetString("user.name", r.str(key, "userName"))
		ev.SetString("user.id", r.str(key, "principalId"))
	}
	if eks := r.get(res, "eksClusterDetails"); eks.Kind() == jsontree.Object {
		ev.Set("orchestrator.type", "kubernetes")
		ev.SetString("orchestrator.cluster.name", r.str(eks, "name"))
	}
	if k8s := r.get(r.get(res, "kubernetesDetails"), "kubernetesUserDetails"); k8s.Kind() == jsontree.Object {
		ev.SetIfAbsent("user.name", r.str(k8s, "username"))
		ev.SetIfAbsent("user.id", r.str(k8s, "uid"))
	}
}

// appendIP adds an address, in canonical form, to a list field and to
// related.ip.
func appendIP(ev *event.Event, field, s string) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return
	}
	ip := a.Unmap().String()
	ev.Append(field, ip)
	ev.Append(event.RelatedIP, ip)
}

func setTime(ev *event.Event, field, s string) {
	if t, ok := parseTime(s); ok {
		ev.Set(field, t)
	}
}

// parseTime reads GuardDuty's RFC 3339 times ("2022-11-22T12:22:20.934Z").
func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// number reads a JSON number, or a number written as text.
func number(v jsontree.Value) (float64, bool) {
	f, ok := v.Float()
	return f, ok && !math.IsNaN(f) && !math.IsInf(f, 0)
}
