package dhcp

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// keaSeverities are the severities Kea writes before the logger.
var keaSeverities = map[string]string{
	"DEBUG": "debug", "INFO": "info", "WARN": "warn", "ERROR": "error", "FATAL": "fatal",
}

// isKea reports Kea's layout, "[DATE TIME] SEVERITY [kea-dhcp4...] ID
// text": its own log file, or the text after a syslog header (with or
// without the date, as the output pattern says).
func isKea(s string) bool {
	if len(s) >= 24 && s[4] == '-' && s[7] == '-' && s[10] == ' ' && s[13] == ':' {
		sp := strings.IndexByte(s[11:], ' ')
		if sp < 0 {
			return false
		}
		s = strings.TrimLeft(s[11+sp:], " ")
	}
	sev, rest, ok := strings.Cut(s, " ")
	if !ok {
		return false
	}
	if _, ok := keaSeverities[sev]; !ok {
		return false
	}
	return strings.HasPrefix(strings.TrimLeft(rest, " "), "[kea-dhcp4")
}

// parseKea maps one Kea line:
//
//	2026-11-20 10:00:00.123 INFO  [kea-dhcp4.leases/1234.140] DHCP4_LEASE_ALLOC [hwtype=1 00:0c:29:aa:bb:cc], cid=[...], tid=0x1234: lease 192.0.2.50 has been allocated for 3600 seconds
//
// The text after the message ID is the ID's documented format, which
// starts with the client's identification for per-client messages.
func (p *parser) parseKea(ev *event.Event, s string) error {
	if t, n, ok := parseKeaTime(s, p.loc); ok {
		ev.Set(event.FieldTimestamp, t)
		ev.SetString("event.timezone", p.loc.String())
		s = strings.TrimLeft(s[n:], " ")
	}
	sev, rest, _ := strings.Cut(s, " ")
	ev.SetString("log.level", keaSeverities[sev])
	rest = strings.TrimLeft(rest, " ")
	end := strings.IndexByte(rest, ']')
	if !strings.HasPrefix(rest, "[") || end < 0 {
		return fmt.Errorf("dhcp: Kea line without [logger]")
	}
	setKeaLogger(ev, rest[1:end])
	id, text, _ := strings.Cut(strings.TrimLeft(rest[end+1:], " "), " ")
	if !isMessageID(id) {
		return fmt.Errorf("dhcp: Kea line without a message ID: %.40q", id)
	}
	ev.SetString("event.code", id)
	// DHCP4_LEASE_ALLOC becomes dhcp4-lease-alloc.
	ev.SetString("event.action", strings.ToLower(strings.ReplaceAll(id, "_", "-")))
	mapKea(ev, id, text)
	if !ev.Has("event.outcome") && (sev == "ERROR" || sev == "FATAL") {
		ev.Set("event.outcome", "failure")
	}
	return nil
}

// setKeaLogger reads "kea-dhcp4.leases/1234.140563970693248" (logger,
// pid, thread: the file pattern) or "kea-dhcp4.leases.0x3cbfd6817b00"
// (logger and thread: the syslog pattern).
func setKeaLogger(ev *event.Event, s string) {
	logger, pidThread, hasPid := strings.Cut(s, "/")
	var thread string
	if hasPid {
		pid, tid, _ := strings.Cut(pidThread, ".")
		if n, err := strconv.ParseInt(pid, 10, 64); err == nil {
			ev.Set("process.pid", n)
		}
		thread = tid
	} else if dot := strings.LastIndexByte(s, '.'); dot > 0 && strings.HasPrefix(s[dot+1:], "0x") {
		logger, thread = s[:dot], s[dot+1:]
	}
	ev.SetString("log.logger", logger)
	if root, _, _ := strings.Cut(logger, "."); root != "" {
		ev.SetString("process.name", root)
	}
	if n, err := strconv.ParseUint(strings.TrimPrefix(thread, "0x"), threadBase(thread), 63); err == nil {
		ev.Set("process.thread.id", int64(n))
	}
}

func threadBase(s string) int {
	if strings.HasPrefix(s, "0x") {
		return 16
	}
	return 10
}

func isMessageID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// mapKea maps the text of the messages that name a lease, a packet or a
// client's host name; every message gets the client's identification
// when it has one.
func mapKea(ev *event.Event, id, text string) {
	mac, detail := keaClient(ev, text)
	ev.SetString("client.mac", mac)
	switch id {
	case "DHCP4_LEASE_ALLOC", "DHCP4_LEASE_REUSE":
		ip := ipAfter(detail, "lease ")
		keaLease(ev, lease{ip: ip, mac: mac, state: StateBound, duration: secondsAfter(detail, " for ")})
		ev.Set("event.type", []string{"protocol", "allowed"})
		ev.Set("event.outcome", "success")
	case "DHCP4_LEASE_ADVERT", "DHCP4_LEASE_OFFER":
		keaLease(ev, lease{ip: ipAfter(detail, "lease "), mac: mac, state: StateOffered})
		ev.Set("event.outcome", "success")
	case "DHCP4_RELEASE", "DHCP4_RELEASE_EXPIRED", "DHCP4_RELEASE_DELETED":
		keaLease(ev, lease{ip: ipAfter(detail, "address "), mac: mac, state: StateReleased})
		ev.Set("event.type", []string{"protocol", "end"})
	case "DHCP4_DECLINE_LEASE":
		keaLease(ev, lease{ip: ipAfter(detail, "addr "), mac: mac, state: StateDeclined})
	case "ALLOC_ENGINE_V4_LEASE_RECLAIM":
		keaLease(ev, lease{ip: ipAfter(detail, "address "), mac: mac, state: StateExpired})
		ev.Set("event.type", []string{"protocol", "end"})
	case "DHCP4_INIT_REBOOT":
		ev.SetString("client.ip", ipAfter(detail, "address "))
		categorise(ev, "protocol")
	case "DHCP4_PACKET_RECEIVED":
		keaPacket(ev, detail, "received from ", "observer.ingress.interface.name")
	case "DHCP4_PACKET_SEND":
		keaPacket(ev, detail, "packet ", "observer.egress.interface.name")
	case "DHCP4_CLIENT_HOSTNAME_DATA", "DHCP4_RESERVED_HOSTNAME_ASSIGNED", "DHCP4_RESPONSE_HOSTNAME_GENERATE":
		// "client sent Hostname option: NAME", "server assigned reserved
		// hostname NAME", "server has generated hostname NAME for the client"
		ev.SetString("client.domain", keaHostname(id, detail))
		categorise(ev, "protocol")
	case "DHCP4_CLIENT_FQDN_DATA", "DHCP4_RESPONSE_FQDN_DATA":
		ev.SetString("client.domain", quotedAfter(detail, "domain-name='"))
		categorise(ev, "protocol")
	default:
		switch {
		case strings.Contains(id, "_PACKET_NAK_"):
			categorise(ev, "protocol", "denied")
			ev.Set("event.outcome", "failure")
		case strings.HasPrefix(id, "ALLOC_ENGINE_V4_ALLOC_"):
			categorise(ev, "protocol")
			ev.Set("event.outcome", "failure")
		case strings.Contains(id, "CONFIG") || strings.Contains(id, "CFGMGR"):
			ev.Set("event.kind", "event")
			ev.Set("event.category", []string{"configuration"})
			ev.Set("event.type", []string{"info"})
		default:
			categorise(ev, "info")
		}
	}
}

// keaLease sets a lease record and the client it names. A message that
// should name the address but does not states no lease.
func keaLease(ev *event.Event, l lease) {
	categorise(ev, "protocol")
	if l.ip == "" {
		return
	}
	l.set(ev)
	setClient(ev, l.ip, l.mac, "")
}

// keaClient reads the client identification Kea writes as
// "[hwtype=1 08:00:27:4d:16:e9], cid=[01:08:00:27:4d:16:e9], tid=0x3f082956"
// and returns the MAC address (ECS form) and the text after the
// identification's ": ".
func keaClient(ev *event.Event, text string) (mac, detail string) {
	detail = text
	if i := strings.Index(text, "[hwtype="); i >= 0 {
		hw := text[i+len("[hwtype="):]
		if end := strings.IndexByte(hw, ']'); end >= 0 {
			if _, addr, ok := strings.Cut(hw[:end], " "); ok {
				mac = normalizeMAC(addr)
			}
		}
	}
	if i := strings.Index(text, "cid=["); i >= 0 {
		cid := text[i+len("cid=["):]
		if end := strings.IndexByte(cid, ']'); end >= 0 && cid[:end] != "no info" {
			ev.SetString("dhcp.client_id", cid[:end])
		}
	}
	if i := strings.Index(text, "tid=0x"); i >= 0 {
		j := i + len("tid=0x")
		for j < len(text) && isHex(text[j]) {
			j++
		}
		ev.SetString("dhcp.transaction_id", transactionID(text[i+len("tid=0x"):j]))
		if strings.HasPrefix(text[j:], ": ") {
			detail = text[j+2:]
		}
	}
	return mac, detail
}

// keaPacket reads DHCP4_PACKET_RECEIVED's "DHCPDISCOVER (type 1) received
// from 0.0.0.0 to 255.255.255.255 on interface eth0" and DHCP4_PACKET_SEND's
// "trying to send packet DHCPOFFER (type 2) from 192.0.2.1:67 to
// 192.0.2.50:68 on interface eth0": the packet's own endpoints.
func keaPacket(ev *event.Event, detail, typeAfter, ifaceField string) {
	categorise(ev, "protocol")
	msg := detail
	if typeAfter == "packet " {
		if i := strings.Index(detail, typeAfter); i >= 0 {
			msg = detail[i+len(typeAfter):]
		}
	}
	if name, _, ok := strings.Cut(msg, " "); ok && strings.HasPrefix(name, "DHCP") {
		ev.SetString("dhcp.message_type", name)
	}
	// "trying to send" also holds " to ": the addresses follow " from ".
	if i := strings.Index(detail, " from "); i >= 0 {
		ends := detail[i:]
		setEndpoint(ev, "source", ends, " from ")
		setEndpoint(ev, "destination", ends, " to ")
	}
	if i := strings.Index(detail, " on interface "); i >= 0 {
		iface, _, _ := strings.Cut(detail[i+len(" on interface "):], " ")
		ev.SetString(ifaceField, iface)
	}
}

// setEndpoint sets prefix.ip and prefix.port from "ADDR" or "ADDR:PORT"
// after marker.
func setEndpoint(ev *event.Event, prefix, s, marker string) {
	i := strings.Index(s, marker)
	if i < 0 {
		return
	}
	tok, _, _ := strings.Cut(s[i+len(marker):], " ")
	if ap, err := netip.ParseAddrPort(tok); err == nil {
		ev.SetString(prefix+".ip", ap.Addr().Unmap().String())
		ev.Set(prefix+".port", int64(ap.Port()))
	} else if a, err := netip.ParseAddr(tok); err == nil {
		ev.SetString(prefix+".ip", a.Unmap().String())
	}
}

func keaHostname(id, detail string) string {
	switch id {
	case "DHCP4_CLIENT_HOSTNAME_DATA":
		_, name, _ := strings.Cut(detail, "Hostname option: ")
		return strings.TrimSpace(name)
	case "DHCP4_RESERVED_HOSTNAME_ASSIGNED":
		_, name, _ := strings.Cut(detail, "hostname ")
		return strings.TrimSpace(name)
	default: // DHCP4_RESPONSE_HOSTNAME_GENERATE
		_, name, _ := strings.Cut(detail, "hostname ")
		name, _, _ = strings.Cut(name, " ")
		return name
	}
}

// quotedAfter returns the text between marker and the next quote, without
// a trailing root dot ("domain-name='host.example.com.'").
func quotedAfter(s, marker string) string {
	i := strings.Index(s, marker)
	if i < 0 {
		return ""
	}
	v, _, ok := strings.Cut(s[i+len(marker):], "'")
	if !ok {
		return ""
	}
	return strings.TrimSuffix(v, ".")
}

// ipAfter returns the IP address right after word, canonical, or "".
func ipAfter(s, word string) string {
	i := strings.Index(s, word)
	if i < 0 {
		return ""
	}
	tok := s[i+len(word):]
	end := 0
	for end < len(tok) && (isHex(tok[end]) || tok[end] == '.' || tok[end] == ':') {
		end++
	}
	a, err := netip.ParseAddr(tok[:end])
	if err != nil {
		return ""
	}
	return a.Unmap().String()
}

// secondsAfter reads "N seconds" after marker.
func secondsAfter(s, marker string) int64 {
	i := strings.LastIndex(s, marker)
	if i < 0 {
		return 0
	}
	num, unit, _ := strings.Cut(s[i+len(marker):], " ")
	if !strings.HasPrefix(unit, "second") {
		return 0
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// parseKeaTime reads Kea's "2026-11-20 10:00:00.123" (local time, no zone).
func parseKeaTime(s string, loc *time.Location) (time.Time, int, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, 0, false
	}
	n := 19
	if n < len(s) && s[n] == '.' {
		n++
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", s[:n], loc)
	if err != nil {
		return time.Time{}, 0, false
	}
	return t, n, true
}
