package cylance

import (
	"net/netip"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// ns is the dataset's namespace for vendor fields.
const ns = "cylance.protect."

// fields remembers what categorisation needs from the payload.
type fields struct {
	eventType, eventName, action string
}

// mapPair maps one payload field: to ECS where it has a home, else under
// cylance.protect.<key in snake case>.
func (f *fields) mapPair(ev *event.Event, key, value string) {
	if key == "" || value == "" {
		return
	}
	switch key {
	case "Event Type":
		f.eventType = value
		ev.SetString(ns+"event_type", value)
	case "Event Name":
		f.eventName = value
		ev.SetString("event.action", value)
	case "Action":
		f.action = value
		ev.SetString(ns+"action", value)
	case "Device Name":
		ev.SetString("host.name", value)
		ev.SetString("host.hostname", value)
	case "Device Id":
		ev.SetString("host.id", value)
	case "IP Address":
		setIPs(ev, "host.ip", list(value), key)
	case "MAC Address":
		setMACs(ev, "host.mac", list(value), key)
	case "OS":
		ev.SetString("host.os.full", value)
	case "Logged On Users":
		users := list(value)
		ev.Set(ns+"logged_on_users", users)
		ev.Append(event.RelatedUser, users...)
		if len(users) == 1 {
			ev.SetString("user.name", users[0])
		}
	case "User":
		setConsoleUser(ev, value)
	case "User Name":
		ev.SetString("user.name", value)
	case "Source IP":
		// The address a console user signed in from (audit log).
		if a, err := netip.ParseAddr(value); err == nil {
			ev.SetString("source.ip", a.Unmap().String())
		} else {
			ev.SetString(ns+"source_ip", value)
		}
	case "File Name":
		ev.SetString("file.name", value)
	case "Path", "File Path":
		ev.SetString("file.path", value)
	case "SHA256":
		setHash(ev, "sha256", value, 64)
	case "MD5":
		setHash(ev, "md5", value, 32)
	case "Cylance Score":
		if score, err := strconv.ParseFloat(value, 64); err == nil {
			ev.Set("event.risk_score", score)
		} else {
			ev.SetString(ns+"cylance_score", value)
		}
	case "Process ID":
		if pid, err := strconv.ParseInt(value, 10, 64); err == nil {
			ev.Set("process.pid", pid)
		} else {
			ev.SetString(ns+"process_id", value)
		}
	case "Process Name":
		setProcess(ev, value)
	case "Violation Type":
		ev.SetString("rule.name", value)
		ev.SetString(ns+"violation_type", value)
	case "Found Date":
		if t, err := time.ParseInLocation("1/2/2006 3:04:05 PM", value, time.UTC); err == nil {
			ev.Set(ns+"found_date", t)
		} else {
			ev.SetString(ns+"found_date", value)
		}
	case "Zone Names":
		ev.Set(ns+"zone_names", list(value))
	case "Is Running", "Auto Run", "Is Malware", "Is Unique To Cylance", "Is Safe":
		setBool(ev, ns+snake(key), value)
	default:
		ev.SetString(ns+snake(key), value)
	}
}

func setIPs(ev *event.Event, field string, values []string, key string) {
	var ips []string
	for _, v := range values {
		if a, err := netip.ParseAddr(v); err == nil {
			ips = append(ips, a.Unmap().String())
		} else {
			ev.Set(ns+snake(key), values)
			return
		}
	}
	ev.Set(field, ips)
}

func setMACs(ev *event.Event, field string, values []string, key string) {
	var macs []string
	for _, v := range values {
		m := normalizeMAC(v)
		if m == "" {
			ev.Set(ns+snake(key), values)
			return
		}
		macs = append(macs, m)
	}
	ev.Set(field, macs)
}

// setHash sets file.hash.<alg> for a hex digest of the right length; other
// text stays a vendor field.
func setHash(ev *event.Event, alg, v string, n int) {
	if len(v) == n && isHexString(v) {
		ev.SetString("file.hash."+alg, strings.ToLower(v))
		return
	}
	ev.SetString(ns+alg, v)
}

// setConsoleUser reads the audit log's "User: Full Name (login)", where
// the login is usually the e-mail address the console user signs in with.
func setConsoleUser(ev *event.Event, v string) {
	name, login, ok := strings.Cut(v, " (")
	login = strings.TrimSuffix(login, ")")
	if !ok || login == "" {
		ev.SetString("user.name", v)
		return
	}
	ev.SetString("user.full_name", strings.TrimSpace(name))
	ev.SetString("user.name", login)
	if strings.Contains(login, "@") {
		ev.SetString("user.email", login)
	}
}

// setProcess sets process.executable for a path and process.name for its
// last element (Windows or POSIX separators).
func setProcess(ev *event.Event, v string) {
	if strings.ContainsAny(v, `\/`) {
		ev.SetString("process.executable", v)
		v = path.Base(strings.ReplaceAll(v, `\`, "/"))
	}
	ev.SetString("process.name", v)
}

func setBool(ev *event.Event, field, v string) {
	switch strings.ToLower(v) {
	case "true":
		ev.Set(field, true)
	case "false":
		ev.Set(field, false)
	default:
		ev.SetString(field, v)
	}
}

func isHexString(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// categorise sets event.kind, category and type from the Event Type and
// Event Name (see the README's table).
func (f *fields) categorise(ev *event.Event) {
	name := strings.ToLower(f.eventName)
	kind, category, typ := "event", "", "info"
	switch strings.ToLower(strings.ReplaceAll(f.eventType, " ", "")) {
	case "threat":
		kind, category = "alert", "malware"
		switch name {
		case "threat_quarantined", "threat_cleared":
			typ = "deletion"
		case "threat_waived":
			typ = "allowed"
		}
	case "threatclassification":
		category = "malware"
	case "exploitattempt", "memoryprotection", "scriptcontrol", "appcontrol":
		kind, category = "alert", "intrusion_detection"
		if blocked(strings.ToLower(f.action)) || blocked(name) {
			typ = "denied"
		}
	case "devicecontrol":
		category = "intrusion_detection"
		switch {
		case blocked(name):
			kind, typ = "alert", "denied"
		case name == "fullaccess" || name == "readonly":
			typ = "allowed"
		}
	case "device":
		category = "host"
		switch {
		case strings.Contains(name, "remove"):
			typ = "end"
		case strings.Contains(name, "regist"):
			typ = "start"
		case containsAny(name, "update", "policy", "zone", "assign", "rename"):
			typ = "change"
		}
	case "auditlog":
		category = "configuration"
		switch {
		case strings.Contains(name, "login") || strings.Contains(name, "logon"):
			category, typ = "authentication", "start"
			if strings.Contains(name, "success") {
				ev.Set("event.outcome", "success")
			} else if strings.Contains(name, "fail") {
				ev.Set("event.outcome", "failure")
			}
		case containsAny(name, "add", "create", "register"):
			typ = "creation"
		case containsAny(name, "remove", "delete"):
			typ = "deletion"
		case containsAny(name, "edit", "update", "assign", "change", "modify"):
			typ = "change"
		}
	}
	ev.SetString("event.kind", kind)
	if category != "" {
		ev.Set("event.category", []string{category})
		ev.Set("event.type", []string{typ})
	}
}

// blocked reports an action or event name that says the thing was
// stopped.
func blocked(s string) bool {
	return containsAny(s, "block", "terminat", "deny", "denied", "quarantin")
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
