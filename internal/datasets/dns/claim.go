package dns

import (
	"bytes"
	"net/netip"

	"github.com/mamori-sec/mamori/internal/dataset"
)

// claim recognises, without parsing: a Packetbeat DNS document, or a
// query line of BIND (syslog program "named", or a BIND log file) or
// unbound. named also logs zone loads, transfers and the like; those are
// not queries and stay with the syslog dataset.
func claim(l dataset.Line) bool {
	if data := bytes.TrimLeft(l.Data, " \t"); len(data) > 0 && data[0] == '{' {
		return claimJSON(data)
	}
	if ownLogFile(l.Data) {
		return looksBIND(l.Data)
	}
	switch l.App {
	case "", "named", "unbound":
	default:
		return false
	}
	return looksBIND(l.Body) || looksUnbound(l.Body)
}

// claimJSON recognises Packetbeat's DNS documents by their top-level
// "type":"dns" and a "dns" object, written compactly or with spaces.
func claimJSON(data []byte) bool {
	return (bytes.Contains(data, []byte(`"type":"dns"`)) || bytes.Contains(data, []byte(`"type": "dns"`))) &&
		(bytes.Contains(data, []byte(`"dns":{`)) || bytes.Contains(data, []byte(`"dns": {`)))
}

// looksBIND reports a BIND client message about a query.
func looksBIND(b []byte) bool {
	i := bytes.Index(b, []byte("client "))
	if i < 0 {
		return false
	}
	b = b[i:]
	return bytes.Contains(b, []byte(" query: ")) || bytes.Contains(b, []byte(": query failed (")) ||
		bytes.Contains(b, []byte(": query (cache) '")) || bytes.Contains(b, []byte(": query '"))
}

// looksUnbound reports unbound's query or reply shape: after its
// prefixes, "info: " (or "query: "/"reply: ") and a client address.
func looksUnbound(b []byte) bool {
	// "[1700000000] unbound[123:0] " or "[123:0] ".
	for range 2 {
		if len(b) == 0 || b[0] != '[' && !bytes.HasPrefix(b, []byte("unbound[")) {
			break
		}
		end := bytes.IndexByte(b, ']')
		if end < 0 {
			return false
		}
		b = bytes.TrimLeft(b[end+1:], " ")
	}
	var rest []byte
	for _, k := range unboundKinds {
		if bytes.HasPrefix(b, []byte(k)) {
			rest = b[len(k):]
			break
		}
	}
	if rest == nil {
		return false
	}
	end := bytes.IndexByte(rest, ' ')
	if end < 0 {
		return false
	}
	tok := rest[:end]
	if at := bytes.LastIndexAny(tok, "@#"); at > 0 {
		tok = tok[:at]
	}
	_, err := netip.ParseAddr(string(tok))
	return err == nil
}
