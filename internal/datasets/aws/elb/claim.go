package elb

import (
	"bytes"

	"github.com/mamori-sec/mamori/internal/dataset"
)

// Claim recognises an access log line that arrives unnamed, from its first
// fields only:
//
//   - ALB: a request type (http, https, h2, grpcs, ws, wss), a time, then
//     the load balancer's "app/name/id";
//   - NLB: "tls", a log version ("2.0"), a time, then "net/name/id";
//   - Classic: a time in UTC, the load balancer's name (no '/'), then the
//     client's ip:port and the backend's ip:port or "-".
func Claim(l dataset.Line) bool {
	f, ok := firstFields(l.Data)
	if !ok {
		return false
	}
	switch string(f[0]) {
	case "http", "https", "h2", "grpcs", "ws", "wss":
		return isTime(string(f[1])) && bytes.HasPrefix(f[2], []byte("app/"))
	case "tls":
		return isVersion(f[1]) && isTime(string(f[2])) && bytes.HasPrefix(f[3], []byte("net/"))
	}
	return isTime(string(f[0])) && f[0][len(f[0])-1] == 'Z' &&
		bytes.IndexByte(f[1], '/') < 0 && isAddrPort(f[2]) && (string(f[3]) == "-" || isAddrPort(f[3]))
}

// firstFields returns the first four space-separated fields.
func firstFields(data []byte) ([4][]byte, bool) {
	var f [4][]byte
	for i := range f {
		j := bytes.IndexByte(data, ' ')
		if j <= 0 {
			return f, false
		}
		f[i], data = data[:j], data[j+1:]
	}
	return f, true
}

func isVersion(b []byte) bool {
	return len(b) == 3 && b[0] >= '0' && b[0] <= '9' && b[1] == '.' && b[2] >= '0' && b[2] <= '9'
}

// isAddrPort is a shape test for ip:port (IPv4 or IPv6, optionally
// bracketed): hex digits, dots, colons and brackets, ending in ":digits".
func isAddrPort(b []byte) bool {
	colon := bytes.LastIndexByte(b, ':')
	if colon <= 0 || colon == len(b)-1 {
		return false
	}
	for _, c := range b[colon+1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	for _, c := range b[:colon] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}
