package dhcp

import (
	"bytes"

	"github.com/mamori-sec/mamori/internal/dataset"
)

// claim recognises, without parsing: any message of the syslog programs
// dhcpd, dhcpd4 and kea-dhcp4; a Kea log file line; and, without a
// syslog program, a line starting with a dhcpd message name.
func claim(l dataset.Line) bool {
	if dhcpPrograms[l.App] {
		return true
	}
	if l.App != "" {
		return false
	}
	return looksKea(l.Body) || looksISC(l.Body)
}

// looksKea reports "YYYY-MM-DD hh:mm:ss.sss SEVERITY [kea-dhcp4".
func looksKea(b []byte) bool {
	if len(b) < 32 || b[4] != '-' || b[7] != '-' || b[10] != ' ' || b[13] != ':' {
		return false
	}
	return bytes.Contains(b[:min(len(b), 48)], []byte(" [kea-dhcp4"))
}

// looksISC reports a line starting with a dhcpd message name and a space
// (dnsmasq writes "DHCPACK(eth0)", which is not dhcpd's).
func looksISC(b []byte) bool {
	sp := bytes.IndexByte(b, ' ')
	return sp > 0 && sp <= len("BOOTREQUEST") && iscVerbs[string(b[:sp])]
}
