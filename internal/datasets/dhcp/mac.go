package dhcp

import "strings"

// normalizeMAC writes a hardware address as ECS recommends: upper-case
// hex pairs joined by '-' ("00-0C-29-AA-BB-CC"). It accepts ':' or '-'
// separators and ISC dhcpd's unpadded octets ("0:c:29:aa:bb:cc"), and
// returns "" for anything that is not 6 to 20 such octets.
func normalizeMAC(s string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(3 * 8)
	octets := 0
	for part := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ':' || r == '-' }) {
		if len(part) == 0 || len(part) > 2 || !isHex(part[0]) || len(part) == 2 && !isHex(part[1]) {
			return ""
		}
		if octets > 0 {
			b.WriteByte('-')
		}
		if len(part) == 1 {
			b.WriteByte('0')
		}
		b.WriteString(strings.ToUpper(part))
		octets++
	}
	if octets < 6 || octets > 20 || strings.Count(s, ":")+strings.Count(s, "-") != octets-1 {
		return ""
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// transactionID writes a DHCP xid as Kea does, "0x" and lower-case hex
// without leading zeros, so that Kea's "tid=0x3f082956" and Infoblox's
// "TransID 3f082956" compare equal. Text that is not hex stays as it is.
func transactionID(hex string) string {
	for i := 0; i < len(hex); i++ {
		if !isHex(hex[i]) {
			return hex
		}
	}
	hex = strings.TrimLeft(strings.ToLower(hex), "0")
	if hex == "" {
		hex = "0"
	}
	return "0x" + hex
}
