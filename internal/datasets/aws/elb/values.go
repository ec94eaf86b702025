package elb

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// setEndpoint maps "ip:port" to side.ip, side.address and side.port. "-"
// (no target: the request failed before one was chosen) sets nothing.
// IPv6 addresses are written without brackets, so the port is what follows
// the last colon; bracketed ones are read too.
func setEndpoint(ev *event.Event, side, v string) error {
	if v == "-" {
		return nil
	}
	host, port := v, ""
	if strings.HasPrefix(v, "[") {
		ap, err := netip.ParseAddrPort(v)
		if err != nil {
			return fmt.Errorf("%q is not ip:port", v)
		}
		setAddrPort(ev, side, ap.Addr(), ap.Port())
		return nil
	}
	if i := strings.LastIndexByte(v, ':'); i > 0 {
		host, port = v[:i], v[i+1:]
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%q is not ip:port", v)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return fmt.Errorf("%q is not ip:port", v)
	}
	setAddrPort(ev, side, a, uint16(n))
	return nil
}

func setAddrPort(ev *event.Event, side string, a netip.Addr, port uint16) {
	text := a.Unmap().String()
	// Constant names: building them per record would allocate.
	if side == "source" {
		ev.SetString("source.address", text)
		ev.SetString("source.ip", text)
		ev.Set("source.port", int64(port))
		return
	}
	ev.SetString("destination.address", text)
	ev.SetString("destination.ip", text)
	ev.Set("destination.port", int64(port))
}

// setDuration maps a processing time (seconds, or ms for NLB); AWS writes -1 when the
// step did not happen (no target, or the connection closed first).
func setDuration(ev *event.Event, field, v string) error {
	if v == "-1" || v == "-" {
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		return fmt.Errorf("%q is not a duration", v)
	}
	ev.Set(field, f)
	return nil
}

// setInt maps an integer field; "-" sets nothing.
func setInt(ev *event.Event, field, v string) error {
	if v == "-" {
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", v)
	}
	ev.Set(field, n)
	return nil
}

// setString maps a text field; "-" means absent.
func setString(ev *event.Event, field, v string) {
	if v != "-" {
		ev.SetString(field, v)
	}
}

// parseTime reads an access log time: RFC 3339 with a zone (ALB, Classic),
// or without one (NLB), which is then read in loc.
func parseTime(v string, loc *time.Location) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		if t, err = time.ParseInLocation("2006-01-02T15:04:05.999999999", v, loc); err != nil {
			return time.Time{}, fmt.Errorf("%q is not an ISO 8601 time", v)
		}
	}
	// Load balancers did not log before 1970; year 1 would be Go's zero
	// time, which an event cannot hold.
	if t.Year() < 1970 {
		return time.Time{}, fmt.Errorf("%q is no time a load balancer logged", v)
	}
	return t.UTC(), nil
}

// setTimestamp sets @timestamp from the log's time, to the microsecond the
// store keeps.
func setTimestamp(ev *event.Event, t time.Time) {
	ev.Set(event.FieldTimestamp, t)
}

// setTLS maps a cipher and protocol version. AWS writes the version as
// "TLSv1.2" (ALB, Classic) or "tlsv12" (NLB).
func setTLS(ev *event.Event, cipher, protocol string) {
	setString(ev, "tls.cipher", cipher)
	if protocol == "-" || protocol == "" {
		return
	}
	i := strings.IndexAny(protocol, "vV")
	if i <= 0 || i == len(protocol)-1 {
		ev.SetString("aws.elb.ssl_protocol", protocol)
		return
	}
	name, ver := strings.ToLower(protocol[:i]), protocol[i+1:]
	if !strings.Contains(ver, ".") {
		if len(ver) == 1 {
			ver += ".0"
		} else {
			ver = ver[:1] + "." + ver[1:]
		}
	}
	ev.SetString("tls.version_protocol", name)
	ev.SetString("tls.version", ver)
}

// setARNScope sets cloud.region and cloud.account.id from an ARN
// (arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/...).
func setARNScope(ev *event.Event, arn string) {
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return
	}
	var parts [4]string // partition, service, region, account
	for i := range parts {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return
		}
		parts[i], rest = rest[:j], rest[j+1:]
	}
	ev.SetString("cloud.region", parts[2])
	ev.SetString("cloud.account.id", parts[3])
}

// setOutcome follows HTTP: a status below 400 is a success.
func setOutcome(ev *event.Event, status string) {
	n, err := strconv.Atoi(status)
	if err != nil {
		return
	}
	if n < 400 {
		ev.Set("event.outcome", "success")
	} else {
		ev.Set("event.outcome", "failure")
	}
}
