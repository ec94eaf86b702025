package panw

import "strings"

// splitCSV splits a PAN-OS log body at its commas and appends the columns
// to dst. A column may be double-quoted (PAN-OS quotes URLs, descriptions
// and anything holding a comma); inside quotes a comma is text and a
// doubled quote is one quote. Columns are substrings of s unless they held
// a doubled quote. An unterminated quote runs to the end of the line.
func splitCSV(s string, dst []string) []string {
	i := 0
	for {
		if i < len(s) && s[i] == '"' {
			val, next := quoted(s, i+1)
			dst = append(dst, val)
			// Text between the closing quote and the comma is kept
			// with the value: PAN-OS does not write it, a damaged
			// line should lose nothing.
			end := strings.IndexByte(s[next:], ',')
			if end < 0 {
				if next < len(s) {
					dst[len(dst)-1] += s[next:]
				}
				return dst
			}
			if end > 0 {
				dst[len(dst)-1] += s[next : next+end]
			}
			i = next + end + 1
			continue
		}
		end := strings.IndexByte(s[i:], ',')
		if end < 0 {
			return append(dst, s[i:])
		}
		dst = append(dst, s[i:i+end])
		i += end + 1
	}
}

// quoted reads a quoted column whose text starts at s[i] and returns it
// and the index after the closing quote.
func quoted(s string, i int) (string, int) {
	start := i
	doubled := false
	for i < len(s) {
		if s[i] != '"' {
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '"' {
			doubled = true
			i += 2
			continue
		}
		v := s[start:i]
		if doubled {
			v = strings.ReplaceAll(v, `""`, `"`)
		}
		return v, i + 1
	}
	v := s[start:]
	if doubled {
		v = strings.ReplaceAll(v, `""`, `"`)
	}
	return v, len(s)
}

// row is a log's columns; get tolerates a record with fewer columns than
// its type documents (older PAN-OS versions).
type row []string

func (r row) get(i int) string {
	if i < len(r) {
		return r[i]
	}
	return ""
}
