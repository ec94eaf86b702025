package event

import (
	"net/netip"
	"strings"
)

// Related field names.
const (
	RelatedIP    = "related.ip"
	RelatedUser  = "related.user"
	RelatedHosts = "related.hosts"
	RelatedHash  = "related.hash"
)

// FillRelated adds to related.ip, related.user, related.hosts and
// related.hash every value found in a field that holds one, so that a bare
// IP, user or host name finds every event that mentions it. It is
// idempotent and keeps values already present.
func (e *Event) FillRelated() {
	var r relatedValues
	for k, v := range e.m {
		kd := relatedKind(k)
		if kd == kindNone || strings.HasPrefix(k, "related.") {
			continue
		}
		// Values are walked in place: most are single strings, and boxing
		// each in a slice would allocate for every field.
		switch x := v.(type) {
		case string:
			r.add(kd, x)
		case []string:
			for _, s := range x {
				r.add(kd, s)
			}
		case []any:
			for _, el := range x {
				if s, ok := el.(string); ok {
					r.add(kd, s)
				}
			}
		}
	}
	sortStrings(r.ips)
	sortStrings(r.users)
	sortStrings(r.hosts)
	sortStrings(r.hashes)
	e.Append(RelatedIP, r.ips...)
	e.Append(RelatedUser, r.users...)
	e.Append(RelatedHosts, r.hosts...)
	e.Append(RelatedHash, r.hashes...)
}

// relatedValues collects an event's related values by kind.
type relatedValues struct {
	ips, users, hosts, hashes []string
}

func (r *relatedValues) add(kd kind, s string) {
	switch kd {
	case kindIP:
		if c, ok := canonicalAddr(s); ok {
			r.ips = append(r.ips, c)
		}
	case kindUser:
		r.users = append(r.users, s)
	case kindHost:
		if _, err := netip.ParseAddr(s); err == nil {
			r.ips = append(r.ips, s) // a host given as an address
			return
		}
		r.hosts = append(r.hosts, s)
	case kindHash:
		r.hashes = append(r.hashes, lowerASCII(s))
	}
}

// canonicalAddr returns an address in canonical form. A dotted IPv4 that
// parses is canonical already (netip refuses leading zeros), so it is
// returned as it is, without a new string.
func canonicalAddr(s string) (string, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", false
	}
	if a.Is4() {
		return s, true
	}
	return a.Unmap().String(), true
}

// lowerASCII lower-cases s, allocating only when it has upper-case letters
// (hex digests usually have none).
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

type kind int

const (
	kindNone kind = iota
	kindIP
	kindUser
	kindHost
	kindHash
)

var hostFields = map[string]bool{
	"host.name": true, "host.hostname": true, "observer.hostname": true, "observer.name": true,
	"source.domain": true, "destination.domain": true, "client.domain": true, "server.domain": true,
	"source.address": true, "destination.address": true, "client.address": true, "server.address": true,
	"server.name": true, "agent.hostname": true,
}

// relatedKind classifies a field by its ECS name: fields ending in ".ip",
// user names and e-mails ("user.name", "source.user.name",
// "user.target.email"), host and domain names, and "*.hash.<algorithm>".
func relatedKind(k string) kind {
	last := k
	if i := strings.LastIndexByte(k, '.'); i >= 0 {
		last = k[i+1:]
	}
	// Switch on the last segment first: most fields are none of these,
	// and this spares them the map lookups of the whole name.
	switch last {
	case "ip", "ips":
		return kindIP
	case "name", "hostname", "domain", "address":
		if hostFields[k] {
			return kindHost
		}
		if last == "name" && isUserPath(k) {
			return kindUser
		}
	case "email":
		if isUserPath(k) {
			return kindUser
		}
	case "md5", "sha1", "sha224", "sha256", "sha384", "sha512", "ssdeep", "tlsh", "imphash":
		if strings.Contains(k, "hash.") {
			return kindHash
		}
	}
	return kindNone
}

// isUserPath reports whether the field sits under a "user" object
// (user.name, user.target.name, source.user.email), not user_agent.*.
func isUserPath(k string) bool {
	return k == "user.name" || k == "user.email" ||
		strings.HasPrefix(k, "user.") || strings.Contains(k, ".user.")
}

func sortStrings(s []string) {
	// insertion sort: these lists hold a handful of values
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
