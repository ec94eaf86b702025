package dhcp

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// iscVerbs are the DHCP and BOOTP messages ISC dhcpd logs, one per line.
var iscVerbs = map[string]bool{
	"DHCPDISCOVER": true, "DHCPOFFER": true, "DHCPREQUEST": true, "DHCPACK": true, "DHCPNAK": true,
	"DHCPRELEASE": true, "DHCPINFORM": true, "DHCPDECLINE": true, "BOOTREQUEST": true, "BOOTREPLY": true,
}

// isISCMessage reports a line of dhcpd's that starts with a message name.
func isISCMessage(s string) bool {
	verb, _, ok := strings.Cut(s, " ")
	return ok && iscVerbs[verb]
}

// iscLine is what a dhcpd message line names.
type iscLine struct {
	verb     string
	ipWord   string // "on", "for", "of", "from" or "to": how the address was introduced
	ip       string
	mac      string
	hostname string
	serverID string
	notFound bool
	reason   string
	duration int64 // Infoblox's lease-duration, seconds
}

// parseISC maps a dhcpd message line. dhcpd writes them as words:
//
//	DHCPDISCOVER from 00:11:22:33:44:55 (host1) via eth0
//	DHCPOFFER on 10.0.0.5 to 00:11:22:33:44:55 (host1) via eth0
//	DHCPREQUEST for 10.0.0.5 (10.0.0.1) from 00:11:22:33:44:55 (host1) via eth0
//	DHCPACK on 10.0.0.5 to 00:11:22:33:44:55 (host1) via eth0
//	DHCPRELEASE of 10.0.0.5 from 00:11:22:33:44:55 (host1) via eth0 (found)
//	DHCPINFORM from 10.0.0.5 via eth0
//
// Infoblox adds "TransID x", "uid x", "relay x", "lease-duration n" and
// "offered-duration n"; a ':' after a word ends the words and starts a
// note ("...: network 10.0.0.0/24: no free leases").
func parseISC(ev *event.Event, s string) error {
	verb, rest, _ := strings.Cut(s, " ")
	l := iscLine{verb: verb}
	prev := ""
	for rest != "" {
		var tok string
		tok, rest = nextWord(rest)
		if tok == "" {
			continue
		}
		// "(a b c)": a host name may hold spaces.
		if tok[0] == '(' {
			for !strings.HasSuffix(strings.TrimSuffix(tok, ":"), ")") && rest != "" {
				var more string
				more, rest = nextWord(rest)
				tok += " " + more
			}
		}
		last := strings.HasSuffix(tok, ":")
		tok = strings.TrimSuffix(tok, ":")
		if tok == "" {
			// a lone ":"
		} else if tok[0] == '(' {
			l.paren(ev, prev, strings.Trim(tok, "()"))
		} else if ok, err := l.keyword(ev, tok, &rest, &last); err != nil {
			return err
		} else if ok {
			prev = tok
		}
		if last {
			l.reason = strings.TrimSpace(rest)
			break
		}
	}
	if err := l.check(); err != nil {
		return err
	}
	l.apply(ev)
	return nil
}

// check reports a line that lacks what its message always names: the
// address for a message about one, the hardware address for a discover.
func (l *iscLine) check() error {
	switch l.verb {
	case "DHCPDISCOVER", "BOOTREQUEST":
		if l.mac == "" {
			return fmt.Errorf("dhcp: %s without a hardware address", l.verb)
		}
	default:
		if l.ip == "" {
			return fmt.Errorf("dhcp: %s without an IP address", l.verb)
		}
	}
	return nil
}

// nextWord splits off the first space-separated word.
func nextWord(s string) (word, rest string) {
	s = strings.TrimLeft(s, " ")
	word, rest, _ = strings.Cut(s, " ")
	return word, rest
}

// keyword reads a keyword's value from rest. It reports false for a word
// that is not a keyword.
func (l *iscLine) keyword(ev *event.Event, kw string, rest *string, last *bool) (bool, error) {
	switch kw {
	case "on", "for", "of", "from", "to", "via", "uid", "TransID", "relay", "lease-duration", "offered-duration":
	default:
		return false, nil
	}
	var v string
	v, *rest = nextWord(*rest)
	if strings.HasSuffix(v, ":") {
		v, *last = strings.TrimSuffix(v, ":"), true
	}
	switch kw {
	case "on", "for", "of":
		if !isIP(v) {
			return false, fmt.Errorf("dhcp: %s %s %q: not an IP address", l.verb, kw, v)
		}
		l.ip, l.ipWord = canonicalIP(v), kw
	case "from", "to":
		switch {
		case normalizeMAC(v) != "":
			l.mac = normalizeMAC(v)
		case isIP(v):
			l.ip, l.ipWord = canonicalIP(v), kw
		case kw == "to" && l.verb == "BOOTREPLY":
			// "to host (mac)"
			l.hostname = v
		default:
			return false, fmt.Errorf("dhcp: %s %s %q: neither a hardware nor an IP address", l.verb, kw, v)
		}
	case "via":
		if isIP(v) {
			ev.SetString("dhcp.relay.ip", canonicalIP(v))
		} else {
			ev.SetString("observer.ingress.interface.name", v)
		}
	case "uid":
		ev.SetString("dhcp.client_id", v)
	case "TransID":
		ev.SetString("dhcp.transaction_id", transactionID(v))
	case "relay":
		ev.SetString("dhcp.relay.interface", v)
	case "lease-duration":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			l.duration = n
		}
	case "offered-duration":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			ev.Set("dhcp.offered_duration", n)
		}
	}
	return true, nil
}

// paren reads a parenthesised word, whose meaning depends on the keyword
// before it: the server identifier after "for IP", the host name (or, in
// "to IP (mac)", the MAC address) after an address, found / not found
// after "via".
func (l *iscLine) paren(ev *event.Event, prev, v string) {
	switch prev {
	case "for", "on", "of":
		if isIP(v) {
			l.serverID = canonicalIP(v)
		}
	case "from", "to":
		if mac := normalizeMAC(v); mac != "" {
			l.mac = mac
		} else if v != "" {
			l.hostname = v
		}
	case "via":
		l.notFound = v == "not found"
	}
}

// apply sets the event from the line by message: the lease it states, the
// client, and the packet's direction (source for what the client sent,
// destination for what the server sent).
func (l *iscLine) apply(ev *event.Event) {
	ev.SetString("event.action", strings.ToLower(l.verb))
	ev.SetString("dhcp.message_type", l.verb)
	ev.SetString("dhcp.reason", l.reason)
	ev.SetString("server.ip", l.serverID)
	categorise(ev, "protocol")
	toClient := func(ip string) {
		ev.SetString("destination.ip", ip)
		ev.SetString("destination.mac", l.mac)
	}
	fromClient := func(ip string) {
		ev.SetString("source.ip", ip)
		ev.SetString("source.mac", l.mac)
	}
	setClient(ev, l.ip, l.mac, l.hostname)
	switch l.verb {
	case "DHCPDISCOVER", "DHCPREQUEST", "BOOTREQUEST":
		// The address is the one asked for, not yet the client's own.
		fromClient("")
	case "DHCPINFORM":
		fromClient(l.ip)
	case "DHCPOFFER":
		l.lease(ev, StateOffered)
		toClient(l.ip)
		ev.Set("event.outcome", "success")
	case "DHCPACK":
		toClient(l.ip)
		ev.Set("event.outcome", "success")
		if l.ipWord == "on" {
			l.lease(ev, StateBound)
			ev.Set("event.type", []string{"protocol", "allowed"})
		}
	case "BOOTREPLY":
		// BOOTP bindings do not expire.
		l.lease(ev, StateBound)
		toClient(l.ip)
	case "DHCPNAK":
		toClient("")
		ev.Set("event.type", []string{"protocol", "denied"})
		ev.Set("event.outcome", "failure")
	case "DHCPRELEASE":
		fromClient(l.ip)
		ev.Set("event.type", []string{"protocol", "end"})
		if l.notFound {
			ev.Set("event.outcome", "failure")
		} else {
			l.lease(ev, StateReleased)
		}
	case "DHCPDECLINE":
		fromClient("")
		l.lease(ev, StateDeclined)
	}
	if strings.Contains(l.reason, "no free leases") {
		ev.Set("event.outcome", "failure")
	}
}

func (l *iscLine) lease(ev *event.Event, state string) {
	if l.ip == "" {
		return
	}
	lease{ip: l.ip, mac: l.mac, hostname: l.hostname, state: state, duration: l.duration}.set(ev)
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

func canonicalIP(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return ""
	}
	return a.Unmap().String()
}
