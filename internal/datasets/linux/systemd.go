package linux

import (
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// mapLogind maps systemd-logind's session messages:
// "New session 12 of user alice." and "Removed session 12.".
func mapLogind(ev *event.Event, s string) {
	s = strings.TrimSuffix(s, ".")
	switch {
	case strings.HasPrefix(s, "New session "):
		id, user, ok := strings.Cut(s[len("New session "):], " of user ")
		if !ok {
			return
		}
		ev.SetString(ns+"session.id", id)
		ev.SetString("user.name", user)
		categorize(ev, "session_created", []string{"session"}, []string{"start"}, "success")
	case strings.HasPrefix(s, "Removed session "):
		ev.SetString(ns+"session.id", s[len("Removed session "):])
		categorize(ev, "session_removed", []string{"session"}, []string{"end"}, "success")
	}
}

// mapSystemd maps the service manager's unit state changes: "Started
// nginx.service - A high performance web server.", "Stopped <description>.",
// "Failed to start <description>." and "<unit>: Failed with result
// 'exit-code'.". "Starting ..." and "Stopping ..." announce these and are
// left as they are.
func mapSystemd(ev *event.Event, s string) {
	s = strings.TrimSuffix(s, ".")
	switch {
	case strings.HasPrefix(s, "Started "):
		setUnit(ev, s[len("Started "):])
		categorize(ev, "unit_started", []string{"process"}, []string{"start"}, "success")
	case strings.HasPrefix(s, "Stopped "):
		setUnit(ev, s[len("Stopped "):])
		categorize(ev, "unit_stopped", []string{"process"}, []string{"end"}, "success")
	case strings.HasPrefix(s, "Failed to start "):
		setUnit(ev, s[len("Failed to start "):])
		categorize(ev, "unit_failed", []string{"process"}, []string{"start"}, "failure")
	default:
		unit, rest, ok := strings.Cut(s, ": Failed with result '")
		if !ok || !isUnitName(unit) {
			return
		}
		ev.SetString(ns+"systemd.unit", unit)
		ev.SetString("event.reason", strings.TrimSuffix(rest, "'"))
		categorize(ev, "unit_failed", []string{"process"}, []string{"end"}, "failure")
	}
}

// setUnit reads "nginx.service - description" (systemd 252 and later) or a
// bare description, and the user of a session scope ("Session 12 of User
// alice").
func setUnit(ev *event.Event, s string) {
	if unit, desc, ok := strings.Cut(s, " - "); ok && isUnitName(unit) {
		ev.SetString(ns+"systemd.unit", unit)
		s = desc
	}
	ev.SetString(ns+"systemd.description", s)
	if rest, ok := strings.CutPrefix(s, "Session "); ok {
		for _, of := range [...]string{" of User ", " of user "} {
			if id, user, ok := strings.Cut(rest, of); ok {
				ev.SetString(ns+"session.id", id)
				ev.SetString("user.name", user)
				return
			}
		}
	}
}

// isUnitName reports a systemd unit name: one word ending in a unit type.
func isUnitName(s string) bool {
	if s == "" || strings.IndexByte(s, ' ') >= 0 {
		return false
	}
	dot := strings.LastIndexByte(s, '.')
	if dot <= 0 {
		return false
	}
	switch s[dot+1:] {
	case "service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer", "slice", "scope":
		return true
	}
	return false
}

// mapCron maps the command a cron daemon ran: "(root) CMD (command)".
func mapCron(ev *event.Event, s string) {
	if !strings.HasPrefix(s, "(") {
		return
	}
	user, rest, ok := strings.Cut(s[1:], ") CMD (")
	if !ok || user == "" || !strings.HasSuffix(rest, ")") {
		return
	}
	ev.SetString("user.name", user)
	ev.SetString("process.command_line", strings.TrimSpace(rest[:len(rest)-1]))
	categorize(ev, "cron_command", []string{"process"}, []string{"start"}, "success")
}

// mapLogin maps login's records of console logins:
//
//	LOGIN ON tty1 BY alice [FROM host]
//	ROOT LOGIN ON tty1 [FROM host]
//	FAILED LOGIN 1 FROM tty1 FOR alice, Authentication failure
//	FAILED LOGIN (1) on '/dev/tty1' FOR 'alice', Authentication failure
func mapLogin(ev *event.Event, s string) {
	switch {
	case strings.HasPrefix(s, "LOGIN ON "):
		tty, rest, ok := strings.Cut(s[len("LOGIN ON "):], " BY ")
		if !ok {
			return
		}
		user, from, _ := strings.Cut(rest, " FROM ")
		ev.SetString("user.name", user)
		ev.SetString(ns+"tty", tty)
		setAddress(ev, "source", from)
		categorize(ev, "login", []string{"authentication", "session"}, []string{"start"}, "success")
	case strings.HasPrefix(s, "ROOT LOGIN "):
		rest := strings.TrimSpace(s[len("ROOT LOGIN "):])
		rest = strings.TrimPrefix(strings.TrimPrefix(rest, "ON "), "on ")
		tty, from, _ := strings.Cut(rest, " FROM ")
		if !strings.Contains(rest, " FROM ") {
			tty, from, _ = strings.Cut(rest, " from ")
		}
		ev.Set("user.name", "root")
		ev.SetString(ns+"tty", quoted(tty))
		setAddress(ev, "source", quoted(from))
		categorize(ev, "login", []string{"authentication", "session"}, []string{"start"}, "success")
	case strings.HasPrefix(s, "FAILED LOGIN "):
		rest := s[len("FAILED LOGIN "):]
		where, who, ok := strings.Cut(rest, " FOR ")
		if !ok {
			return
		}
		user, reason, _ := strings.Cut(who, ", ")
		ev.SetString("user.name", quoted(user))
		ev.SetString("event.reason", reason)
		if _, tty, ok := strings.Cut(where, " FROM "); ok {
			ev.SetString(ns+"tty", tty)
		} else if _, tty, ok := strings.Cut(where, " on "); ok {
			ev.SetString(ns+"tty", quoted(tty))
		}
		categorize(ev, "login", []string{"authentication"}, []string{"info"}, "failure")
	}
}
