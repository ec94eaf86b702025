package alert

import (
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// ContextWindow is how far before an alert's first event and after its
// last the related events are looked for.
const ContextWindow = 30 * time.Minute

// maxContextValues bounds the values of one field in a context query, so
// that an alert over thousands of addresses still gives a usable query.
const maxContextValues = 50

// ContextQuery builds the search for the events around an alert: every
// event in [from, to] that shares an IP address, user or host with the
// alert's events (their related.ip, related.user and related.hosts), in any
// dataset. The query is in mamori's query language (docs/query.md), with
// every value quoted. Loopback and unspecified addresses are left out: they
// relate everything to everything. When the events relate to nothing, the
// query names the alert's own events by id.
func ContextQuery(a Alert, events []*event.Event) (query string, from, to time.Time) {
	from, to = a.FirstSeen.Add(-ContextWindow), a.LastSeen.Add(ContextWindow)
	var clauses []string
	for _, field := range []string{event.RelatedIP, event.RelatedUser, event.RelatedHosts} {
		set := map[string]bool{}
		for _, e := range events {
			for _, v := range e.Strings(field) {
				if v = contextValue(field, v); v != "" {
					set[v] = true
				}
			}
		}
		if c := fieldClause(field, set); c != "" {
			clauses = append(clauses, c)
		}
	}
	if len(clauses) == 0 {
		set := map[string]bool{}
		for _, id := range a.EventIDs {
			if id != "" {
				set[id] = true
			}
		}
		if c := fieldClause(event.FieldID, set); c != "" {
			clauses = append(clauses, c)
		}
	}
	return strings.Join(clauses, " OR "), from, to
}

// contextValue is v as it should be searched for, or "" to leave it out.
func contextValue(field, v string) string {
	if field != event.RelatedIP {
		return v // exact: a related value matches whole
	}
	ip, err := netip.ParseAddr(v)
	if err != nil {
		return "" // related.ip holds addresses only; anything else cannot match
	}
	ip = ip.Unmap()
	if ip.IsLoopback() || ip.IsUnspecified() {
		return ""
	}
	return ip.String()
}

// fieldClause writes field:("a" OR "b" ...) over the sorted values, at most
// maxContextValues of them.
func fieldClause(field string, set map[string]bool) string {
	if len(set) == 0 {
		return ""
	}
	values := make([]string, 0, len(set))
	for v := range set {
		values = append(values, v)
	}
	sort.Strings(values)
	if len(values) > maxContextValues {
		values = values[:maxContextValues]
	}
	var b strings.Builder
	b.WriteString(field)
	b.WriteString(":(")
	for i, v := range values {
		if i > 0 {
			b.WriteString(" OR ")
		}
		quote(&b, v)
	}
	b.WriteByte(')')
	return b.String()
}

// quote writes s as a phrase: in double quotes, with '"' and '\' escaped.
// A phrase holds no wildcards or operators, so any text is taken literally.
func quote(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}
