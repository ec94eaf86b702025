package accesslog

import (
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// A deliberately small User-Agent reader: the browser or tool and the
// operating system families that make up most traffic, found by their
// product tokens. It does not guess devices or rare browsers; anything it
// does not know keeps user_agent.original only.

// agents lists product tokens and the name they stand for, in the order
// they are tried: crawlers and tools first (many claim "Chrome/" too), then
// browsers whose tokens appear beside Chrome's or Safari's.
var agents = [...]struct{ token, name string }{
	{"Googlebot/", "Googlebot"},
	{"bingbot/", "bingbot"},
	{"curl/", "curl"},
	{"Wget/", "Wget"},
	{"python-requests/", "Python Requests"},
	{"Go-http-client/", "Go-http-client"},
	{"okhttp/", "okhttp"},
	{"Apache-HttpClient/", "Apache-HttpClient"},
	{"PostmanRuntime/", "PostmanRuntime"},
	{"zgrab/", "zgrab"},
	{"Edg/", "Edge"},
	{"EdgA/", "Edge"},
	{"EdgiOS/", "Edge"},
	{"OPR/", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"Firefox/", "Firefox"},
	{"FxiOS/", "Firefox"},
	{"CriOS/", "Chrome"},
	{"Chromium/", "Chromium"},
	{"Chrome/", "Chrome"},
	{"MSIE ", "IE"},
}

func setUserAgent(ev *event.Event, ua string) {
	name, version := browser(ua)
	ev.SetString("user_agent.name", name)
	ev.SetString("user_agent.version", version)
	osName, osVersion := operatingSystem(ua)
	ev.SetString("user_agent.os.name", osName)
	ev.SetString("user_agent.os.version", osVersion)
}

func browser(ua string) (name, version string) {
	for _, a := range agents {
		if i := strings.Index(ua, a.token); i >= 0 {
			return a.name, versionAt(ua[i+len(a.token):])
		}
	}
	switch {
	case strings.Contains(ua, "Trident/7.0"):
		return "IE", "11.0"
	case strings.Contains(ua, "Safari/"):
		if i := strings.Index(ua, "Version/"); i >= 0 {
			return "Safari", versionAt(ua[i+len("Version/"):])
		}
	}
	return "", ""
}

// versionAt reads a version ("54.0.2840.59", "15.0a2") up to the next
// space, ';' or ')'.
func versionAt(s string) string {
	end := strings.IndexAny(s, " ;)")
	if end < 0 {
		end = len(s)
	}
	return s[:end]
}

// windowsVersions names the Windows releases by their NT version.
var windowsVersions = [...]struct{ nt, name string }{
	{"10.0", "10"}, {"6.3", "8.1"}, {"6.2", "8"}, {"6.1", "7"}, {"6.0", "Vista"}, {"5.2", "XP"}, {"5.1", "XP"},
}

func operatingSystem(ua string) (name, version string) {
	if i := strings.Index(ua, "Windows NT "); i >= 0 {
		nt := versionAt(ua[i+len("Windows NT "):])
		for _, w := range windowsVersions {
			if nt == w.nt {
				return "Windows", w.name
			}
		}
		return "Windows", ""
	}
	for _, ios := range [...]string{"iPhone OS ", "CPU OS "} {
		if i := strings.Index(ua, ios); i >= 0 {
			v, _, _ := strings.Cut(ua[i+len(ios):], " ")
			return "iOS", strings.ReplaceAll(v, "_", ".")
		}
	}
	if i := strings.Index(ua, "Android"); i >= 0 {
		return "Android", versionAt(strings.TrimPrefix(ua[i+len("Android"):], " "))
	}
	if i := strings.Index(ua, "Mac OS X"); i >= 0 {
		v := versionAt(strings.TrimPrefix(ua[i+len("Mac OS X"):], " "))
		return "Mac OS X", strings.ReplaceAll(v, "_", ".")
	}
	switch {
	case strings.Contains(ua, "CrOS "):
		return "Chrome OS", ""
	case strings.Contains(ua, "Linux"):
		return "Linux", ""
	}
	return "", ""
}
