package linux

import (
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// mapSSHD maps OpenSSH's authentication and connection messages:
//
//	Accepted publickey for alice from 192.0.2.1 port 51234 ssh2: ED25519 SHA256:...
//	Failed password for invalid user bob from 192.0.2.1 port 51234 ssh2
//	Invalid user bob from 192.0.2.1 port 51234
//	Connection closed by authenticating user alice 192.0.2.1 port 51234 [preauth]
//	Disconnected from user alice 192.0.2.1 port 51234
//	Received disconnect from 192.0.2.1 port 51234:11: disconnected by user
//	error: maximum authentication attempts exceeded for root from 192.0.2.1 port 51234 ssh2 [preauth]
//
// User names are written by sshd as received and may hold spaces, so
// lines are read from the right, where the address and port are.
func mapSSHD(ev *event.Event, s string) {
	switch {
	case strings.HasPrefix(s, "Accepted "):
		if mapAuthResult(ev, s[len("Accepted "):]) {
			categorize(ev, "ssh_login", []string{"authentication", "session"}, []string{"start"}, "success")
		}
	case strings.HasPrefix(s, "Failed "):
		if mapAuthResult(ev, s[len("Failed "):]) {
			categorize(ev, "ssh_login", []string{"authentication"}, []string{"info"}, "failure")
		}
	case strings.HasPrefix(s, "Invalid user "):
		rest := trimPreauth(ev, s[len("Invalid user "):])
		user, addr, port, ok := cutFrom(rest)
		if !ok {
			return
		}
		ev.SetString("user.name", user)
		ev.Set(ns+"ssh.invalid_user", true)
		setSource(ev, addr, port)
		categorize(ev, "ssh_invalid_user", []string{"authentication"}, []string{"info"}, "failure")
	case strings.HasPrefix(s, "Connection closed by "):
		mapClosed(ev, "ssh_connection_closed", s[len("Connection closed by "):])
	case strings.HasPrefix(s, "Disconnected from "):
		mapClosed(ev, "ssh_disconnected", s[len("Disconnected from "):])
	case strings.HasPrefix(s, "Received disconnect from "):
		rest := trimPreauth(ev, s[len("Received disconnect from "):])
		// "192.0.2.1 port 51234:11: disconnected by user"
		addr, after, ok := strings.Cut(rest, " port ")
		if !ok {
			return
		}
		port, reason, _ := strings.Cut(after, ":")
		if _, r, ok := strings.Cut(reason, ": "); ok {
			ev.SetString("event.reason", strings.TrimSpace(r))
		}
		setSource(ev, addr, port)
		categorize(ev, "ssh_disconnect_received", []string{"network"}, []string{"connection", "end"}, "")
	case strings.HasPrefix(s, "error: maximum authentication attempts exceeded for "):
		rest := trimPreauth(ev, s[len("error: maximum authentication attempts exceeded for "):])
		rest = strings.TrimSuffix(rest, " ssh2")
		user, addr, port, ok := cutFrom(rest)
		if !ok {
			return
		}
		setUser(ev, user)
		setSource(ev, addr, port)
		categorize(ev, "ssh_max_auth_attempts", []string{"authentication"}, []string{"info"}, "failure")
	}
}

// mapAuthResult reads what follows Accepted or Failed:
// "<method> for [invalid user ]<user> from <addr> port <port> ssh2[: <key>]".
func mapAuthResult(ev *event.Event, s string) bool {
	method, rest, ok := strings.Cut(s, " for ")
	if !ok || method == "" || strings.IndexByte(method, ' ') >= 0 {
		return false
	}
	rest = trimPreauth(ev, rest)
	var info string
	if i := strings.LastIndex(rest, " ssh2"); i >= 0 {
		info = strings.TrimPrefix(rest[i+len(" ssh2"):], ": ")
		rest = rest[:i]
	}
	user, addr, port, ok := cutFrom(rest)
	if !ok {
		return false
	}
	setUser(ev, user)
	setSource(ev, addr, port)
	ev.SetString(ns+"ssh.method", method)
	if typ, fp, ok := strings.Cut(info, " "); ok {
		// "RSA SHA256:..." or "RSA-CERT SHA256:... ID ... (serial 1) CA ..."
		ev.SetString(ns+"ssh.key.type", typ)
		fp, _, _ = strings.Cut(fp, " ")
		ev.SetString(ns+"ssh.key.fingerprint", fp)
	}
	return true
}

// mapClosed reads "[authenticating user |invalid user |user ]<user> <addr>
// port <port>[ [preauth]]" or "<addr> port <port>" after "Connection closed
// by" and "Disconnected from". A session of an authenticated user ends;
// otherwise a connection does.
func mapClosed(ev *event.Event, action, s string) {
	preauth := strings.HasSuffix(s, " [preauth]")
	s = trimPreauth(ev, s)
	p := strings.LastIndex(s, " port ")
	if p < 0 {
		// Older OpenSSH: "Connection closed by 192.0.2.1"
		setSource(ev, s, "")
		categorize(ev, action, []string{"network"}, []string{"connection", "end"}, "")
		return
	}
	port := s[p+len(" port "):]
	who := s[:p]
	addr := who
	user := ""
	if sp := strings.LastIndexByte(who, ' '); sp >= 0 {
		addr, user = who[sp+1:], who[:sp]
	}
	authenticated := false
	switch {
	case strings.HasPrefix(user, "authenticating user "):
		user = user[len("authenticating user "):]
	case strings.HasPrefix(user, "invalid user "):
		user = user[len("invalid user "):]
		ev.Set(ns+"ssh.invalid_user", true)
	case strings.HasPrefix(user, "user "):
		user = user[len("user "):]
		authenticated = !preauth
	}
	ev.SetString("user.name", user)
	setSource(ev, addr, port)
	if authenticated {
		categorize(ev, action, []string{"session"}, []string{"end"}, "")
		return
	}
	categorize(ev, action, []string{"network"}, []string{"connection", "end"}, "")
}

// cutFrom splits "<user> from <addr> port <port>" (also without the port,
// as older OpenSSH wrote it).
func cutFrom(s string) (user, addr, port string, ok bool) {
	i := strings.LastIndex(s, " from ")
	if i < 0 {
		return "", "", "", false
	}
	user, rest := s[:i], s[i+len(" from "):]
	addr, port, _ = strings.Cut(rest, " port ")
	return user, addr, strings.TrimSpace(port), addr != ""
}

// setUser sets the account an sshd message names, noting "invalid user"
// (an account that does not exist on the server).
func setUser(ev *event.Event, user string) {
	if u, ok := strings.CutPrefix(user, "invalid user "); ok {
		user = u
		ev.Set(ns+"ssh.invalid_user", true)
	}
	ev.SetString("user.name", user)
}

// trimPreauth removes sshd's " [preauth]" suffix (the message was logged
// before the user authenticated) and notes it.
func trimPreauth(ev *event.Event, s string) string {
	if t, ok := strings.CutSuffix(s, " [preauth]"); ok {
		ev.Set(ns+"ssh.preauth", true)
		return t
	}
	return s
}
