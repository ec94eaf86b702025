// Package linux is the linux.syslog dataset: the syslog messages of the
// security-relevant programs of a Linux server (sshd, sudo, su, the shadow
// utilities, systemd and systemd-logind, cron, login) with each program's
// authentication, session, account and process messages mapped to ECS.
// Other messages of these programs keep the generic syslog fields.
package linux

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/syslog"
	"github.com/mamori-sec/mamori/internal/event"
	parsesyslog "github.com/mamori-sec/mamori/internal/parse/syslog"
)

// Name is the dataset's name and event.dataset value.
const Name = "linux.syslog"

// ns is the dataset's namespace for fields without an ECS home.
const ns = "linux.syslog."

// Options configure the dataset.
type Options struct {
	// Location is the zone of timestamps that carry none, such as every
	// BSD syslog timestamp (nil means UTC).
	Location *time.Location
	// Now gives the reference time when a record has no receive time
	// (nil means time.Now); a BSD timestamp's year is the one nearest it.
	Now func() time.Time
}

// New returns the linux.syslog dataset.
func New(opts Options) dataset.Dataset {
	p := &parser{loc: opts.Location, now: opts.Now}
	if p.loc == nil {
		p.loc = time.UTC
	}
	if p.now == nil {
		p.now = time.Now
	}
	return dataset.Dataset{
		Name:        Name,
		Description: "Linux server syslog: sshd, sudo, su, user and group changes, systemd-logind sessions, cron, login",
		Parser:      p,
		Claim:       Claim,
	}
}

// Claim reports a syslog message whose program is one this dataset reads.
// A line without a syslog header names no program and is not claimed.
func Claim(l dataset.Line) bool {
	return program(l.App) != progNone
}

// prog is a program this dataset knows.
type prog uint8

const (
	progNone prog = iota
	progSSHD
	progSudo
	progSu
	progShadow // useradd, usermod, userdel, group*, passwd, chpasswd, chage, gpasswd
	progSystemd
	progLogind
	progCron
	progLogin
)

// program maps a syslog tag to the program it names. polkitd, dbus and
// the like are left to the generic syslog dataset: their messages carry no
// account or outcome in a stable form.
func program(app string) prog {
	switch app {
	case "sshd", "sshd-session":
		return progSSHD
	case "sudo":
		return progSudo
	case "su":
		return progSu
	case "useradd", "usermod", "userdel", "groupadd", "groupdel", "groupmod",
		"passwd", "chpasswd", "chage", "gpasswd":
		return progShadow
	case "systemd":
		return progSystemd
	case "systemd-logind":
		return progLogind
	case "CRON", "cron", "crond":
		return progCron
	case "login":
		return progLogin
	}
	return progNone
}

type parser struct {
	loc *time.Location
	now func() time.Time
}

// Parse never fails: a message this dataset does not recognise keeps the
// generic syslog fields. An empty record carries no event.
func (p *parser) Parse(rec dataset.Record) ([]*event.Event, error) {
	ref := rec.Received
	if ref.IsZero() {
		ref = p.now()
	}
	m := parsesyslog.ParseString(rec.String(), ref, p.loc)
	if !m.HeaderFound() && !m.HasPriority && strings.TrimSpace(m.Body) == "" {
		return nil, nil
	}
	ev := event.New(32)
	// The tag is the process that wrote the message.
	syslog.SetHeader(ev, &m, p.loc, false)
	ev.SetString(event.FieldMessage, m.Body)
	ev.Set(event.FieldKind, "event")
	body := m.Body
	if n, inner, ok := repeated(body); ok {
		ev.Set("event.count", n)
		body = inner
	}
	mapBody(ev, program(m.AppName), body)
	return []*event.Event{ev}, nil
}

// mapBody maps what a program's message says. PAM messages look the same
// whichever program logs them.
func mapBody(ev *event.Event, pr prog, body string) {
	if mapPAM(ev, body) {
		return
	}
	switch pr {
	case progSSHD:
		mapSSHD(ev, body)
	case progSudo:
		mapSudo(ev, body)
	case progSu:
		mapSu(ev, body)
	case progShadow:
		mapShadow(ev, body)
	case progSystemd:
		mapSystemd(ev, body)
	case progLogind:
		mapLogind(ev, body)
	case progCron:
		mapCron(ev, body)
	case progLogin:
		mapLogin(ev, body)
	}
}

// repeated unwraps rsyslog's "message repeated N times: [ text]".
func repeated(s string) (int64, string, bool) {
	const prefix = "message repeated "
	if !strings.HasPrefix(s, prefix) {
		return 0, "", false
	}
	rest := s[len(prefix):]
	sp := strings.IndexByte(rest, ' ')
	if sp < 0 {
		return 0, "", false
	}
	n, err := strconv.ParseInt(rest[:sp], 10, 64)
	rest = rest[sp:]
	if err != nil || n <= 0 || !strings.HasPrefix(rest, " times: [") || !strings.HasSuffix(rest, "]") {
		return 0, "", false
	}
	return n, strings.TrimSpace(rest[len(" times: [") : len(rest)-1]), true
}

// categorize sets the ECS categorisation of a recognised message.
func categorize(ev *event.Event, action string, category, typ []string, outcome string) {
	ev.SetString("event.action", action)
	ev.Set("event.category", category)
	ev.Set("event.type", typ)
	ev.SetString("event.outcome", outcome)
}

// setSource sets source.ip, or source.address and source.domain for a
// host name (sshd with UseDNS), and source.port.
func setSource(ev *event.Event, addr, port string) {
	setAddress(ev, "source", addr)
	if p, err := strconv.ParseInt(port, 10, 64); err == nil && p >= 0 && p <= 65535 {
		ev.Set("source.port", p)
	}
}

func setAddress(ev *event.Event, side, addr string) {
	addr = strings.TrimSpace(addr)
	if addr == "" || addr == "UNKNOWN" {
		return
	}
	ev.SetString(side+".address", addr)
	if ip, ok := canonicalIP(addr); ok {
		ev.SetString(side+".ip", ip)
		return
	}
	ev.SetString(side+".domain", addr)
}

// setID sets a user or group ID field when id is numeric.
func setID(ev *event.Event, field, id string) {
	if _, err := strconv.ParseUint(id, 10, 32); err == nil {
		ev.SetString(field, id)
	}
}

func canonicalIP(s string) (string, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", false
	}
	return a.Unmap().String(), true
}
