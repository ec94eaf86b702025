package cylance

import "strings"

// normalizeMAC writes a hardware address as ECS recommends: upper-case
// hex pairs joined by '-' ("01-00-5E-EE-E8-77"). It accepts ':' or '-'
// separators and returns "" for anything that is not six to twenty hex
// pairs.
func normalizeMAC(s string) string {
	s = strings.TrimSpace(s)
	n := (len(s) + 1) / 3
	if n < 6 || n > 20 || len(s) != 3*n-1 {
		return ""
	}
	b := []byte(s)
	for i := range b {
		if i%3 == 2 {
			if b[i] != ':' && b[i] != '-' {
				return ""
			}
			b[i] = '-'
			continue
		}
		if !isHex(b[i]) {
			return ""
		}
		if b[i] >= 'a' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
