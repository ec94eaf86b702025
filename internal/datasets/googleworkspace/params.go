package googleworkspace

import (
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/parse/jsontree"
)

// paramMapper stores an event's parameters under the application's
// namespace, typed as the API types them, and copies the ones ECS has a
// place for.
type paramMapper struct {
	ev     *event.Event
	app    *app // nil for applications without a dataset
	prefix string
}

// set stores a parameters list: [{"name": ..., "<kind>Value": ...}].
func (m *paramMapper) set(params jsontree.Value) {
	for prm := range params.Elements() {
		name := prm.Get("name").Text()
		if name == "" {
			continue
		}
		field := m.prefix + jsontree.SnakeCase(name)
		if msg := prm.Get("messageValue"); msg.Kind() == jsontree.Object {
			sub := paramMapper{ev: m.ev, app: m.app, prefix: field + "."}
			sub.set(msg.Get("parameter"))
			continue
		}
		v := paramValue(prm)
		if v == nil {
			continue
		}
		m.ev.Set(field, v)
		m.enrich(name, v)
	}
}

// paramValue returns a parameter's value: value (text), intValue (int64;
// the API writes it as a string), boolValue, multiValue ([]string),
// multiIntValue, multiBoolValue, multiMessageValue (a list of objects).
func paramValue(prm jsontree.Value) any {
	for k, x := range prm.Members() {
		switch k {
		case "value":
			// Documented as text; some exports write numbers here.
			return x.Any(nil)
		case "intValue":
			if n, ok := x.Int(); ok {
				return n
			}
			return x.Any(nil)
		case "boolValue":
			if b, ok := x.Bool(); ok {
				return b
			}
		case "multiValue":
			return x.Any(nil)
		case "multiIntValue":
			out := make([]any, 0, x.Len())
			for el := range x.Elements() {
				if n, ok := el.Int(); ok {
					out = append(out, n)
				}
			}
			return out
		case "multiBoolValue":
			out := make([]any, 0, x.Len())
			for el := range x.Elements() {
				if b, ok := el.Bool(); ok {
					out = append(out, b)
				}
			}
			return out
		case "multiMessageValue":
			out := make([]any, 0, x.Len())
			for msg := range x.Elements() {
				if obj := messageObject(msg.Get("parameter")); len(obj) > 0 {
					out = append(out, obj)
				}
			}
			return out
		}
	}
	return nil
}

// messageObject turns one message's parameter list into an object.
func messageObject(params jsontree.Value) map[string]any {
	obj := make(map[string]any, params.Len())
	for prm := range params.Elements() {
		name := prm.Get("name").Text()
		if name == "" {
			continue
		}
		if msg := prm.Get("messageValue"); msg.Kind() == jsontree.Object {
			if sub := messageObject(msg.Get("parameter")); len(sub) > 0 {
				obj[jsontree.SnakeCase(name)] = sub
			}
			continue
		}
		if v := paramValue(prm); v != nil {
			obj[jsontree.SnakeCase(name)] = v
		}
	}
	return obj
}

// enrich copies a parameter to ECS. Parameter names mean the same in
// every application that has them, so this does not depend on the
// application, except where a name is generic (owner).
func (m *paramMapper) enrich(name string, v any) {
	ev := m.ev
	s, _ := v.(string)
	switch name {
	case "login_timestamp":
		// Microseconds since the epoch.
		if us, ok := v.(int64); ok && us > 0 {
			ev.Set("event.start", time.UnixMicro(us).UTC())
		}
	case "login_challenge_status":
		if s == "" {
			return
		}
		if strings.EqualFold(s, "Challenge Passed") || strings.EqualFold(s, "passed") {
			ev.SetIfAbsent("event.outcome", "success")
		} else {
			ev.SetIfAbsent("event.outcome", "failure")
		}
	case "affected_email_address", "USER_EMAIL":
		// The user the event is about, as opposed to the actor.
		setTargetUser(ev, s)
	case "target_user", "target":
		if m.app != nil && m.app.dataset == DriveName {
			setTargetUser(ev, s)
		}
	case "GROUP_EMAIL":
		ev.SetString("group.name", s)
		if _, domain, ok := splitEmail(s); ok {
			ev.SetString("group.domain", domain)
		}
	case "doc_title":
		ev.SetString("file.name", s)
		if i := strings.LastIndexByte(s, '.'); i > 0 && i < len(s)-1 && !strings.ContainsAny(s[i+1:], " /") {
			ev.SetString("file.extension", s[i+1:])
		}
	case "doc_type":
		if m.app == nil || m.app.dataset != DriveName {
			return
		}
		if s == "folder" || s == "shared" || s == "shared_drive" {
			ev.Set("file.type", "dir")
		} else {
			ev.Set("file.type", "file")
		}
	case "owner":
		if m.app == nil || m.app.dataset != DriveName {
			return
		}
		// ECS file.owner is a user name; the address stays in the
		// vendor field and both are related users.
		ev.Append(event.RelatedUser, s)
		if local, _, ok := splitEmail(s); ok {
			ev.SetString("file.owner", local)
			ev.Append(event.RelatedUser, local)
		} else {
			ev.SetString("file.owner", s)
		}
	case "APK_SHA256_HASH":
		ev.Append(event.RelatedHash, strings.ToLower(s))
	case "OS_VERSION":
		ev.SetString("host.os.version", s)
	case "DEVICE_ID":
		ev.SetString("device.id", s)
	}
}

// setTargetUser sets user.target.* from an address or a name.
func setTargetUser(ev *event.Event, s string) {
	if s == "" {
		return
	}
	if name, domain, ok := splitEmail(s); ok {
		ev.SetString("user.target.email", s)
		ev.SetString("user.target.name", name)
		ev.SetString("user.target.domain", domain)
		return
	}
	ev.SetString("user.target.name", s)
}
