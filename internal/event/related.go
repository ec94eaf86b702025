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
	var ips, users, hosts, hashes []string
	for k, v := range e.m {
		if strings.HasPrefix(k, "related.") {
			continue
		}
		switch relatedKind(k) {
		case kindIP:
			for _, s := range valueStrings(v) {
				if a, err := netip.ParseAddr(s); err == nil {
					ips = append(ips, a.Unmap().String())
				}
			}
		case kindUser:
			users = append(users, valueStrings(v)...)
		case kindHost:
			for _, s := range valueStrings(v) {
				if _, err := netip.ParseAddr(s); err == nil {
					ips = append(ips, s) // a host given as an address
					continue
				}
				hosts = append(hosts, s)
			}
		case kindHash:
			for _, s := range valueStrings(v) {
				hashes = append(hashes, strings.ToLower(s))
			}
		}
	}
	sortStrings(ips)
	sortStrings(users)
	sortStrings(hosts)
	sortStrings(hashes)
	e.Append(RelatedIP, ips...)
	e.Append(RelatedUser, users...)
	e.Append(RelatedHosts, hosts...)
	e.Append(RelatedHash, hashes...)
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

func valueStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []string:
		return x
	case []any:
		var out []string
		for _, el := range x {
			if s, ok := el.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func sortStrings(s []string) {
	// insertion sort: these lists hold a handful of values
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
