package dns

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// question is what every query line names.
type question struct {
	name, class, qtype string
}

// set writes dns.question.* and adds the name to related.hosts (the
// pipeline's FillRelated does not know dns.* fields).
func (q question) set(ev *event.Event) {
	name := trimDot(q.name)
	ev.SetString("dns.question.name", name)
	ev.SetString("dns.question.class", q.class)
	ev.SetString("dns.question.type", q.qtype)
	if reg, tld, sub := splitDomain(name); reg != "" {
		ev.SetString("dns.question.registered_domain", reg)
		ev.SetString("dns.question.top_level_domain", tld)
		ev.SetString("dns.question.subdomain", sub)
	}
	if name != "" && name != "." {
		ev.Append(event.RelatedHosts, name)
	}
}

// trimDot removes the root label's dot ("www.example.com." is written
// "www.example.com" in ECS), leaving the root itself as ".".
func trimDot(name string) string {
	if len(name) > 1 && name[len(name)-1] == '.' {
		return name[:len(name)-1]
	}
	return name
}

// splitDomain approximates the registered domain as the last two labels:
// "www.example.com" gives "example.com", "com" and "www". Without the
// public suffix list this is wrong under multi-label suffixes
// ("example.co.uk" gives "co.uk"); the README says so. Reverse-lookup
// names (".arpa") and single labels give nothing.
func splitDomain(name string) (registered, tld, sub string) {
	last := strings.LastIndexByte(name, '.')
	if last <= 0 || last == len(name)-1 {
		return "", "", ""
	}
	tld = name[last+1:]
	if strings.EqualFold(tld, "arpa") {
		return "", "", ""
	}
	prev := strings.LastIndexByte(name[:last], '.')
	if prev < 0 {
		return name, tld, ""
	}
	if prev == 0 {
		return "", "", ""
	}
	return name[prev+1:], tld, name[:prev]
}

// answers parses resource records written as text, "name ttl class type
// data", separated by ';' (Infoblox's response logging), into ECS
// dns.answers, and adds their names and data to related.*.
func setAnswers(ev *event.Event, text string) {
	var (
		list     []any
		resolved []string
	)
	for rr := range strings.SplitSeq(text, ";") {
		f := strings.Fields(rr)
		if len(f) < 4 {
			continue
		}
		a := map[string]any{"name": trimDot(f[0])}
		rest := f[1:]
		if ttl, err := strconv.ParseInt(rest[0], 10, 64); err == nil {
			a["ttl"] = ttl
			rest = rest[1:]
		}
		if len(rest) < 3 {
			continue
		}
		a["class"], a["type"] = rest[0], rest[1]
		data := trimDot(strings.Join(rest[2:], " "))
		a["data"] = data
		list = append(list, a)
		ev.Append(event.RelatedHosts, a["name"].(string))
		if ip, err := netip.ParseAddr(data); err == nil {
			canon := ip.Unmap().String()
			resolved = append(resolved, canon)
			ev.Append(event.RelatedIP, canon)
		} else if isHostname(data) {
			ev.Append(event.RelatedHosts, data)
		}
	}
	if len(list) > 0 {
		ev.Set("dns.answers", list)
	}
	if len(resolved) > 0 {
		ev.Set("dns.resolved_ip", resolved)
	}
}

// isHostname reports whether s looks like a domain name (letters, digits,
// '-', '_' and dots, with at least one dot), so that CNAME, NS and PTR
// targets count as related hosts but TXT or MX data do not.
func isHostname(s string) bool {
	if len(s) < 3 || strings.IndexByte(s, '.') < 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// flags is a set of DNS header flags.
type flags uint8

// The header flags in the order the header has them.
const (
	flagAA flags = 1 << iota
	flagTC
	flagRD
	flagRA
	flagAD
	flagCD
	flagDO
)

var flagNames = [...]string{"AA", "TC", "RD", "RA", "AD", "CD", "DO"}

// list turns the set into ECS dns.header_flags, in header order.
func (f flags) list() []string {
	var out []string
	for i, name := range flagNames {
		if f&(1<<i) != 0 {
			out = append(out, name)
		}
	}
	return out
}
