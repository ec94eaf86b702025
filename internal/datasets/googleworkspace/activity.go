package googleworkspace

import (
	"net/netip"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/parse/jsontree"
)

// activity holds what every event of one activity shares.
type activity struct {
	v       jsontree.Value
	app     *app   // nil for an application without a dataset of its own
	appName string // id.applicationName
	dataset string
	ns      string // google_workspace.<ns>.<parameter>
	time    time.Time
}

// appendActivity appends one event per event of the activity (one event
// when the activity lists none, so that the activity is not lost).
func (p *parser) appendActivity(evs []*event.Event, v jsontree.Value) []*event.Event {
	a := activity{v: v, appName: v.Path("id", "applicationName").Text()}
	a.app = lookup(p.apps, a.appName)
	switch {
	case a.app != nil:
		a.dataset, a.ns = a.app.dataset, a.app.ns
	case isIdent(a.appName):
		// Another Reports API application (calendar, groups, ...) parsed
		// by name: it keeps its own namespace.
		a.dataset, a.ns = p.own.dataset, a.appName
	default:
		a.dataset, a.ns = p.own.dataset, p.own.ns
	}
	a.time, _ = parseTime(v.Path("id", "time").Text())

	items := v.Get("events")
	switch items.Kind() {
	case jsontree.Array:
		n := 0
		for item := range items.Elements() {
			if item.Kind() == jsontree.Object {
				evs = append(evs, a.event(item))
				n++
			}
		}
		if n > 0 {
			return evs
		}
	case jsontree.Object:
		// Shippers that split events[] write each item in its place.
		return append(evs, a.event(items))
	}
	return append(evs, a.event(jsontree.Value{}))
}

// event maps the activity and one of its events.
func (a *activity) event(item jsontree.Value) *event.Event {
	params := item.Get("parameters")
	ev := event.New(40 + 2*params.Len())
	ev.SetString(event.FieldDataset, a.dataset)
	ev.Set(event.FieldKind, "event")
	if !a.time.IsZero() {
		ev.Set(event.FieldTimestamp, a.time)
	}
	ev.SetString("event.provider", a.appName)
	a.setActivity(ev)

	action := item.Get("name").Text()
	eventType := item.Get("type").Text()
	ev.SetString("event.action", action)
	ev.SetString("google_workspace.event.type", eventType)
	for k, x := range item.Members() {
		switch k {
		case "name", "type", "parameters":
		default:
			setAny(ev, "google_workspace.event."+jsontree.SnakeCase(k), x)
		}
	}
	m := paramMapper{ev: ev, app: a.app, prefix: "google_workspace." + a.ns + "."}
	m.set(params)

	// An activity without events says nothing to categorise.
	if a.app != nil && action != "" {
		c := a.app.classify(action, eventType)
		if c.kind != "" {
			ev.SetString(event.FieldKind, c.kind)
		}
		ev.Set("event.category", c.category)
		ev.Set("event.type", c.typ)
		ev.SetIfAbsent("event.outcome", c.outcome)
	}
	return ev
}

// setActivity sets the fields of the activity around its events: who
// acted, from where, for which customer.
func (a *activity) setActivity(ev *event.Event) {
	for k, x := range a.v.Members() {
		switch k {
		case "kind":
			ev.SetString("google_workspace.kind", x.Text())
		case "etag":
			ev.SetString("google_workspace.etag", x.Text())
		case "id":
			ev.SetString("google_workspace.id.unique_qualifier", x.Get("uniqueQualifier").Text())
			ev.SetString("organization.id", x.Get("customerId").Text())
		case "actor":
			setActor(ev, x)
		case "ipAddress":
			setIP(ev, x.Text())
		case "ownerDomain":
			d := x.Text()
			ev.SetString("google_workspace.organization.domain", d)
			ev.Append(event.RelatedHosts, d)
		case "networkInfo":
			setNetworkInfo(ev, x)
		case "events":
		default:
			setAny(ev, "google_workspace."+jsontree.SnakeCase(k), x)
		}
	}
}

func setActor(ev *event.Event, actor jsontree.Value) {
	for k, x := range actor.Members() {
		switch k {
		case "email":
			email := x.Text()
			ev.SetString("user.email", email)
			if name, domain, ok := splitEmail(email); ok {
				ev.SetString("user.name", name)
				ev.SetString("user.domain", domain)
				ev.Append(event.RelatedHosts, domain)
			}
		case "profileId":
			id := x.Text()
			ev.SetString("user.id", id)
			// related.user holds every way a user is named; FillRelated
			// does not take ids.
			ev.Append(event.RelatedUser, id)
		case "callerType":
			ev.SetString("google_workspace.actor.type", x.Text())
		case "key":
			ev.SetString("google_workspace.actor.key", x.Text())
		default:
			setAny(ev, "google_workspace.actor."+jsontree.SnakeCase(k), x)
		}
	}
}

// setIP sets source.ip from a valid address; anything else is kept as it
// came under google_workspace.ip_address.
func setIP(ev *event.Event, s string) {
	if addr, err := netip.ParseAddr(s); err == nil {
		ev.SetString("source.ip", addr.Unmap().WithZone("").String())
		return
	}
	ev.SetString("google_workspace.ip_address", s)
}

// setNetworkInfo maps the activity's network information: the caller's
// autonomous system and region.
func setNetworkInfo(ev *event.Event, ni jsontree.Value) {
	for k, x := range ni.Members() {
		switch k {
		case "ipAsn":
			for asn := range x.Elements() {
				if n, ok := asn.Int(); ok {
					ev.Set("source.as.number", n)
					break
				}
			}
		case "regionCode":
			ev.SetString("source.geo.country_iso_code", x.Text())
		case "subdivisionCode":
			ev.SetString("source.geo.region_iso_code", x.Text())
		}
		setAny(ev, "google_workspace.network_info."+jsontree.SnakeCase(k), x)
	}
}

// parseTime reads id.time: RFC 3339, or the same with a space for the T
// and no zone, which is UTC as every Reports API time.
func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse("2006-01-02 15:04:05.999999999", s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// splitEmail splits an address into its local part and domain.
func splitEmail(s string) (name, domain string, ok bool) {
	i := strings.LastIndexByte(s, '@')
	if i <= 0 || i == len(s)-1 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// setAny stores a vendor value as it came: objects flattened below name,
// lists and scalars as event values.
func setAny(ev *event.Event, name string, v jsontree.Value) {
	if v.Kind() == jsontree.Object {
		for k, x := range v.Members() {
			setAny(ev, name+"."+jsontree.SnakeCase(k), x)
		}
		return
	}
	if x := v.Any(jsontree.SnakeCase); x != nil {
		ev.Set(name, x)
	}
}

// isIdent reports a name usable as one field name segment as it is.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
