package fortinet

import (
	"net/netip"
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/parse/decimal"
	parsekv "github.com/mamori-sec/mamori/internal/parse/kv"
)

// vendorPrefix is the namespace of pairs without an ECS home, as in
// Elastic's fortinet_fortigate integration.
const vendorPrefix = "fortinet.firewall."

// logInfo holds the pairs whose meaning depends on others (the log's type,
// its action, its time), read in one pass and used by classify and setTime.
type logInfo struct {
	typ, subtype, action, status, result   string
	logdesc, eventtype, utmaction, cfgpath string
	date, clock, tz, eventtime             string
	logid, devid, level                    string
	// A VPN log's remote peer is the source and the firewall's local
	// address the destination.
	remip, remport, locip, locport string
	xauthuser, user, unauthuser    string
	dstip, srcip                   string
}

// mapPairs sets the ECS and vendor fields of every pair and gathers in l
// what classify and setTime need.
func (p *parser) mapPairs(ev *event.Event, pairs []parsekv.Pair, l *logInfo) {
	var sent, rcvd, sentPkt, rcvdPkt int64
	var haveBytes, havePkts bool
	for _, kv := range pairs {
		k, v := kv.Key, strings.TrimSpace(kv.Value)
		if v == "" || v == "N/A" {
			continue
		}
		switch k {
		// head
		case "date":
			l.date = v
		case "time":
			l.clock = v
		case "tz":
			if l.tz == "" { // FortiOS may write tz twice; the first is the log's
				l.tz = v
			}
		case "eventtime":
			l.eventtime = v
		case "devname":
			ev.SetString("observer.name", v)
		case "devid":
			l.devid = v
			ev.SetString("observer.serial_number", v)
		case "logid":
			l.logid = v
			ev.SetString("event.code", v)
		case "type":
			l.typ = strings.ToLower(v)
			ev.SetString(vendorPrefix+"type", v)
		case "subtype":
			l.subtype = strings.ToLower(v)
			ev.SetString(vendorPrefix+"subtype", v)
		case "level":
			l.level = v
			ev.SetString("log.level", v)
		case "logdesc":
			l.logdesc = v
			ev.SetString("rule.description", v)
		case "msg":
			ev.SetString(event.FieldMessage, v)
		case "action":
			l.action = v
			ev.SetString(vendorPrefix+"action", v)
		case "status":
			l.status = strings.ToLower(v)
			ev.SetString(vendorPrefix+"status", v)
		case "result":
			l.result = v
			ev.SetString(vendorPrefix+"result", v)
		case "eventtype":
			l.eventtype = v
			ev.SetString(vendorPrefix+"eventtype", v)
		case "utmaction":
			l.utmaction = strings.ToLower(v)
			ev.SetString(vendorPrefix+"utmaction", v)
		case "cfgpath":
			l.cfgpath = v
			ev.SetString(vendorPrefix+"cfgpath", v)
		case "reason":
			ev.SetString("event.reason", v)

		// addresses and ports
		case "srcip":
			l.srcip = v
			setIP(ev, "source.ip", k, v)
		case "dstip":
			l.dstip = v
			setIP(ev, "destination.ip", k, v)
		case "srcport":
			setInt(ev, "source.port", k, v)
		case "dstport":
			setInt(ev, "destination.port", k, v)
		case "transip":
			setIP(ev, "source.nat.ip", k, v)
		case "transport":
			setInt(ev, "source.nat.port", k, v)
		case "tranip":
			setIP(ev, "destination.nat.ip", k, v)
		case "tranport":
			setInt(ev, "destination.nat.port", k, v)
		case "remip":
			l.remip = v
		case "remport":
			l.remport = v
		case "locip":
			l.locip = v
		case "locport":
			l.locport = v
		case "srcmac":
			ev.SetString("source.mac", formatMAC(v))
		case "dstmac":
			ev.SetString("destination.mac", formatMAC(v))
		case "srcname":
			ev.SetString("source.domain", v)
		case "dstname":
			ev.SetString("destination.domain", v)
		case "srccountry":
			if v != "Reserved" {
				ev.SetString("source.geo.country_name", v)
			}
		case "dstcountry":
			if v != "Reserved" {
				ev.SetString("destination.geo.country_name", v)
			}
		case "srcintf":
			ev.SetString("observer.ingress.interface.name", v)
		case "dstintf":
			ev.SetString("observer.egress.interface.name", v)

		// session
		case "proto":
			ev.SetString("network.iana_number", v)
			if t := transportName(v); t != "" {
				ev.SetString("network.transport", t)
			}
		case "service":
			ev.SetString("network.protocol", strings.ToLower(v))
		case "app":
			ev.SetString("network.application", strings.ToLower(v))
		case "direction":
			switch strings.ToLower(v) {
			case "incoming", "inbound":
				ev.Set("network.direction", "inbound")
			case "outgoing", "outbound":
				ev.Set("network.direction", "outbound")
			default:
				ev.SetString(vendorPrefix+"direction", v)
			}
		case "duration":
			if n, ok := decimal.ParseInt(v); ok && n >= 0 {
				ev.SetInt("event.duration", n*1_000_000_000)
			} else {
				ev.SetString(vendorPrefix+k, v)
			}
		case "sentbyte":
			haveBytes = setCount(ev, "source.bytes", k, v, &sent) || haveBytes
		case "rcvdbyte":
			haveBytes = setCount(ev, "destination.bytes", k, v, &rcvd) || haveBytes
		case "sentpkt":
			havePkts = setCount(ev, "source.packets", k, v, &sentPkt) || havePkts
		case "rcvdpkt":
			havePkts = setCount(ev, "destination.packets", k, v, &rcvdPkt) || havePkts
		case "policyid":
			ev.SetString("rule.id", v)
		case "policyname":
			ev.SetString("rule.name", v)
		case "poluuid":
			ev.SetString("rule.uuid", v)
		case "policytype":
			ev.SetString("rule.ruleset", v)

		// users
		case "user":
			l.user = v
		case "unauthuser":
			l.unauthuser = v
		case "xauthuser":
			l.xauthuser = v
		case "group":
			ev.SetString("source.user.group.name", v)
		case "dstuser":
			ev.SetString("destination.user.name", v)

		// content
		case "url":
			ev.SetString(vendorPrefix+"url", v)
		case "hostname":
			ev.SetString("url.domain", v)
		case "agent":
			ev.SetString("user_agent.original", v)
		case "filename":
			ev.SetString("file.name", v)
		case "filesize":
			setInt(ev, "file.size", k, v)
		case "filehash", "analyticscksum", "checksum":
			setHash(ev, k, v)
		case "qname":
			ev.SetString("dns.question.name", v)
		case "qtype":
			ev.SetString("dns.question.type", v)
		case "qclass":
			ev.SetString("dns.question.class", v)
		case "xid":
			ev.SetString("dns.id", v)
		case "ipaddr":
			setResolved(ev, v)
		case "sender", "from":
			ev.SetStrings("email.from.address", v)
		case "recipient", "to":
			ev.SetStrings("email.to.address", v)
		case "subject":
			ev.SetString("email.subject", v)
		default:
			if f, ok := vendorFields[k]; ok {
				ev.SetString(f, v)
			} else {
				ev.SetString(vendorPrefix+vendorKey(k), v)
			}
		}
	}
	if haveBytes {
		ev.SetInt("network.bytes", sent+rcvd)
	}
	if havePkts {
		ev.SetInt("network.packets", sentPkt+rcvdPkt)
	}
}

// setIP sets an address in canonical form, or keeps the text under the
// vendor namespace when it is not one.
func setIP(ev *event.Event, field, key, v string) {
	if a, err := netip.ParseAddr(v); err == nil {
		ev.SetString(field, event.AddrText(v, a))
		return
	}
	ev.SetString(vendorPrefix+key, v)
}

// setInt sets an integer, or keeps the text under the vendor namespace.
func setInt(ev *event.Event, field, key, v string) {
	if n, ok := decimal.ParseInt(v); ok {
		ev.SetInt(field, n)
		return
	}
	ev.SetString(vendorPrefix+key, v)
}

// setCount is setInt for a byte or packet count that also adds to a total.
func setCount(ev *event.Event, field, key, v string, total *int64) bool {
	n, ok := decimal.ParseInt(v)
	if !ok {
		ev.SetString(vendorPrefix+key, v)
		return false
	}
	ev.SetInt(field, n)
	*total += n
	return true
}

// setHash keeps a file digest as file.hash.<algorithm> when its length
// names the algorithm, else under the vendor namespace.
func setHash(ev *event.Event, key, v string) {
	alg := ""
	switch len(v) {
	case 32:
		alg = "md5"
	case 40:
		alg = "sha1"
	case 64:
		alg = "sha256"
	}
	if alg == "" || !isHex(v) {
		ev.SetString(vendorPrefix+key, v)
		return
	}
	ev.SetString("file.hash."+alg, strings.ToLower(v))
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// setResolved keeps a DNS log's answer addresses ("1.2.3.4, 5.6.7.8") as
// dns.resolved_ip.
func setResolved(ev *event.Event, v string) {
	var ips []string
	for _, s := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		if a, err := netip.ParseAddr(s); err == nil {
			ips = append(ips, event.AddrText(s, a))
		}
	}
	if len(ips) == 0 {
		ev.SetString(vendorPrefix+"ipaddr", v)
		return
	}
	ev.SetStrings("dns.resolved_ip", ips...)
}

// transports names the IP protocols FortiGate logs by number.
var transports = map[string]string{
	"1": "icmp", "2": "igmp", "6": "tcp", "17": "udp", "41": "ipv6", "47": "gre",
	"50": "esp", "51": "ah", "58": "ipv6-icmp", "89": "ospf", "103": "pim", "132": "sctp",
}

func transportName(proto string) string { return transports[proto] }

// formatMAC writes a MAC address as ECS recommends: upper case, dashes.
func formatMAC(s string) string {
	if len(s) != 17 {
		return s
	}
	b := []byte(s)
	for i := range b {
		switch c := b[i]; {
		case c == ':' || c == '-':
			b[i] = '-'
		case c >= 'a' && c <= 'f':
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// vendorFields are the full field names of keys FortiGate writes in most
// logs, so that their names are not built for every record.
var vendorFields = func() map[string]string {
	keys := []string{
		"vd", "sessionid", "srcintfrole", "dstintfrole", "trandisp", "appid", "appcat",
		"apprisk", "applist", "countapp", "osname", "srcserver", "dstserver", "mastersrcmac",
		"srchwvendor", "devtype", "srcfamily", "srchwversion", "srcswversion", "dstosname",
		"dstdevtype", "dsthwvendor", "masterdstmac", "srcuuid", "dstuuid",
		"crscore", "craction", "crlevel", "countweb", "countav", "countips", "countdns",
		"countssl", "countdlp", "lanin", "lanout", "wanin", "wanout", "vwlid", "vwlquality",
		"vwlservice", "vwpvlanid", "shapingpolicyid", "shaperperipname", "shapersentname",
		"shaperrcvdname", "shaperperipdropbyte", "shaperdropsentbyte", "shaperdroprcvdbyte",
		"profile", "ref", "virus", "virusid", "dtype", "attack", "attackid", "severity",
		"incidentserialno", "cat", "catdesc", "reqtype", "method", "sn", "ui", "cfgtid",
		"cfgobj", "cfgattr", "authproto", "interface", "logver", "timestamp", "identifier",
		"authserver", "tunnelid", "tunneltype", "tunnelip", "vpntunnel", "assignip",
		"outintf", "cookies", "xauthgroup", "nextstat", "qtypeval", "count", "state",
		"quarskip", "analyticssubmit", "fctuid", "unauthusersource", "policymode",
	}
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		m[k] = vendorPrefix + k
	}
	return m
}()

// vendorKey makes a pair's key a single field name: kv keys may hold '.',
// ':' and '-', and a dot would nest the field under another.
func vendorKey(k string) string {
	if !strings.ContainsAny(k, ".:-") {
		return k
	}
	return strings.Map(func(r rune) rune {
		if r == '.' || r == ':' || r == '-' {
			return '_'
		}
		return r
	}, k)
}
