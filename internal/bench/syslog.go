package bench

import (
	"strconv"
	"time"
)

// Linux servers' syslog as rsyslog forwards it: RFC 3164 from most hosts,
// RFC 5424 from the rest (per host), with the messages sshd, sudo, cron,
// systemd and the kernel firewall write.

// Facilities times 8 plus severity: the PRI of each program's messages.
const (
	priAuthInfo      = 4*8 + 6  // sshd
	priAuthprivNote  = 10*8 + 5 // sudo
	priCronInfo      = 9*8 + 6
	priKernWarning   = 0*8 + 4
	priDaemonInfo    = 3*8 + 6 // systemd
	rfc5424Timestamp = "2006-01-02T15:04:05.000000Z07:00"
)

var sudoCommands = []string{
	"/usr/bin/systemctl restart nginx", "/usr/bin/apt-get update", "/usr/bin/journalctl -u app --since today",
	"/bin/cat /var/log/auth.log", "/usr/bin/docker ps", "/usr/sbin/iptables -L -n", "/usr/bin/vim /etc/hosts",
	"/usr/bin/tail -f /var/log/syslog", "/usr/local/bin/deploy.sh release", "/usr/bin/kubectl get pods -A",
}

var cronJobs = []string{
	"   cd / && run-parts --report /etc/cron.hourly",
	"command -v debian-sa1 > /dev/null && debian-sa1 1 1",
	"/usr/local/bin/backup.sh >/dev/null 2>&1",
	"[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi",
	"/opt/app/bin/rotate-logs --keep 14",
}

// syslog appends one Linux syslog line. Needles pick the message that
// carries them.
func (g *Generator) syslog(b []byte, t time.Time, pl plant) []byte {
	h := g.p.host()
	for h.windows {
		h = g.p.host()
	}
	switch {
	case pl.ip != "":
		b = syslogHeader(b, t, h, priAuthInfo, "sshd", 1000+g.r.IntN(60000))
		return g.sshdFailed(b, pl.ip)
	case pl.user != "":
		b = syslogHeader(b, t, h, priAuthInfo, "sshd", 1000+g.r.IntN(60000))
		return g.sshdAccepted(b, pl.user, "password")
	case pl.token != "":
		b = syslogHeader(b, t, h, priAuthprivNote, "sudo", 1000+g.r.IntN(60000))
		return g.sudo(b, "/tmp/"+pl.token+".sh")
	}
	pid := 1000 + g.r.IntN(60000)
	switch x := g.r.IntN(100); {
	case x < 25:
		b = syslogHeader(b, t, h, priAuthInfo, "sshd", pid)
		return g.sshdFailed(b, g.p.externalIP())
	case x < 33:
		b = syslogHeader(b, t, h, priAuthInfo, "sshd", pid)
		return g.sshdAccepted(b, "", "publickey")
	case x < 35:
		b = syslogHeader(b, t, h, priAuthInfo, "sshd", pid)
		return g.sshdAccepted(b, "", "password")
	case x < 45:
		b = syslogHeader(b, t, h, priAuthInfo, "sshd", pid)
		b = append(b, "Connection closed by invalid user "...)
		b = append(b, g.pick(g.p.attackers)...)
		b = append(b, ' ')
		b = append(b, g.p.externalIP()...)
		b = append(b, " port "...)
		b = strconv.AppendInt(b, int64(g.port()), 10)
		return append(b, " [preauth]"...)
	case x < 50:
		b = syslogHeader(b, t, h, priAuthInfo, "sshd", pid)
		user := g.pick(g.p.services)
		b = append(b, "pam_unix(sshd:session): session opened for user "...)
		b = append(b, user...)
		b = append(b, "(uid="...)
		b = strconv.AppendInt(b, int64(1000+len(user)), 10)
		return append(b, ") by (uid=0)"...)
	case x < 60:
		b = syslogHeader(b, t, h, priAuthprivNote, "sudo", pid)
		return g.sudo(b, g.pick(sudoCommands))
	case x < 80:
		b = syslogHeader(b, t, h, priCronInfo, "CRON", pid)
		b = append(b, "(root) CMD ("...)
		b = append(b, g.pick(cronJobs)...)
		return append(b, ')')
	case x < 95:
		b = syslogHeader(b, t, h, priKernWarning, "kernel", -1)
		return g.ufwBlock(b, t, h)
	default:
		b = syslogHeader(b, t, h, priDaemonInfo, "systemd", 1)
		session := strconv.Itoa(1000 + g.r.IntN(90000))
		b = append(b, "Started session-"...)
		b = append(b, session...)
		b = append(b, ".scope - Session "...)
		b = append(b, session...)
		b = append(b, " of User "...)
		return append(b, g.pick(g.p.services)...)
	}
}

// syslogHeader appends the header in the host's format; pid < 0 means the
// program logs without one (the kernel).
func syslogHeader(b []byte, t time.Time, h *host, pri int, app string, pid int) []byte {
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(pri), 10)
	b = append(b, '>')
	if h.rfc5424 {
		b = append(b, "1 "...)
		b = t.UTC().AppendFormat(b, rfc5424Timestamp)
		b = append(b, ' ')
		b = append(b, h.name...)
		b = append(b, ' ')
		b = append(b, app...)
		b = append(b, ' ')
		if pid < 0 {
			b = append(b, '-')
		} else {
			b = strconv.AppendInt(b, int64(pid), 10)
		}
		return append(b, " - - "...)
	}
	b = t.UTC().AppendFormat(b, time.Stamp)
	b = append(b, ' ')
	b = append(b, h.name...)
	b = append(b, ' ')
	b = append(b, app...)
	if pid >= 0 {
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(pid), 10)
		b = append(b, ']')
	}
	return append(b, ": "...)
}

func (g *Generator) sshdFailed(b []byte, ip string) []byte {
	b = append(b, "Failed password for "...)
	if g.r.IntN(3) > 0 {
		b = append(b, "invalid user "...)
	}
	b = append(b, g.pick(g.p.attackers)...)
	b = append(b, " from "...)
	b = append(b, ip...)
	b = append(b, " port "...)
	b = strconv.AppendInt(b, int64(g.port()), 10)
	return append(b, " ssh2"...)
}

func (g *Generator) sshdAccepted(b []byte, user, method string) []byte {
	if user == "" {
		user = g.pick(g.p.services)
		if g.r.IntN(3) == 0 {
			user = g.pick(g.p.people)
		}
	}
	b = append(b, "Accepted "...)
	b = append(b, method...)
	b = append(b, " for "...)
	b = append(b, user...)
	b = append(b, " from "...)
	b = append(b, g.p.clientIP()...)
	b = append(b, " port "...)
	b = strconv.AppendInt(b, int64(g.port()), 10)
	b = append(b, " ssh2"...)
	if method == "publickey" {
		b = append(b, ": ED25519 SHA256:"...)
		b = g.base64(b, 43)
	}
	return b
}

func (g *Generator) sudo(b []byte, command string) []byte {
	user := g.pick(g.p.people)
	b = append(b, "   "...)
	b = append(b, user...)
	b = append(b, " : TTY=pts/"...)
	b = strconv.AppendInt(b, int64(g.r.IntN(8)), 10)
	b = append(b, " ; PWD=/home/"...)
	b = append(b, user...)
	b = append(b, " ; USER=root ; COMMAND="...)
	return append(b, command...)
}

func (g *Generator) ufwBlock(b []byte, t time.Time, h *host) []byte {
	b = append(b, '[')
	uptime := t.Unix() % 10_000_000
	b = strconv.AppendInt(b, uptime, 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(100000+g.r.IntN(900000)), 10)
	b = append(b, "] [UFW BLOCK] IN="...)
	b = append(b, h.iface...)
	b = append(b, " OUT= MAC="...)
	b = append(b, h.mac...)
	b = append(b, ":00:1b:21:3c:4d:5e:08:00 SRC="...)
	b = append(b, g.p.externalIP()...)
	b = append(b, " DST="...)
	b = append(b, h.ip...)
	b = append(b, " LEN="...)
	b = strconv.AppendInt(b, int64(40+g.r.IntN(30)), 10)
	b = append(b, " TOS=0x00 PREC=0x00 TTL="...)
	b = strconv.AppendInt(b, int64(30+g.r.IntN(220)), 10)
	b = append(b, " ID="...)
	b = strconv.AppendInt(b, int64(g.r.IntN(65536)), 10)
	b = append(b, " PROTO=TCP SPT="...)
	b = strconv.AppendInt(b, int64(g.port()), 10)
	b = append(b, " DPT="...)
	b = strconv.AppendInt(b, int64(serverPorts[g.r.IntN(len(serverPorts))]), 10)
	return append(b, " WINDOW=1024 RES=0x00 SYN URGP=0"...)
}
