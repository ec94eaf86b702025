package elb

import (
	"strconv"
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// setRequest maps the quoted request line "METHOD URL PROTOCOL". The URL
// is everything between the first and the last space, since a malicious
// request may carry spaces in it. "- - - " (a TCP listener, or a request
// the load balancer could not read) sets nothing.
func setRequest(ev *event.Event, line string) {
	line = strings.TrimRight(line, " ")
	first := strings.IndexByte(line, ' ')
	if first < 0 {
		return
	}
	method, rest := line[:first], line[first+1:]
	target, proto := rest, ""
	if last := strings.LastIndexByte(rest, ' '); last >= 0 {
		target, proto = rest[:last], rest[last+1:]
	}
	if method != "-" {
		ev.SetString("http.request.method", method)
	}
	if v, ok := strings.CutPrefix(proto, "HTTP/"); ok {
		ev.SetString("http.version", v)
	}
	if target != "-" && target != "" {
		setURL(ev, target)
	}
}

// setURL sets url.original and its parts. The load balancer writes the
// absolute URL it served (scheme://host:port/path?query).
func setURL(ev *event.Event, raw string) {
	ev.SetString("url.original", raw)
	rest := raw
	if i := strings.Index(rest, "://"); i > 0 {
		ev.SetString("url.scheme", strings.ToLower(rest[:i]))
		rest = rest[i+3:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		setHostPort(ev, rest[:end])
		rest = rest[end:]
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		ev.SetString("url.fragment", rest[i+1:])
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		ev.SetString("url.query", rest[i+1:])
		rest = rest[:i]
	}
	ev.SetString("url.path", rest)
	if ext := extension(rest); ext != "" {
		ev.SetString("url.extension", ext)
	}
}

func setHostPort(ev *event.Event, authority string) {
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
	}
	host, port := authority, ""
	if strings.HasPrefix(host, "[") {
		if end := strings.IndexByte(host, ']'); end > 0 {
			host, port = authority[1:end], strings.TrimPrefix(authority[end+1:], ":")
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host, port = authority[:i], authority[i+1:]
	}
	ev.SetString("url.domain", host)
	if n, err := strconv.ParseUint(port, 10, 16); err == nil {
		ev.Set("url.port", int64(n))
	}
}

// extension is the text after the last dot of the path's last segment, as
// ECS wants it ("png", not ".png").
func extension(path string) string {
	seg := path[strings.LastIndexByte(path, '/')+1:]
	dot := strings.LastIndexByte(seg, '.')
	if dot < 0 || dot == len(seg)-1 {
		return ""
	}
	return seg[dot+1:]
}
