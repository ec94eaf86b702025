package linux

import (
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// mapShadow maps the account changes the shadow utilities log (useradd,
// usermod, userdel, groupadd, groupdel, gpasswd, passwd, chage). The
// account an event is about is user.name (the utilities do not say who ran
// them); a new name or ID goes to user.changes.*.
func mapShadow(ev *event.Event, s string) {
	switch {
	case strings.HasPrefix(s, "new user: "):
		kv := commaPairs(s[len("new user: "):])
		ev.SetString("user.name", kv["name"])
		setID(ev, "user.id", kv["UID"])
		setID(ev, "group.id", kv["GID"])
		ev.SetString(ns+"user.home", kv["home"])
		ev.SetString(ns+"user.shell", kv["shell"])
		ev.SetString(ns+"tty", kv["from"])
		iam(ev, "user_created", "user", "creation")
	case strings.HasPrefix(s, "new group: "), strings.HasPrefix(s, "group added to "):
		_, rest, _ := strings.Cut(s, ": ")
		kv := commaPairs(rest)
		ev.SetString("group.name", kv["name"])
		setID(ev, "group.id", kv["GID"])
		iam(ev, "group_created", "group", "creation")
	case strings.HasPrefix(s, "delete user "):
		ev.SetString("user.name", quoted(s[len("delete user "):]))
		iam(ev, "user_deleted", "user", "deletion")
	case strings.HasPrefix(s, "removed group "), strings.HasPrefix(s, "removed shadow group "):
		// "removed group 'bob' owned by 'bob'"
		rest := s[strings.Index(s, "group ")+len("group "):]
		g, owner, _ := strings.Cut(rest, " owned by ")
		ev.SetString("group.name", quoted(g))
		ev.SetString("user.name", quoted(owner))
		iam(ev, "group_deleted", "group", "deletion")
	case strings.HasPrefix(s, "group '") && strings.Contains(s, "' removed"):
		// groupdel: "group 'devs' removed[ from /etc/group]"
		g, _, _ := strings.Cut(s[len("group '"):], "'")
		ev.SetString("group.name", g)
		iam(ev, "group_deleted", "group", "deletion")
	case strings.HasPrefix(s, "add '"), strings.HasPrefix(s, "delete '"):
		// "add 'bob' to group 'sudo'", "delete 'bob' from shadow group 'sudo'"
		verb, rest, _ := strings.Cut(s, " ")
		u, g, ok := strings.Cut(rest, " group ")
		if !ok {
			return
		}
		u = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(u, " shadow"), " to"), " from")
		ev.SetString("user.name", quoted(u))
		ev.SetString("group.name", quoted(g))
		if verb == "add" {
			iam(ev, "user_added_to_group", "group", "change")
		} else {
			iam(ev, "user_removed_from_group", "group", "change")
		}
	case strings.HasPrefix(s, "user ") && (strings.Contains(s, " added by ") || strings.Contains(s, " removed by ")):
		// gpasswd: "user bob added by root to group devs"
		u, rest, _ := strings.Cut(s[len("user "):], " ")
		_, g, ok := strings.Cut(rest, " group ")
		if !ok {
			return
		}
		ev.SetString("user.name", u)
		ev.SetString("group.name", g)
		if strings.HasPrefix(rest, "added") {
			iam(ev, "user_added_to_group", "group", "change")
		} else {
			iam(ev, "user_removed_from_group", "group", "change")
		}
	case strings.HasPrefix(s, "change user name "):
		// "change user name 'bob' to 'robert'"
		from, to, ok := strings.Cut(s[len("change user name "):], " to ")
		if !ok {
			return
		}
		ev.SetString("user.name", quoted(from))
		ev.SetString("user.changes.name", quoted(to))
		iam(ev, "user_changed", "user", "change")
	case strings.HasPrefix(s, "change user '"):
		mapUsermod(ev, s[len("change user "):])
	case strings.HasPrefix(s, "lock user '"), strings.HasPrefix(s, "unlock user '"):
		verb, rest, _ := strings.Cut(s, " user ")
		ev.SetString("user.name", quoted(strings.TrimSuffix(rest, " password")))
		iam(ev, "password_"+verb+"ed", "user", "change")
	case strings.HasPrefix(s, "password for '"):
		// passwd: "password for 'bob' changed by 'root'"
		u, by, _ := strings.Cut(s[len("password for "):], " changed by ")
		ev.SetString("user.name", quoted(u))
		ev.SetString(ns+"changed_by", quoted(by))
		iam(ev, "password_changed", "user", "change")
	case strings.HasPrefix(s, "changed password expiry for "):
		ev.SetString("user.name", strings.TrimSpace(s[len("changed password expiry for "):]))
		iam(ev, "password_expiry_changed", "user", "change")
	}
}

// mapUsermod reads "'bob' password" or "'bob' <attribute> from 'a' to 'b'".
func mapUsermod(ev *event.Event, s string) {
	u, rest, ok := strings.Cut(s, "' ")
	if !ok {
		return
	}
	ev.SetString("user.name", strings.TrimPrefix(u, "'"))
	if rest == "password" {
		iam(ev, "password_changed", "user", "change")
		return
	}
	attr, change, ok := strings.Cut(rest, " from ")
	if !ok {
		return
	}
	from, to, _ := strings.Cut(change, " to ")
	from, to = quoted(from), quoted(to)
	ev.SetString(ns+"change.attribute", attr)
	ev.SetString(ns+"change.from", from)
	ev.SetString(ns+"change.to", to)
	switch attr {
	case "UID":
		setID(ev, "user.changes.id", to)
	case "GID":
		setID(ev, "user.changes.group.id", to)
	}
	iam(ev, "user_changed", "user", "change")
}

func iam(ev *event.Event, action, kind, typ string) {
	categorize(ev, action, []string{"iam"}, []string{kind, typ}, "success")
}

// commaPairs reads "name=bob, UID=1001, home=/home/bob".
func commaPairs(s string) map[string]string {
	kv := make(map[string]string, 6)
	for _, part := range strings.Split(s, ", ") {
		if k, v, ok := strings.Cut(part, "="); ok {
			kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return kv
}

// quoted removes the single quotes the shadow utilities put around names.
func quoted(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return s[1 : len(s)-1]
	}
	return s
}
