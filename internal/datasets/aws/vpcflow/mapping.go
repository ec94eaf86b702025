package vpcflow

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// flow collects the values that more than one ECS field is derived from.
type flow struct {
	src, dst         netip.Addr
	sport, dport     int64
	hasSport, hasDpt bool
	proto            string
	action           string
	logStatus        string
	start, end       time.Time
	recType          string
}

// mapRecord sets the event's fields from one record's tokens laid out as
// cols. A value of "-" means the field does not apply and sets nothing. A
// value that does not fit its field (an address that is none, a count that
// is no number) means the layout is wrong, and is an error.
func mapRecord(ev *event.Event, cols []column, tokens []string) error {
	var f flow
	for i, col := range cols {
		v := tokens[i]
		if v == "-" {
			continue
		}
		if err := mapField(ev, &f, col, v); err != nil {
			return fmt.Errorf("vpcflow: field %d (%s): %w", i+1, col.name, err)
		}
	}
	ev.Set("event.kind", "event")
	ev.Set("event.category", []string{"network"})
	ev.Set("cloud.provider", "aws")
	setOutcome(ev, &f)
	setNetwork(ev, &f)
	switch {
	case !f.end.IsZero():
		// Elastic's choice: a record is reported when its window ends.
		ev.Set(event.FieldTimestamp, f.end)
	case !f.start.IsZero():
		ev.Set(event.FieldTimestamp, f.start)
	}
	return nil
}

func mapField(ev *event.Event, f *flow, col column, v string) error {
	switch col.kind {
	case kindVendor, kindVersion, kindInterfaceID:
		ev.SetString(col.target, v)
	case kindAccountID:
		ev.SetString(col.target, v)
		// AWS writes "unknown" for interfaces that AWS services own.
		if v != "unknown" {
			ev.SetString("cloud.account.id", v)
		}
	case kindInstanceID:
		ev.SetString(col.target, v)
		ev.SetString("cloud.instance.id", v)
	case kindSrcAddr, kindDstAddr:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return fmt.Errorf("%q is not an IP address", v)
		}
		a = a.Unmap()
		side := "source"
		if col.kind == kindSrcAddr {
			f.src = a
		} else {
			f.dst, side = a, "destination"
		}
		text := a.String()
		ev.SetString(side+".address", text)
		ev.SetString(side+".ip", text)
	case kindPktSrcAddr, kindPktDstAddr:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return fmt.Errorf("%q is not an IP address", v)
		}
		text := a.Unmap().String()
		ev.SetString(col.target, text)
		// FillRelated knows only *.ip fields; the packet-level
		// addresses are hosts of the flow too.
		ev.Append(event.RelatedIP, text)
	case kindSrcPort, kindDstPort:
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil {
			return fmt.Errorf("%q is not a port number", v)
		}
		if col.kind == kindSrcPort {
			f.sport, f.hasSport = int64(n), true
			ev.Set("source.port", int64(n))
		} else {
			f.dport, f.hasDpt = int64(n), true
			ev.Set("destination.port", int64(n))
		}
	case kindProtocol:
		if _, err := strconv.ParseUint(v, 10, 8); err != nil {
			return fmt.Errorf("%q is not an IANA protocol number", v)
		}
		f.proto = v
		ev.SetString("network.iana_number", v)
	case kindPackets, kindBytes:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a count", v)
		}
		// The record counts what the source sent in the window
		// (Elastic's choice: source.*, copied to network.*).
		name := "packets"
		if col.kind == kindBytes {
			name = "bytes"
		}
		ev.Set("source."+name, n)
		ev.Set("network."+name, n)
	case kindStart, kindEnd:
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil || sec < 0 || sec > maxUnix {
			return fmt.Errorf("%q is not a time in Unix seconds", v)
		}
		t := time.Unix(sec, 0).UTC()
		if col.kind == kindStart {
			f.start = t
			ev.Set("event.start", t)
		} else {
			f.end = t
			ev.Set("event.end", t)
		}
	case kindAction:
		f.action = v
		ev.SetString(col.target, v)
	case kindLogStatus:
		f.logStatus = v
		ev.SetString(col.target, v)
	case kindTCPFlags:
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil {
			return fmt.Errorf("%q is not a TCP flag mask", v)
		}
		ev.SetString(col.target, v)
		ev.Set("aws.vpcflow.tcp_flags_array", tcpFlags(n))
	case kindType:
		f.recType = v
		ev.SetString(col.target, v)
	case kindRegion:
		ev.SetString("cloud.region", v)
	case kindAZID:
		// Elastic's choice: the zone's ID (use1-az1) stands for the zone.
		ev.SetString("cloud.availability_zone", v)
	case kindFlowDirection:
		ev.SetString("network.direction", v)
	case kindRejectReason:
		ev.SetString(col.target, v)
		ev.SetString("event.reason", v)
	}
	return nil
}

// maxUnix keeps times within what the store and RFC 3339 can hold.
const maxUnix = 253402300799 // 9999-12-31T23:59:59Z

// setOutcome maps the security group / network ACL decision. Records with
// no data (NODATA) or skipped records (SKIPDATA) carry no flow.
func setOutcome(ev *event.Event, f *flow) {
	if f.logStatus == "NODATA" || f.logStatus == "SKIPDATA" {
		ev.Set("event.type", []string{"info"})
		return
	}
	// Elastic's types: the decision is in event.action and event.outcome.
	ev.Set("event.type", []string{"connection"})
	switch f.action {
	case "ACCEPT":
		ev.Set("event.action", "allow")
		ev.Set("event.outcome", "success")
	case "REJECT":
		ev.Set("event.action", "deny")
		ev.Set("event.outcome", "failure")
	}
}

func setNetwork(ev *event.Event, f *flow) {
	switch {
	case f.recType != "":
		ev.SetString("network.type", strings.ToLower(f.recType))
	case f.src.Is4():
		ev.Set("network.type", "ipv4")
	case f.src.Is6():
		ev.Set("network.type", "ipv6")
	}
	if f.proto == "" {
		return
	}
	transport := ianaTransport[f.proto]
	ev.SetString("network.transport", transport)
	if f.src.IsValid() && f.dst.IsValid() && f.hasSport && f.hasDpt {
		if id, ok := communityID(f.src, f.dst, uint16(f.sport), uint16(f.dport), f.proto); ok {
			ev.SetString("network.community_id", id)
		}
	}
}

func tcpFlags(n uint64) []string {
	var out []string
	for i, name := range tcpFlagNames {
		if n&(1<<i) != 0 {
			out = append(out, name)
		}
	}
	return out
}
