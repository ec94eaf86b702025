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
	// Values are gathered on the stack (an event has a handful), each
	// with the kind of related.* field it goes to.
	var buf [32]relatedValue
	vals := buf[:0]
	for i := range e.fields {
		f := &e.fields[i]
		if f.v == nil {
			continue
		}
		kd := relatedKind(f.name)
		if kd == kindNone || strings.HasPrefix(f.name, "related.") {
			continue
		}
		// Values are walked in place: most are single strings, and boxing
		// each in a slice would allocate for every field.
		switch x := f.v.(type) {
		case string:
			vals = appendRelated(vals, kd, x)
		case []string:
			for _, s := range x {
				vals = appendRelated(vals, kd, s)
			}
		case []any:
			for _, el := range x {
				if s, ok := el.(string); ok {
					vals = appendRelated(vals, kd, s)
				}
			}
		}
	}
	e.addRelated(vals)
}

// addRelated adds the gathered values to the related.* fields, each list
// sorted and without repeats after the values a field already had. The
// lists live in the event's list arena (box.go).
func (e *Event) addRelated(vals []relatedValue) {
	var (
		buf   [32]string                 // the new values of every field, field after field
		fresh [len(relatedFields)][2]int // each field's new values: buf[from:to]
		cur   [len(relatedFields)][]string
	)
	added := buf[:0]
	anyNew := false
	for i, rf := range relatedFields {
		cur[i] = e.Strings(rf.field)
		from := len(added)
		for _, v := range vals {
			if v.kind == rf.kind {
				added = append(added, v.s)
			}
		}
		sortStrings(added[from:])
		// Keep the first of equal values, and none the field has.
		n := from
		for _, s := range added[from:] {
			if s == "" || (n > from && added[n-1] == s) || contains(cur[i], s) {
				continue
			}
			added[n] = s
			n++
		}
		added = added[:n]
		fresh[i] = [2]int{from, n}
		anyNew = anyNew || n > from
	}
	if !anyNew && !e.relatedNeedLists() {
		return
	}
	for i, rf := range relatedFields {
		list := cur[i]
		if from, to := fresh[i][0], fresh[i][1]; to > from {
			// The new list goes to the event's arena: the values there
			// already, then the new ones.
			var joined [32]string
			list = e.arenaCopy(append(append(joined[:0], list...), added[from:to]...))
		} else if v, _ := e.Get(rf.field); v == nil || isList(v) || len(list) == 0 {
			continue // nothing new, and already a list (or nothing to list)
		}
		e.put(rf.field, e.boxList(list))
	}
}

// relatedNeedLists reports whether a related.* field holds a value other
// than a list of strings, which FillRelated turns into one.
func (e *Event) relatedNeedLists() bool {
	for _, rf := range relatedFields {
		if v, _ := e.Get(rf.field); v != nil && !isList(v) {
			return true
		}
	}
	return false
}

func isList(v any) bool {
	_, ok := v.([]string)
	return ok
}

// relatedFields are the related.* fields in the order FillRelated fills
// them, with the kind of value each holds.
var relatedFields = [...]struct {
	kind  kind
	field string
}{{kindIP, RelatedIP}, {kindUser, RelatedUser}, {kindHost, RelatedHosts}, {kindHash, RelatedHash}}

// relatedValue is one value for a related.* field.
type relatedValue struct {
	kind kind
	s    string
}

// appendRelated appends s, found in a field of kind kd, in the form and
// under the kind its related.* field wants; values that are not what their
// field promises (an IP field holding no address) are left out.
func appendRelated(vals []relatedValue, kd kind, s string) []relatedValue {
	switch kd {
	case kindIP:
		if c, ok := canonicalAddr(s); ok {
			vals = append(vals, relatedValue{kindIP, c})
		}
	case kindUser:
		vals = append(vals, relatedValue{kindUser, s})
	case kindHost:
		if _, ok := ParseAddr(s); ok {
			return append(vals, relatedValue{kindIP, s}) // a host given as an address
		}
		vals = append(vals, relatedValue{kindHost, s})
	case kindHash:
		vals = append(vals, relatedValue{kindHash, lowerASCII(s)})
	}
	return vals
}

// canonicalAddr returns an address in canonical form (see AddrText).
func canonicalAddr(s string) (string, bool) {
	a, ok := ParseAddr(s)
	if !ok {
		return "", false
	}
	return AddrText(s, a), true
}

// AddrText returns the canonical text of a, which was parsed from s, with
// an IPv4-mapped IPv6 address as IPv4: s itself when it is that text
// already (always for a dotted IPv4, as netip refuses leading zeros), so
// that the usual case builds no string.
func AddrText(s string, a netip.Addr) string {
	if a.Is4() {
		return s
	}
	var buf [64]byte
	b := a.Unmap().AppendTo(buf[:0])
	if string(b) == s {
		return s
	}
	return string(b)
}

// ParseAddr is netip.ParseAddr for a text that may well not be an
// address: a text with a character no address has (a host name, a user
// name) is refused without parsing, as netip builds an error value for it.
func ParseAddr(s string) (netip.Addr, bool) {
	if !addrChars(s) {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	return a, err == nil
}

// addrChars reports whether s has only the characters of an IPv4 or IPv6
// address (digits, hex letters, '.', ':'), up to a zone ('%...'), which may
// hold anything.
func addrChars(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == '.', c == ':':
		case c|0x20 >= 'a' && c|0x20 <= 'f':
		case c == '%':
			return true
		default:
			return false
		}
	}
	return true
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

// isHostField reports the fields holding a host or domain name (or an
// address that may be one). A switch, not a map: it runs for every field
// named "*.name" of every event.
func isHostField(k string) bool {
	switch k {
	case "host.name", "host.hostname", "observer.hostname", "observer.name",
		"source.domain", "destination.domain", "client.domain", "server.domain",
		"source.address", "destination.address", "client.address", "server.address",
		"server.name", "agent.hostname":
		return true
	}
	return false
}

// relatedKind classifies a field by its ECS name: fields ending in ".ip",
// user names and e-mails ("user.name", "source.user.name",
// "user.target.email"), host and domain names, and "*.hash.<algorithm>".
// It runs for every field of every event, so it switches on the name's
// last two bytes first: most fields end in none of these names.
func relatedKind(k string) kind {
	if len(k) < 2 {
		return kindNone
	}
	switch uint16(k[len(k)-2])<<8 | uint16(k[len(k)-1]) {
	case 'i'<<8 | 'p':
		if lastIs(k, "ip") {
			return kindIP
		}
	case 'p'<<8 | 's':
		if lastIs(k, "ips") {
			return kindIP
		}
	case 'm'<<8 | 'e':
		if lastIs(k, "name") {
			if isHostField(k) {
				return kindHost
			}
			if isUserPath(k) {
				return kindUser
			}
		} else if lastIs(k, "hostname") && isHostField(k) {
			return kindHost
		}
	case 'i'<<8 | 'n':
		if lastIs(k, "domain") && isHostField(k) {
			return kindHost
		}
	case 's'<<8 | 's':
		if lastIs(k, "address") && isHostField(k) {
			return kindHost
		}
	case 'i'<<8 | 'l':
		if lastIs(k, "email") && isUserPath(k) {
			return kindUser
		}
	case 'd'<<8 | '5', 'a'<<8 | '1', '2'<<8 | '4', '5'<<8 | '6', '8'<<8 | '4', '1'<<8 | '2', // md5 sha1 sha224 sha256 sha384 sha512
		'e'<<8 | 'p', 's'<<8 | 'h': // ssdeep tlsh imphash
		if isHashName(k) && strings.Contains(k, "hash.") {
			return kindHash
		}
	}
	return kindNone
}

// lastIs reports whether seg is the last segment of the dotted name k.
func lastIs(k, seg string) bool {
	n := len(k) - len(seg)
	return n >= 0 && k[n:] == seg && (n == 0 || k[n-1] == '.')
}

// isHashName reports whether the last segment of k names a digest.
func isHashName(k string) bool {
	for _, alg := range [...]string{"md5", "sha1", "sha224", "sha256", "sha384", "sha512", "ssdeep", "tlsh", "imphash"} {
		if lastIs(k, alg) {
			return true
		}
	}
	return false
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
