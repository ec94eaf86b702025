package tokens

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// genLines writes n log lines shaped like a mixed firewall/host feed: Trend
// Micro Deep Security CEF over syslog (firewall and IPS events, as its
// agents forward them), OpenSSH syslog lines and PAN-OS-like CSV traffic
// lines, with addresses, ports, hosts and times drawn the way a busy day
// spreads them. The same seed gives the same lines.
func genLines(seed uint64, n int) []string {
	r := rand.New(rand.NewPCG(seed, 0x6d616d6f7269))
	hosts := make([]string, 40)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("%s-%02d.corp.example.com", []string{"web", "db", "app", "ws", "dc"}[i%5], i)
	}
	users := []string{"alice", "bob", "carol", "dave", "admin", "root", "svc_backup", "oracle", "test", "ubuntu"}
	rules := []string{"Log For TCP Port Scan", "Remote Access Trojan", "Out Of Allowed Policy", "Invalid Flags",
		"Unknown IP", "Dropped Retransmit", "Block inbound SMB", "Deny RDP from Internet"}
	ips := []string{"Generic SQL Injection Prevention", "Apache Log4j Remote Code Execution Vulnerability (CVE-2021-44228)",
		"Identified Suspicious User Agent In HTTP Request", "Generic Cross Site Scripting(XSS) Prevention"}
	paths := []string{"/_vti_bin/owssvr.dll", "/wp-login.php", "/.env", "/cgi-bin/test.cgi", "/owa/auth/x.js", "/index.php?id=1"}
	publicIP := func() string {
		// Attackers come from a few thousand addresses.
		k := r.IntN(3000)
		return fmt.Sprintf("%d.%d.%d.%d", 1+k%223, k*7%256, k*13%256, 1+k*31%254)
	}
	internalIP := func() string { return fmt.Sprintf("10.%d.%d.%d", r.IntN(4), r.IntN(64), 1+r.IntN(254)) }
	mac := func(x int) string {
		return fmt.Sprintf("00:50:56:%02X:%02X:%02X", x%256, x*3%256, x*7%256)
	}
	t := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	pkt := make([]byte, 48)
	out := make([]string, n)
	for i := range out {
		t = t.Add(time.Duration(r.IntN(400)) * time.Millisecond)
		host := hosts[r.IntN(len(hosts))]
		stamp := t.Format(time.Stamp)
		switch x := r.IntN(10); {
		case x < 6:
			rule := r.IntN(len(rules))
			src, dst := publicIP(), internalIP()
			var b strings.Builder
			fmt.Fprintf(&b, "<134>%s %s CEF:0|Trend Micro|Deep Security Agent|20.0.1.8438|%d|%s|%d|", stamp, host[:5], 20+rule, rules[rule], 3+rule%4)
			fmt.Fprintf(&b, "cn1=%d cn1Label=Host ID dvchost=%s TrendMicroDsTenant=Primary TrendMicroDsTenantId=0 act=%s ", 100+r.IntN(50), host,
				[]string{"Reset", "Drop", "Log"}[r.IntN(3)])
			fmt.Fprintf(&b, "dmac=%s smac=%s TrendMicroDsFrameType=IP src=%s dst=%s in=%d cs3=DF cs3Label=Fragmentation Bits ",
				mac(r.IntN(64)), mac(r.IntN(4096)), src, dst, 40+r.IntN(1400))
			fmt.Fprintf(&b, "proto=TCP spt=%d dpt=%d cs2=0x00 ACK RST cs2Label=TCP Flags cnt=%d", 1024+r.IntN(64000),
				[]int{22, 80, 443, 445, 3389, 8080}[r.IntN(6)], 1+r.IntN(3))
			if r.IntN(4) == 0 {
				for j := range pkt {
					pkt[j] = byte(r.Uint32())
				}
				b.WriteString(" TrendMicroDsPacketData=")
				b.WriteString(base64.StdEncoding.EncodeToString(pkt))
			}
			out[i] = b.String()
		case x < 7:
			rule := r.IntN(len(ips))
			out[i] = fmt.Sprintf("<134>%s %s CEF:0|Trend Micro|Deep Security Agent|20.0.1.8438|%d|%s|8|cn1=%d cn1Label=Host ID dvchost=%s "+
				"act=Block src=%s dst=%s spt=%d dpt=443 proto=TCP request=https://%s%s cs1=CVE-2021-44228 cs1Label=Intrusion Prevention Note",
				stamp, host[:5], 1000552+rule, ips[rule], 100+r.IntN(50), host, publicIP(), internalIP(), 1024+r.IntN(64000),
				host, paths[r.IntN(len(paths))])
		case x < 9:
			u := users[r.IntN(len(users))]
			what := []string{"Failed password for", "Accepted publickey for", "Failed password for invalid user"}[r.IntN(3)]
			out[i] = fmt.Sprintf("<38>%s %s sshd[%d]: %s %s from %s port %d ssh2", stamp, host[:5], 1000+r.IntN(60000), what, u,
				publicIP(), 1024+r.IntN(64000))
		default:
			out[i] = fmt.Sprintf("<14>%s pa-fw01 1,%s,012801096514,TRAFFIC,end,2561,%s,%s,%s,0.0.0.0,0.0.0.0,allow-web,%s,,ssl,vsys1,trust,untrust,"+
				"ethernet1/2,ethernet1/1,log-fwd,%s,%d,1,%d,443,0,0,0x400019,tcp,allow,%d,%d,%d,%d",
				stamp, t.Format("2006/01/02 15:04:05"), t.Format("2006/01/02 15:04:05"), internalIP(), publicIP(),
				users[r.IntN(len(users))], t.Format("2006/01/02 15:04:05"), r.IntN(1<<20), 1024+r.IntN(64000),
				r.IntN(100000), r.IntN(50000), r.IntN(50000), r.IntN(200))
		}
	}
	return out
}

// cefLine is one Deep Security firewall event of about 400 bytes.
const cefLine = "<134>May  1 10:20:31 web-0 CEF:0|Trend Micro|Deep Security Agent|20.0.1.8438|20|Log For TCP Port Scan|6|" +
	"cn1=1234 cn1Label=Host ID dvchost=web-01.corp.example.com TrendMicroDsTenant=Primary TrendMicroDsTenantId=0 act=Reset " +
	"dmac=00:50:56:A1:B2:C3 smac=00:1C:42:D4:E5:F6 TrendMicroDsFrameType=IP src=203.0.113.77 dst=10.0.12.34 in=60 " +
	"cs3=DF cs3Label=Fragmentation Bits proto=TCP spt=51234 dpt=443 cs2=0x00 ACK RST cs2Label=TCP Flags cnt=1"
