package panw

import (
	"bytes"

	"github.com/mamori-sec/mamori/internal/dataset"
)

// logTypes are the values of the Type column (the fourth) that PAN-OS
// writes in its syslog CSV formats.
var logTypes = []string{
	"TRAFFIC", "THREAT", "URL", "WILDFIRE", "DATA", "SYSTEM", "CONFIG",
	"GLOBALPROTECT", "HIP-MATCH", "USERID", "AUTH", "AUTHENTICATION",
	"DECRYPTION", "IPTAG", "TUNNEL", "SCTP", "CORRELATION", "GTP",
}

func knownType(t string) bool {
	for _, k := range logTypes {
		if t == k {
			return true
		}
	}
	return false
}

// Claim recognises a PAN-OS CSV log body without parsing it:
// "<digits or nothing>,YYYY/MM/DD hh:mm:ss,<serial>,<TYPE>," with a known
// TYPE. It looks at the first few dozen bytes only.
func Claim(l dataset.Line) bool {
	b := l.Body
	i := 0
	for i < len(b) && i < 8 && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i >= len(b) || b[i] != ',' {
		return false
	}
	b = b[i+1:]
	// receive time
	if len(b) < 20 || !isPANTime(b[:19]) || b[19] != ',' {
		return false
	}
	b = b[20:]
	// serial: a short token without spaces
	j := bytes.IndexByte(b, ',')
	if j < 1 || j > 32 || bytes.IndexByte(b[:j], ' ') >= 0 {
		return false
	}
	b = b[j+1:]
	k := bytes.IndexByte(b, ',')
	if k < 3 || k > 16 {
		return false
	}
	for _, t := range logTypes {
		// string(b) in a comparison does not allocate.
		if string(b[:k]) == t {
			return true
		}
	}
	return false
}

// isPANTime reports whether b is shaped "YYYY/MM/DD hh:mm:ss".
func isPANTime(b []byte) bool {
	const shape = "dddd/dd/dd dd:dd:dd"
	if len(b) != len(shape) {
		return false
	}
	for i := 0; i < len(shape); i++ {
		if shape[i] == 'd' {
			if b[i] < '0' || b[i] > '9' {
				return false
			}
		} else if b[i] != shape[i] {
			return false
		}
	}
	return true
}
