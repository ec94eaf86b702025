package linux

import (
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// mapSudo maps sudo's command log:
//
//	alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id
//	alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id
//	alice : user NOT in sudoers ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id
//
// COMMAND comes last and runs to the end of the line.
func mapSudo(ev *event.Event, s string) {
	user, rest, ok := strings.Cut(strings.TrimSpace(s), " : ")
	if !ok || user == "" || strings.IndexByte(user, ' ') >= 0 {
		return
	}
	var reason string
	seen := false
	for rest != "" {
		if cmd, ok := strings.CutPrefix(rest, "COMMAND="); ok {
			ev.SetString("process.command_line", cmd)
			if exe, _, _ := strings.Cut(cmd, " "); strings.HasPrefix(exe, "/") {
				ev.SetString("process.executable", exe)
			}
			seen = true
			break
		}
		var part string
		part, rest, _ = strings.Cut(rest, " ; ")
		k, v, isKV := strings.Cut(part, "=")
		if !isKV || !isUpperWord(k) {
			if reason == "" {
				reason = strings.TrimSpace(part)
			}
			continue
		}
		seen = true
		switch k {
		case "TTY":
			ev.SetString(ns+"tty", v)
		case "PWD":
			ev.SetString("process.working_directory", v)
		case "USER":
			ev.SetString("user.effective.name", v)
		case "GROUP":
			ev.SetString("user.effective.group.name", v)
		case "ENV":
			ev.SetString(ns+"sudo.env", v)
		}
	}
	if !seen {
		return
	}
	ev.SetString("user.name", user)
	if reason == "" {
		categorize(ev, "sudo_command", []string{"process"}, []string{"start"}, "success")
		return
	}
	ev.SetString("event.reason", reason)
	if strings.Contains(reason, "password") {
		categorize(ev, "sudo_command", []string{"authentication"}, []string{"info"}, "failure")
		return
	}
	categorize(ev, "sudo_command", []string{"process"}, []string{"info"}, "failure")
}

func isUpperWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= 'A' && s[i] <= 'Z' || s[i] == '_') {
			return false
		}
	}
	return true
}

// mapSu maps su's record of a switch of user, from util-linux
// ("(to root) alice on pts/0", "FAILED SU (to root) alice on pts/0") and
// from shadow-utils ("Successful su for root by alice", "FAILED su for root
// by alice", "+ pts/0 alice:root", "- pts/0 alice:root").
func mapSu(ev *event.Event, s string) {
	success := true
	var requester, target, tty string
	switch {
	case strings.HasPrefix(s, "(to "), strings.HasPrefix(s, "FAILED SU (to "):
		rest, failed := strings.CutPrefix(s, "FAILED SU ")
		success = !failed
		t, after, ok := strings.Cut(rest[len("(to "):], ") ")
		if !ok {
			return
		}
		target = t
		requester, tty, _ = strings.Cut(after, " on ")
	case strings.HasPrefix(s, "Successful su for "), strings.HasPrefix(s, "FAILED su for "):
		success = s[0] == 'S'
		_, rest, _ := strings.Cut(s, " su for ")
		var ok bool
		if target, requester, ok = strings.Cut(rest, " by "); !ok {
			return
		}
	case strings.HasPrefix(s, "+ "), strings.HasPrefix(s, "- "):
		success = s[0] == '+'
		var pair string
		var ok bool
		if tty, pair, ok = strings.Cut(s[2:], " "); !ok {
			return
		}
		if requester, target, ok = strings.Cut(pair, ":"); !ok {
			return
		}
	default:
		return
	}
	ev.SetString("user.name", strings.TrimSpace(requester))
	ev.SetString("user.effective.name", strings.TrimSpace(target))
	ev.SetString(ns+"tty", strings.TrimSpace(tty))
	if success {
		categorize(ev, "su", []string{"authentication", "session"}, []string{"start"}, "success")
		return
	}
	categorize(ev, "su", []string{"authentication"}, []string{"info"}, "failure")
}
