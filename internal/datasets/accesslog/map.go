package accesslog

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// mapLine sets the ECS fields of one access log line.
func (p *parser) mapLine(ev *event.Event, l *line) {
	ev.Set(event.FieldTimestamp, l.time)
	ev.Set(event.FieldKind, "event")
	ev.Set("event.category", []string{"web"})
	setAddress(ev, "source", pickClient(l.clients))
	if len(l.clients) > 1 {
		ev.Set(p.ns+"remote_ip_list", l.clients)
	}
	if l.user != "-" {
		ev.SetString("user.name", l.user)
	}
	if l.ident != "-" {
		ev.SetString(p.ns+"ident", l.ident)
	}
	vhost, vport := splitHostPort(l.vhost)
	setAddress(ev, "destination", vhost)
	if n, ok := port(vport); ok {
		ev.Set("destination.port", n)
	}
	p.mapRequest(ev, l.request, vhost)
	if status, err := strconv.ParseInt(l.status, 10, 64); err == nil {
		ev.Set("http.response.status_code", status)
		if status >= 400 {
			ev.Set("event.type", []string{"access", "error"})
			ev.Set("event.outcome", "failure")
		} else {
			ev.Set("event.type", []string{"access"})
			ev.Set("event.outcome", "success")
		}
	} else {
		ev.Set("event.type", []string{"access"})
	}
	if n, err := strconv.ParseInt(l.bytes, 10, 64); err == nil && n >= 0 {
		ev.Set("http.response.body.bytes", n)
	}
	if l.referrer != "-" {
		ev.SetString("http.request.referrer", l.referrer)
	}
	if l.hasAgent && l.agent != "-" && l.agent != "" {
		ev.SetString("user_agent.original", l.agent)
		setUserAgent(ev, l.agent)
	}
	p.mapExtras(ev, l.extras)
}

// mapRequest splits the request line, "GET /a?b=c HTTP/1.1". A line that is
// not one (a TLS handshake sent to a plain-text port, say) is kept whole.
func (p *parser) mapRequest(ev *event.Event, req, vhost string) {
	if req == "" || req == "-" {
		return
	}
	sp := strings.IndexByte(req, ' ')
	last := strings.LastIndexByte(req, ' ')
	var method, target, proto string
	switch {
	case sp > 0 && last > sp && strings.HasPrefix(req[last+1:], "HTTP/"):
		method, target, proto = req[:sp], req[sp+1:last], req[last+1:]
	case sp > 0 && last == sp && strings.HasPrefix(req[sp+1:], "/"):
		// HTTP/0.9: "GET /"
		method, target = req[:sp], req[sp+1:]
	}
	// The target may hold spaces when the client sent them (the server
	// answers 400 but logs the line as received).
	if !isToken(method) || target == "" {
		ev.SetString(p.ns+"request", req)
		return
	}
	ev.SetString("http.request.method", method)
	if proto != "" {
		ev.SetString("http.version", proto[len("HTTP/"):])
	}
	setURL(ev, method, target, vhost)
}

// isToken reports an HTTP method: letters, digits, '-' and '_'.
func isToken(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || isDigit(c) || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// setURL splits the request target: a path ("/a/b.png?x=1"), an absolute
// URL (a proxy request), or CONNECT's "host:port". url.path is
// percent-decoded, as Elastic's pipelines write it; url.original keeps the
// target as sent.
func setURL(ev *event.Event, method, target, vhost string) {
	ev.SetString("url.original", target)
	domain, rest := vhost, target
	switch {
	case strings.HasPrefix(target, "/"):
	case strings.Contains(target, "://"):
		scheme, after, _ := strings.Cut(target, "://")
		ev.SetString("url.scheme", strings.ToLower(scheme))
		end := strings.IndexAny(after, "/?#")
		if end < 0 {
			end = len(after)
		}
		host, hport := splitHostPort(after[:end])
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			host = host[at+1:]
		}
		domain, rest = host, after[end:]
		if n, ok := port(hport); ok {
			ev.Set("url.port", n)
		}
	case method == "CONNECT":
		host, hport := splitHostPort(target)
		ev.SetString("url.domain", host)
		if n, ok := port(hport); ok {
			ev.Set("url.port", n)
		}
		return
	default:
		// "*" (OPTIONS *) or something unusual: no parts to tell.
		ev.SetString("url.domain", vhost)
		return
	}
	ev.SetString("url.domain", domain)
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		ev.SetString("url.fragment", rest[i+1:])
		rest = rest[:i]
	}
	path := rest
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		path = rest[:i]
		ev.SetString("url.query", rest[i+1:])
	}
	if strings.IndexByte(path, '%') >= 0 {
		if dec, err := url.PathUnescape(path); err == nil {
			path = dec
		}
	}
	ev.SetString("url.path", path)
	ev.SetString("url.extension", extension(path))
}

// extension is the part after the last dot of the path's last segment ("ico"
// for /favicon.ico); none for "/", "/a" or a dot file.
func extension(path string) string {
	seg := path[strings.LastIndexByte(path, '/')+1:]
	dot := strings.LastIndexByte(seg, '.')
	if dot <= 0 || dot == len(seg)-1 {
		return ""
	}
	return seg[dot+1:]
}

// mapExtras maps the fields some formats add after the agent:
// X-Forwarded-For (`"10.0.0.2, 10.0.0.1"` or `X-Forwarded-For="..."`),
// the request time in seconds (rt=0.123, request_time=0.123, or nginx's bare
// `$request_time`), and keeps the rest in <dataset>.extra.
func (p *parser) mapExtras(ev *event.Event, extras []extra) {
	var rest []string
	durationSet := false
	for _, e := range extras {
		key := strings.ToLower(e.key)
		switch {
		case key == "x-forwarded-for" || key == "x_forwarded_for" || key == "http_x_forwarded_for" ||
			key == "xff" || key == "forwarded_for" || key == "" && e.quoted && isAddressList(e.value):
			p.setForwarded(ev, e.value)
			continue
		case !durationSet && (key == "rt" || key == "request_time" || key == "rtime" || key == "req_time" ||
			key == "" && !e.quoted && p.ns == NginxName+"." && strings.IndexByte(e.value, '.') > 0):
			if d, ok := seconds(e.value); ok {
				ev.Set("event.duration", d.Nanoseconds())
				durationSet = true
				continue
			}
		}
		if e.key != "" {
			rest = append(rest, e.key+"="+e.value)
		} else if e.value != "" && e.value != "-" {
			rest = append(rest, e.value)
		}
	}
	ev.Set(p.ns+"extra", rest)
}

// isAddressList reports a comma-separated list of IP addresses or "-".
func isAddressList(s string) bool {
	if s == "" {
		return false
	}
	for _, el := range strings.Split(s, ",") {
		el = strings.TrimSpace(el)
		if el == "-" || el == "unknown" {
			continue
		}
		if _, err := netip.ParseAddr(el); err != nil {
			return false
		}
	}
	return true
}

// setForwarded records an X-Forwarded-For list; its first address is the
// client the first proxy saw (network.forwarded_ip). source.* stays the
// peer that connected to the server.
func (p *parser) setForwarded(ev *event.Event, list string) {
	var addrs []string
	for _, el := range strings.Split(list, ",") {
		el = strings.TrimSpace(el)
		if el == "" || el == "-" || el == "unknown" {
			continue
		}
		addrs = append(addrs, el)
	}
	ev.Set(p.ns+"forwarded_for", addrs)
	for _, a := range addrs {
		if ip, ok := canonicalIP(a); ok {
			ev.SetString("network.forwarded_ip", ip)
			return
		}
	}
}

// seconds reads a duration written in seconds ("0.123").
func seconds(s string) (time.Duration, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e6 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

// pickClient chooses the client from the client field: the first public
// address of a list (nginx writes "client, proxy" when a list is
// configured), else the first entry.
func pickClient(clients []string) string {
	if len(clients) == 1 {
		return clients[0]
	}
	for _, c := range clients {
		if a, err := netip.ParseAddr(c); err == nil && !a.IsPrivate() && !a.IsLoopback() && !a.IsLinkLocalUnicast() {
			return c
		}
	}
	return clients[0]
}

// setAddress sets <side>.address and .ip, or .domain for a host name
// (HostnameLookups on, or a vhost name).
func setAddress(ev *event.Event, side, addr string) {
	if addr == "" || addr == "-" {
		return
	}
	ev.SetString(side+".address", addr)
	if ip, ok := canonicalIP(addr); ok {
		ev.SetString(side+".ip", ip)
		return
	}
	ev.SetString(side+".domain", addr)
}

func canonicalIP(s string) (string, bool) {
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return "", false
	}
	return a.Unmap().String(), true
}

// splitHostPort splits "host:port", "[v6]:port", or a bare host or IPv6
// address.
func splitHostPort(s string) (host, port string) {
	if s == "" {
		return "", ""
	}
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return s, ""
		}
		return s[1:end], strings.TrimPrefix(s[end+1:], ":")
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.IndexByte(s[:i], ':') >= 0 {
		return s, "" // no port, or a bare IPv6 address
	}
	return s[:i], s[i+1:]
}

func port(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0 && n <= 65535
}
