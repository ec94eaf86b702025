// Package decimal reads base-10 integers from log text faster than
// strconv, which parsers call for many columns of every record.
package decimal

// ParseInt is strconv.ParseInt(s, 10, 64) without the error value: an
// optional sign, then decimal digits only, in the int64 range. ok is false
// wherever strconv would return an error.
func ParseInt(s string) (n int64, ok bool) {
	neg := false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, false
	}
	// Up to 18 digits cannot overflow an int64: no check per digit.
	if len(s) <= 18 {
		for i := 0; i < len(s); i++ {
			c := s[i] - '0'
			if c > 9 {
				return 0, false
			}
			n = n*10 + int64(c)
		}
		if neg {
			n = -n
		}
		return n, true
	}
	var u uint64
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		if u > (1<<64-1)/10 {
			return 0, false
		}
		u = u*10 + uint64(c)
		if u < uint64(c) {
			return 0, false
		}
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}
