// Package accesslog holds the nginx.access and apache.access datasets: web
// server access logs in the Common Log Format and the formats built on it
// (combined, vhost_combined, trailing extras such as X-Forwarded-For and
// the request time), read from files or received over syslog, mapped to
// ECS. The two datasets differ only in their name and vendor namespace.
package accesslog

import (
	"fmt"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/syslog"
	"github.com/mamori-sec/mamori/internal/event"
	parsesyslog "github.com/mamori-sec/mamori/internal/parse/syslog"
)

// Dataset names and event.dataset values.
const (
	NginxName  = "nginx.access"
	ApacheName = "apache.access"
)

// Options configure the datasets.
type Options struct {
	// Location is the zone of syslog header timestamps that carry none
	// (nil means UTC); the access log's own timestamp always has one.
	Location *time.Location
	// Now gives the reference time when a record has no receive time
	// (nil means time.Now); a BSD syslog timestamp's year is the one
	// nearest it.
	Now func() time.Time
}

// NewNginx returns the nginx.access dataset. It claims syslog messages
// tagged nginx in access log shape and, as the one dataset that may, lines
// without a syslog header in that shape (see LooksLikeAccessLog).
func NewNginx(opts Options) dataset.Dataset {
	return dataset.Dataset{
		Name:        NginxName,
		Description: "nginx access logs (combined, common, with a vhost prefix or trailing fields), from files or syslog",
		Parser:      newParser(opts, NginxName),
		Claim:       claimNginx,
	}
}

// NewApache returns the apache.access dataset. It claims syslog messages
// tagged httpd, apache or apache2 in access log shape; files must be named
// as apache.access on import (their lines look like nginx's).
func NewApache(opts Options) dataset.Dataset {
	return dataset.Dataset{
		Name:        ApacheName,
		Description: "Apache httpd access logs (common, combined, vhost_combined, trailing fields), from files or syslog",
		Parser:      newParser(opts, ApacheName),
		Claim:       claimApache,
	}
}

func claimNginx(l dataset.Line) bool {
	// "" is a line without a syslog header (or a header without a tag).
	return (l.App == "nginx" || l.App == "") && LooksLikeAccessLog(l.Body)
}

func claimApache(l dataset.Line) bool {
	switch l.App {
	case "httpd", "apache", "apache2":
		return LooksLikeAccessLog(l.Body)
	}
	return false
}

// LooksLikeAccessLog reports the Common Log Format's shape in a few byte
// comparisons: within the first 300 bytes, a " [" with only address, host
// and user name characters before it, followed by "dd/Mon/yyyy:hh:mm:ss"
// and, after a numeric zone, `] "`. Nothing else common writes that
// timestamp with its zone and a quote after it.
func LooksLikeAccessLog(b []byte) bool {
	const maxPrefix = 300
	if len(b) == 0 || b[0] == '{' || b[0] == '<' {
		return false
	}
	limit := min(len(b), maxPrefix)
	for i := 1; i < limit; i++ {
		switch b[i] {
		case '|', '=', '"', '{', '<', '>':
			// Not in addresses, host or user names: another format
			// (CEF, key=value) that happens to hold such a timestamp.
			return false
		}
		if b[i] != '[' || b[i-1] != ' ' {
			continue
		}
		t := b[i+1:]
		if len(t) < 29 {
			return false
		}
		if !(isDigit(t[0]) && isDigit(t[1]) && t[2] == '/' && isUpperASCII(t[3]) && t[6] == '/' &&
			isDigit(t[7]) && isDigit(t[10]) && t[11] == ':' && t[14] == ':' && t[17] == ':') {
			return false
		}
		// "... +0200] \"" possibly after fractional seconds.
		j := 20
		for j < len(t) && j < 30 && t[j] != ' ' {
			j++
		}
		return j+8 < len(t) && (t[j+1] == '+' || t[j+1] == '-') && t[j+6] == ']' && t[j+7] == ' ' && t[j+8] == '"'
	}
	return false
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isUpperASCII(c byte) bool { return c >= 'A' && c <= 'Z' }

type parser struct {
	loc  *time.Location
	now  func() time.Time
	name string // the dataset's name
	ns   string // its vendor namespace: the name and a dot
}

func newParser(opts Options, name string) *parser {
	p := &parser{loc: opts.Location, now: opts.Now, name: name, ns: name + "."}
	if p.loc == nil {
		p.loc = time.UTC
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p
}

// Parse maps one access log line, with or without a syslog header. A
// line that is not in access log shape is an error.
func (p *parser) Parse(rec dataset.Record) ([]*event.Event, error) {
	data := rec.Data
	for len(data) > 0 && (data[len(data)-1] == '\n' || data[len(data)-1] == '\r') {
		data = data[:len(data)-1]
	}
	if len(data) == 0 {
		return nil, nil
	}
	body := string(data)
	var hdr *parsesyslog.Message
	if startsLikeSyslog(data) {
		ref := rec.Received
		if ref.IsZero() {
			ref = p.now()
		}
		m := parsesyslog.ParseString(body, ref, p.loc)
		if m.HeaderFound() || m.HasPriority {
			hdr, body = &m, m.Body
		}
	}
	l, err := parseLine(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.name, err)
	}
	ev := event.New(40)
	p.mapLine(ev, &l)
	if hdr != nil {
		syslog.SetHeader(ev, hdr, p.loc, true)
	}
	return []*event.Event{ev}, nil
}

// startsLikeSyslog reports a PRI, a BSD timestamp or an RFC 3339 date at
// the start: an access line starts with an address or host name instead.
func startsLikeSyslog(b []byte) bool {
	switch {
	case b[0] == '<':
		return true
	case len(b) > 4 && isUpperASCII(b[0]) && b[3] == ' ':
		for _, m := range months {
			if string(b[:3]) == m {
				return true
			}
		}
	case len(b) > 10 && isDigit(b[0]) && isDigit(b[3]) && b[4] == '-' && b[7] == '-' && (b[10] == 'T' || b[10] == ' '):
		return true
	}
	return false
}
