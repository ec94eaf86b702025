package linux

import (
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// mapPAM maps a PAM module's message, whichever program logged it:
//
//	pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)
//	pam_unix(su:session): session closed for user root
//	pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=alice
//	pam_unix(sshd:auth): check pass; user unknown
//	pam_unix(passwd:chauthtok): password changed for bob
//
// It reports whether the message came from a PAM module.
func mapPAM(ev *event.Event, s string) bool {
	if !strings.HasPrefix(s, "pam_") {
		return false
	}
	open := strings.IndexByte(s, '(')
	end := strings.Index(s, "): ")
	if open < 0 || end < open {
		return false
	}
	module := s[:open]
	service, typ, _ := strings.Cut(s[open+1:end], ":")
	text := s[end+3:]
	ev.SetString(ns+"pam.module", module)
	ev.SetString(ns+"pam.service", service)
	ev.SetString(ns+"pam.type", typ)
	switch {
	case strings.HasPrefix(text, "session opened for user "):
		target, by, _ := strings.Cut(text[len("session opened for user "):], " by ")
		setSessionUsers(ev, service, target, by)
		categorize(ev, "session_opened", []string{"session"}, []string{"start"}, "success")
	case strings.HasPrefix(text, "session closed for user "):
		setSessionUsers(ev, service, text[len("session closed for user "):], "")
		categorize(ev, "session_closed", []string{"session"}, []string{"end"}, "success")
	case strings.HasPrefix(text, "authentication failure;"):
		mapAuthFailure(ev, text[len("authentication failure;"):])
		categorize(ev, "authentication_failure", []string{"authentication"}, []string{"info"}, "failure")
	case strings.HasPrefix(text, "check pass; user unknown"):
		ev.Set("event.reason", "user unknown")
		categorize(ev, "authentication_failure", []string{"authentication"}, []string{"info"}, "failure")
	case strings.HasPrefix(text, "password changed for "):
		ev.SetString("user.name", strings.TrimSpace(text[len("password changed for "):]))
		categorize(ev, "password_changed", []string{"iam"}, []string{"user", "change"}, "success")
	}
	return true
}

// switchesUser reports the PAM services through which one user acts as
// another: for them "session opened for user root by alice" means alice
// (user.name) became root (user.effective.name).
func switchesUser(service string) bool {
	switch service {
	case "su", "su-l", "sudo", "sudo-i", "runuser", "runuser-l":
		return true
	}
	return false
}

// setSessionUsers reads "alice(uid=1000)" (target) and "bob(uid=1001)" or
// "(uid=0)" (by).
func setSessionUsers(ev *event.Event, service, target, by string) {
	tName, tID := nameAndUID(strings.TrimSpace(target))
	bName, bID := nameAndUID(strings.TrimSpace(by))
	if switchesUser(service) {
		ev.SetString("user.effective.name", tName)
		setID(ev, "user.effective.id", tID)
		ev.SetString("user.name", bName)
		setID(ev, "user.id", bID)
		return
	}
	ev.SetString("user.name", tName)
	setID(ev, "user.id", tID)
}

// nameAndUID splits "alice(uid=1000)".
func nameAndUID(s string) (name, uid string) {
	i := strings.Index(s, "(uid=")
	if i < 0 || !strings.HasSuffix(s, ")") {
		return s, ""
	}
	return s[:i], s[i+len("(uid=") : len(s)-1]
}

// mapAuthFailure reads pam_unix's "logname= uid= euid= tty= ruser= rhost=
// user=" list, in which a value may be empty.
func mapAuthFailure(ev *event.Event, s string) {
	var logname, uid, tty, ruser, rhost, user string
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch k {
		case "logname":
			logname = v
		case "uid":
			uid = v
		case "tty":
			tty = v
		case "ruser":
			ruser = v
		case "rhost":
			rhost = v
		case "user":
			user = v
		}
	}
	requester := ruser
	if requester == "" {
		requester = logname
	}
	if requester != "" && user != "" && requester != user {
		// su and the like: the requester tried to become user.
		ev.SetString("user.name", requester)
		setID(ev, "user.id", uid)
		ev.SetString("user.effective.name", user)
	} else if user != "" {
		ev.SetString("user.name", user)
	} else {
		ev.SetString("user.name", requester)
	}
	ev.SetString(ns+"tty", tty)
	setAddress(ev, "source", rhost)
}
