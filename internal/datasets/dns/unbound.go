package dns

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// unboundKinds are the words before an unbound query or reply line:
// "info:" by default, "query:" and "reply:" with log-tag-queryreply.
var unboundKinds = [...]string{"info: ", "query: ", "reply: "}

// isUnbound reports whether a line's text has unbound's shape: its own
// "[epoch] unbound[pid:tid] " or syslog's "[pid:tid] " prefix, or a bare
// "info: ".
func isUnbound(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '[' {
		return true
	}
	for _, k := range unboundKinds {
		if strings.HasPrefix(s, k) {
			return true
		}
	}
	return false
}

// parseUnbound maps an unbound log-queries line,
//
//	[1700000000] unbound[123:0] info: 192.0.2.10 www.example.com. A IN
//
// or log-replies line, which adds the response code, the time to resolve
// in seconds, whether it came from the cache, and the response size:
//
//	[1700000000] unbound[123:0] info: 192.0.2.10 www.example.com. A IN NOERROR 0.000171 0 45
func (p *parser) parseUnbound(ev *event.Event, s string) error {
	s, err := unboundPrefix(ev, s)
	if err != nil {
		return err
	}
	kind := ""
	for _, k := range unboundKinds {
		if strings.HasPrefix(s, k) {
			kind = k
			break
		}
	}
	if kind == "" {
		return errorf("unbound line is not a query or reply: %.40q", s)
	}
	f := strings.Fields(s[len(kind):])
	if len(f) == 0 {
		return errorf("unbound %s line is empty", strings.TrimSuffix(kind, ": "))
	}
	addr, port := f[0], int64(0)
	// log-destaddr and some builds write the client as ADDR@PORT.
	if at := strings.LastIndexAny(addr, "@#"); at > 0 {
		if n, err := strconv.ParseInt(addr[at+1:], 10, 64); err == nil && n <= 65535 {
			addr, port = addr[:at], n
		}
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return errorf("unbound line is not a query or reply: client address: %w", err)
	}
	if len(f) != 4 && len(f) != 8 {
		return errorf("unbound %s line has %d fields, want 4 (query) or 8 (reply)", strings.TrimSuffix(kind, ": "), len(f))
	}
	setClient(ev, ip.Unmap().String(), port)
	// unbound writes the type before the class.
	question{name: f[1], qtype: f[2], class: f[3]}.set(ev)
	if len(f) == 4 {
		setCommon(ev, "dns-query")
		ev.Set("dns.type", "query")
		return nil
	}
	setCommon(ev, "dns-response")
	ev.Set("dns.type", "answer")
	ev.SetString("dns.response_code", f[4])
	setOutcome(ev, f[4])
	if secs, err := strconv.ParseFloat(f[5], 64); err == nil && secs >= 0 && secs < math.MaxInt64/1e9 {
		ev.Set("event.duration", int64(math.Round(secs*1e9)))
	}
	switch f[6] {
	case "0":
		ev.Set("dns.query.from_cache", false)
	case "1":
		ev.Set("dns.query.from_cache", true)
	}
	if size, err := strconv.ParseInt(f[7], 10, 64); err == nil && size >= 0 {
		ev.Set("server.bytes", size)
		ev.Set("destination.bytes", size)
	}
	return nil
}

// unboundPrefix reads "[epoch] unbound[pid:tid] " (unbound's own log
// file) or "[pid:tid] " (after a syslog header) and returns the rest.
func unboundPrefix(ev *event.Event, s string) (string, error) {
	if s == "" || s[0] != '[' {
		return s, nil
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return "", errorf("unterminated [ in unbound line")
	}
	inner := s[1:end]
	s = strings.TrimLeft(s[end+1:], " ")
	if secs, err := strconv.ParseInt(inner, 10, 64); err == nil {
		ev.Set(event.FieldTimestamp, time.Unix(secs, 0).UTC())
		name, rest, ok := strings.Cut(s, "[")
		if !ok || strings.IndexByte(name, ' ') >= 0 {
			return "", errorf("unbound line without program[pid:thread]")
		}
		end = strings.IndexByte(rest, ']')
		if end < 0 {
			return "", errorf("unterminated [ in unbound line")
		}
		ev.SetString("process.name", name)
		inner = rest[:end]
		s = strings.TrimLeft(rest[end+1:], " ")
	}
	pid, tid, ok := strings.Cut(inner, ":")
	if !ok {
		return "", errorf("unbound line without [pid:thread]")
	}
	n, err := strconv.ParseInt(pid, 10, 64)
	if err != nil {
		return "", errorf("unbound pid %q", pid)
	}
	ev.Set("process.pid", n)
	if n, err := strconv.ParseInt(tid, 10, 64); err == nil {
		ev.Set("process.thread.id", n)
	}
	return s, nil
}
