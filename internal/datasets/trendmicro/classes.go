package trendmicro

import (
	"bytes"
	"net/url"
	"strconv"
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// class is a Deep Security event class: which protection module (or the
// manager) wrote the record.
type class uint8

const (
	classOther class = iota
	classFirewall
	classIntrusionPrevention
	classIntegrity
	classLogInspection
	classAntiMalware
	classWebReputation
	classAppControl
	classDeviceControl
	classSystem
	numClasses
)

var classNames = [numClasses]string{
	"other", "firewall", "intrusion_prevention", "integrity_monitoring", "log_inspection",
	"anti_malware", "web_reputation", "application_control", "device_control", "system",
}

func (c class) String() string { return classNames[c] }

// classify reads the class from the product and the Signature ID ranges
// Trend Micro documents: firewall 20-25, intrusion prevention 1000000+
// (rule IDs), integrity monitoring 2000000+, log inspection 3000000+,
// anti-malware 4000000+, web reputation 5000000+, application control
// 6000000+, device control 7000000+, and system events (the manager's, or
// 100-7499). 10, 30 and 40 are the IDs of the intrusion prevention,
// integrity monitoring and log inspection examples in Trend Micro's
// documentation and are read as those classes.
func classify(r *record) class {
	if strings.HasSuffix(r.product, "Manager") {
		return classSystem
	}
	if !r.sigOK {
		return classOther
	}
	switch id := r.sigID; {
	case id >= 20 && id <= 25:
		return classFirewall
	case id == 10 || id >= 1000000 && id <= 1999999:
		return classIntrusionPrevention
	case id == 30 || id >= 2000000 && id <= 2999999:
		return classIntegrity
	case id == 40 || id >= 3000000 && id <= 3999999:
		return classLogInspection
	case id >= 4000000 && id <= 4999999:
		return classAntiMalware
	case id >= 5000000 && id <= 5999999:
		return classWebReputation
	case id >= 6000000 && id <= 6999999:
		return classAppControl
	case id >= 7000000 && id <= 7999999:
		return classDeviceControl
	case id >= 100 && id <= 7499:
		return classSystem
	}
	return classOther
}

// mapClass sets the ECS categorisation of the record's class. (A switch
// rather than a table of functions: a call through a function value would
// put every record on the heap.)
func mapClass(ev *event.Event, c class, r *record) {
	switch c {
	case classFirewall:
		mapFirewall(ev, r)
	case classIntrusionPrevention:
		mapIntrusionPrevention(ev, r)
	case classIntegrity:
		mapIntegrity(ev, r)
	case classLogInspection:
		mapLogInspection(ev, r)
	case classAntiMalware:
		mapAntiMalware(ev, r)
	case classWebReputation:
		mapWebReputation(ev, r)
	case classAppControl:
		mapAppControl(ev, r)
	case classDeviceControl:
		mapDeviceControl(ev, r)
	case classSystem:
		mapSystem(ev, r)
	}
}

func mapFirewall(ev *event.Event, r *record) {
	ev.SetStrings("event.category", "network")
	setTypeWithVerdict(ev, "connection", r.act)
	ev.SetString("rule.name", r.name)
}

func mapIntrusionPrevention(ev *event.Event, r *record) {
	ev.Set(event.FieldKind, "alert")
	ev.SetStrings("event.category", "intrusion_detection", "network")
	setTypeWithVerdict(ev, "info", r.act)
	setRule(ev, r)
	// The rule note (cs1, "Intrusion Prevention Note") lists the CVEs the
	// rule covers.
	if cves := cveIDs(r.cs1); len(cves) > 0 {
		ev.SetStrings("vulnerability.id", cves...)
	}
}

func mapIntegrity(ev *event.Event, r *record) {
	setRule(ev, r)
	typ := changeType(r.act)
	switch {
	case isRegistryPath(r.filePath):
		ev.SetStrings("event.category", "registry")
		ev.SetString("registry.path", r.filePath)
		ev.Delete("file.path")
	case r.filePath != "" || r.fileName != "":
		ev.SetStrings("event.category", "file")
	default:
		ev.SetStrings("event.category", "configuration")
		if typ == "creation" || typ == "deletion" {
			typ = "change"
		}
	}
	ev.SetStrings("event.type", typ)
	setUser(ev, r.suser, r.suid)
	setProcess(ev, r.sproc)
	// msg lists the attributes that changed ("lastModified,sha1,size").
	if r.msg != "" && !strings.Contains(r.msg, " ") {
		ev.SetStrings(ns+"changed_attributes", splitList(r.msg, ',')...)
	}
}

func mapLogInspection(ev *event.Event, r *record) {
	ev.Set(event.FieldKind, "alert")
	ev.SetStrings("event.category", "intrusion_detection")
	ev.SetStrings("event.type", "info")
	setRule(ev, r)
	for _, l := range r.labels() {
		if !l.number && l.n == 1 && strings.Contains(strings.ToLower(l.label), "description") {
			ev.SetString("rule.description", l.value)
		}
	}
	if r.duser != "" && r.duser != "(no user)" {
		ev.SetString("user.name", r.duser)
	}
}

func mapAntiMalware(ev *event.Event, r *record) {
	ev.Set(event.FieldKind, "alert")
	ev.SetStrings("event.category", "malware")
	ev.SetStrings("event.type", "info")
	// The record's Name is the malware's name.
	ev.SetString("threat.software.name", r.name)
	ev.SetString("rule.name", r.name)
}

func mapWebReputation(ev *event.Event, r *record) {
	ev.Set(event.FieldKind, "alert")
	ev.SetStrings("event.category", "web")
	// Deep Security logs the URLs it blocks.
	ev.SetStrings("event.type", "access", "denied")
	// msg is the URL's risk (Suspicious, Highly Suspicious, Dangerous,
	// Untested) or why it was blocked ("Blocked By Admin").
	ev.SetString("event.reason", r.msg)
	if r.msg != "" && !strings.HasPrefix(strings.ToLower(r.msg), "blocked by") {
		ev.SetString(ns+"risk", r.msg)
	}
	setURLParts(ev, r.request)
}

func mapAppControl(ev *event.Event, r *record) {
	ev.SetStrings("event.category", "process")
	setTypeWithVerdict(ev, "start", r.act)
	setUser(ev, r.suser, r.suid)
	ev.SetString("process.executable", r.filePath)
	ev.SetString("process.name", baseName(r.filePath))
	for _, l := range r.labels() {
		if l.number {
			continue
		}
		switch strings.ToLower(l.label) {
		case "actionreason":
			ev.SetString("event.reason", l.value)
		case "md5", "sha1", "sha256":
			ev.SetString("file.hash."+strings.ToLower(l.label), strings.ToLower(l.value))
		}
	}
}

func mapDeviceControl(ev *event.Event, r *record) {
	ev.SetStrings("event.category", "host")
	setTypeWithVerdict(ev, "access", r.act)
}

// mapSystem categorises the manager's sign-in events by their name; other
// system events keep the event class only.
func mapSystem(ev *event.Event, r *record) {
	ev.SetIfAbsent("event.action", snake(r.name))
	setUser(ev, r.suser, "")
	name := strings.ToLower(r.name)
	switch {
	case strings.Contains(name, "sign") && strings.Contains(name, "fail"),
		strings.Contains(name, "authentication fail"):
		ev.SetStrings("event.category", "authentication")
		ev.SetStrings("event.type", "start")
		ev.Set("event.outcome", "failure")
	case strings.Contains(name, "signed in"):
		ev.SetStrings("event.category", "authentication", "session")
		ev.SetStrings("event.type", "start")
		ev.Set("event.outcome", "success")
	case strings.Contains(name, "signed out"), strings.Contains(name, "timed out"):
		ev.SetStrings("event.category", "session")
		ev.SetStrings("event.type", "end")
		ev.Set("event.outcome", "success")
	case strings.Contains(name, "locked out"):
		ev.SetStrings("event.category", "authentication")
		ev.SetStrings("event.type", "info")
		ev.Set("event.outcome", "failure")
	}
}

func setRule(ev *event.Event, r *record) {
	if r.sigOK {
		ev.SetString("rule.id", strconv.FormatInt(r.sigID, 10))
	}
	ev.SetString("rule.name", r.name)
}

func setUser(ev *event.Event, name, id string) {
	ev.SetString("user.name", name)
	ev.SetString("user.id", id)
}

func setProcess(ev *event.Event, exe string) {
	if exe == "" {
		return
	}
	ev.SetString("process.executable", exe)
	ev.SetString("process.name", baseName(exe))
}

// setTypeWithVerdict sets event.type to typ, and "denied" or "allowed"
// after it when the action says so.
func setTypeWithVerdict(ev *event.Event, typ, act string) {
	if v := verdict(act); v != "" {
		ev.SetStrings("event.type", typ, v)
		return
	}
	ev.SetStrings("event.type", typ)
}

// verdict is "denied" or "allowed" when the action says so, else "". An
// "IDS:" action is what a rule in detect-only mode would have done:
// nothing was blocked.
func verdict(act string) string {
	var buf [32]byte
	a := lowerASCII(buf[:0], act)
	if a == nil {
		a = []byte(strings.ToLower(act))
	}
	if bytes.HasPrefix(a, []byte("ids:")) || len(a) == 0 {
		return ""
	}
	switch {
	case bytes.Contains(a, []byte("deny")), bytes.Contains(a, []byte("reset")), bytes.Contains(a, []byte("drop")),
		bytes.Contains(a, []byte("block")):
		return "denied"
	case bytes.Contains(a, []byte("allow")), bytes.Contains(a, []byte("bypass")):
		return "allowed"
	}
	return ""
}

// lowerASCII appends s in lower case to dst (an action is short: on the
// stack), or returns nil when s is not ASCII, which strings.ToLower is for.
func lowerASCII(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return nil
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// changeType maps an integrity monitoring action to the ECS event type.
func changeType(act string) string {
	switch strings.ToLower(act) {
	case "created", "create", "added":
		return "creation"
	case "deleted", "delete", "removed":
		return "deletion"
	case "updated", "update", "changed", "modified", "renamed":
		return "change"
	}
	return "info"
}

func isRegistryPath(p string) bool {
	u := strings.ToUpper(p)
	for _, root := range [...]string{"HKEY_", `HKLM\`, `HKCU\`, `HKU\`, `HKCR\`, `HKCC\`} {
		if strings.HasPrefix(u, root) {
			return true
		}
	}
	return false
}

// baseName is the last element of a Windows or POSIX path.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// cveIDs picks the CVE identifiers out of a free-text note.
func cveIDs(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "CVE-")
		if i < 0 {
			return out
		}
		j := i + 4
		for j < len(s) && (isDigit(s[j]) || s[j] == '-') {
			j++
		}
		if j-i > len("CVE-2000-") {
			out = append(out, strings.TrimRight(s[i:j], "-"))
		}
		s = s[j:]
	}
}

// setURLParts splits a web reputation URL; Deep Security writes either a
// full URL or a bare host name.
func setURLParts(ev *event.Event, raw string) {
	if raw == "" {
		return
	}
	if !strings.Contains(raw, "://") {
		host := raw
		if i := strings.IndexAny(host, "/?#"); i >= 0 {
			host = host[:i]
		}
		ev.SetString("url.domain", host)
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		return
	}
	ev.SetString("url.scheme", u.Scheme)
	ev.SetString("url.domain", u.Hostname())
	if p, err := strconv.ParseInt(u.Port(), 10, 64); err == nil {
		ev.SetInt("url.port", p)
	}
	ev.SetString("url.path", u.EscapedPath())
	ev.SetString("url.query", u.RawQuery)
}
