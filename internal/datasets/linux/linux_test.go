package linux_test

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/linux"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

var (
	received = time.Date(2024, 3, 1, 12, 30, 0, 0, time.UTC)
	plus9    = time.FixedZone("+09:00", 9*3600)
)

func newParser(loc *time.Location) dataset.Parser {
	return linux.New(linux.Options{Location: loc}).Parser
}

func TestGolden(t *testing.T) {
	testutil.RunParserCases(t, "testdata", newParser(plus9), received)
}

func parseOne(t *testing.T, line string) *event.Event {
	t.Helper()
	evs, err := newParser(nil).Parse(dataset.Record{Data: []byte(line), Received: received})
	if err != nil || len(evs) != 1 {
		t.Fatalf("Parse(%q): %d events, %v", line, len(evs), err)
	}
	return evs[0]
}

func checkFields(t *testing.T, line string, want map[string]any) {
	t.Helper()
	ev := parseOne(t, line)
	for f, w := range want {
		got, ok := ev.Get(f)
		if w == nil {
			if ok {
				t.Errorf("%q: %s = %#v, want it absent", line, f, got)
			}
			continue
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%q: %s = %#v, want %#v", line, f, got, w)
		}
	}
}

func TestSSHLogin(t *testing.T) {
	checkFields(t, "Mar  1 11:59:02 web-01 sshd[2042]: Accepted publickey for deploy from 2001:db8::7 port 40022 ssh2: ED25519 SHA256:abc", map[string]any{
		"event.action":                      "ssh_login",
		"event.outcome":                     "success",
		"event.category":                    []string{"authentication", "session"},
		"event.type":                        []string{"start"},
		"user.name":                         "deploy",
		"source.ip":                         "2001:db8::7",
		"source.port":                       int64(40022),
		"linux.syslog.ssh.method":           "publickey",
		"linux.syslog.ssh.key.type":         "ED25519",
		"linux.syslog.ssh.key.fingerprint":  "SHA256:abc",
		"process.name":                      "sshd",
		"process.pid":                       int64(2042),
		"host.name":                         "web-01",
		"message":                           "Accepted publickey for deploy from 2001:db8::7 port 40022 ssh2: ED25519 SHA256:abc",
		"linux.syslog.ssh.invalid_user":     nil,
		"@timestamp":                        time.Date(2024, 3, 1, 11, 59, 2, 0, time.UTC),
		"event.original":                    nil,
		"linux.syslog.ssh.key.fingerprint2": nil,
	})
	checkFields(t, "Mar  1 11:59:05 web-01 sshd[2044]: Failed password for invalid user john smith from 203.0.113.50 port 33814 ssh2", map[string]any{
		"event.action":                  "ssh_login",
		"event.outcome":                 "failure",
		"user.name":                     "john smith",
		"linux.syslog.ssh.invalid_user": true,
		"linux.syslog.ssh.method":       "password",
		"source.ip":                     "203.0.113.50",
		"source.port":                   int64(33814),
	})
	checkFields(t, "Mar  1 11:59:16 web-01 sshd[2050]: Accepted password for alice from bastion.example.com port 51299 ssh2", map[string]any{
		"source.ip":      nil,
		"source.domain":  "bastion.example.com",
		"source.address": "bastion.example.com",
	})
}

func TestSSHConnectionEnds(t *testing.T) {
	checkFields(t, "Mar  1 11:59:10 web-01 sshd[2041]: Disconnected from user alice 192.0.2.10 port 51234", map[string]any{
		"event.action": "ssh_disconnected", "event.category": []string{"session"}, "event.type": []string{"end"},
		"user.name": "alice", "source.ip": "192.0.2.10",
	})
	checkFields(t, "Mar  1 11:59:08 web-01 sshd[2046]: Connection closed by authenticating user root 203.0.113.52 port 41000 [preauth]", map[string]any{
		"event.action": "ssh_connection_closed", "event.category": []string{"network"}, "event.type": []string{"connection", "end"},
		"user.name": "root", "linux.syslog.ssh.preauth": true, "source.port": int64(41000),
	})
	checkFields(t, "Mar  1 11:59:09 web-01 sshd[2047]: Connection closed by 203.0.113.53 port 41001 [preauth]", map[string]any{
		"user.name": nil, "source.ip": "203.0.113.53",
	})
}

func TestSudo(t *testing.T) {
	checkFields(t, "Mar  1 12:00:04 web-01 sudo:    alice : TTY=pts/0 ; PWD=/srv ; USER=postgres ; COMMAND=/usr/bin/psql -c select 1 ; echo done", map[string]any{
		"event.action":              "sudo_command",
		"event.outcome":             "success",
		"user.name":                 "alice",
		"user.effective.name":       "postgres",
		"process.command_line":      "/usr/bin/psql -c select 1 ; echo done",
		"process.executable":        "/usr/bin/psql",
		"process.working_directory": "/srv",
		"linux.syslog.tty":          "pts/0",
		"process.name":              "sudo",
	})
	checkFields(t, "Mar  1 12:00:03 web-01 sudo:     eve : user NOT in sudoers ; TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/bin/bash", map[string]any{
		"event.outcome": "failure", "event.reason": "user NOT in sudoers", "user.name": "eve", "user.effective.name": "root",
	})
	checkFields(t, "Mar  1 12:00:02 web-01 sudo:    alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id", map[string]any{
		"event.outcome": "failure", "event.category": []string{"authentication"}, "event.reason": "3 incorrect password attempts",
	})
}

func TestPAMSwitchUser(t *testing.T) {
	checkFields(t, "Mar  1 12:00:05 web-01 sudo: pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)", map[string]any{
		"event.action": "session_opened", "user.name": "alice", "user.id": "1000",
		"user.effective.name": "root", "user.effective.id": "0",
		"linux.syslog.pam.module": "pam_unix", "linux.syslog.pam.service": "sudo", "linux.syslog.pam.type": "session",
	})
	checkFields(t, "Mar  1 12:03:01 web-01 sshd[2041]: pam_unix(sshd:session): session opened for user alice(uid=1000) by (uid=0)", map[string]any{
		"user.name": "alice", "user.id": "1000", "user.effective.name": nil,
	})
	checkFields(t, "Mar  1 12:00:11 web-01 su[4101]: pam_unix(su:auth): authentication failure; logname=eve uid=1001 euid=0 tty=pts/1 ruser=eve rhost=  user=root", map[string]any{
		"event.action": "authentication_failure", "event.outcome": "failure",
		"user.name": "eve", "user.id": "1001", "user.effective.name": "root", "source.ip": nil,
	})
}

func TestAccounts(t *testing.T) {
	checkFields(t, "Mar  1 12:01:03 web-01 useradd[5002]: new user: name=bob, UID=1001, GID=1001, home=/home/bob, shell=/bin/bash, from=/dev/pts/0", map[string]any{
		"event.action": "user_created", "event.category": []string{"iam"}, "event.type": []string{"user", "creation"},
		"user.name": "bob", "user.id": "1001", "group.id": "1001",
		"linux.syslog.user.home": "/home/bob", "linux.syslog.user.shell": "/bin/bash",
	})
	checkFields(t, "Mar  1 12:01:05 web-01 usermod[5003]: add 'bob' to shadow group 'sudo'", map[string]any{
		"event.action": "user_added_to_group", "user.name": "bob", "group.name": "sudo", "event.type": []string{"group", "change"},
	})
	checkFields(t, "Mar  1 12:01:08 web-01 usermod[5006]: change user name 'bob' to 'robert'", map[string]any{
		"event.action": "user_changed", "user.name": "bob", "user.changes.name": "robert",
	})
	checkFields(t, "Mar  1 12:01:18 web-01 userdel[5014]: delete user 'robert'", map[string]any{
		"event.action": "user_deleted", "user.name": "robert", "event.type": []string{"user", "deletion"},
	})
}

func TestRepeatedMessage(t *testing.T) {
	checkFields(t, "Mar  1 12:03:06 web-01 sshd[2047]: message repeated 5 times: [ Failed password for root from 203.0.113.50 port 33812 ssh2]", map[string]any{
		"event.count": int64(5), "event.action": "ssh_login", "event.outcome": "failure", "user.name": "root",
	})
}

// TestUnrecognisedKeepsSyslog checks that a message this dataset cannot
// read keeps the generic syslog fields and nothing more.
func TestUnrecognisedKeepsSyslog(t *testing.T) {
	checkFields(t, "Mar  1 12:04:01 web-01 sshd[900]: Server listening on 0.0.0.0 port 22.", map[string]any{
		"message": "Server listening on 0.0.0.0 port 22.", "process.name": "sshd", "host.name": "web-01",
		"event.action": nil, "event.category": nil, "user.name": nil, "source.ip": nil,
	})
	evs, err := newParser(nil).Parse(dataset.Record{Data: []byte(""), Received: received})
	if err != nil || len(evs) != 0 {
		t.Errorf("empty record: %d events, %v", len(evs), err)
	}
}

func TestZoneAndYear(t *testing.T) {
	evs, err := newParser(plus9).Parse(dataset.Record{Data: []byte("Dec 31 23:59:59 h sshd[1]: Accepted password for a from 192.0.2.1 port 1 ssh2"),
		Received: time.Date(2025, 1, 1, 0, 0, 5, 0, time.UTC)})
	if err != nil || len(evs) != 1 {
		t.Fatal(err)
	}
	if got, want := evs[0].Time(), time.Date(2024, 12, 31, 14, 59, 59, 0, time.UTC); !got.Equal(want) {
		t.Errorf("@timestamp = %v, want %v", got, want)
	}
	if evs[0].String("event.timezone") != "+09:00" {
		t.Errorf("event.timezone = %q", evs[0].String("event.timezone"))
	}
}

func TestClaim(t *testing.T) {
	ds := linux.New(linux.Options{})
	for _, tc := range []struct {
		line string
		want bool
	}{
		{"Mar  1 11:59:01 web-01 sshd[2041]: Accepted password for alice from 192.0.2.10 port 51234 ssh2", true},
		{"<86>1 2024-03-01T11:59:13Z web-02 sshd 3001 - - Failed password for git from 198.51.100.9 port 2222 ssh2", true},
		{"Mar  1 12:00:01 web-01 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id", true},
		{"Mar  1 12:00:08 web-01 su[4100]: (to root) alice on pts/0", true},
		{"Mar  1 12:01:03 web-01 useradd[5002]: new user: name=bob, UID=1001", true},
		{"Mar  1 12:02:01 web-01 systemd-logind[812]: New session 42 of user alice.", true},
		{"Mar  1 12:02:05 web-01 systemd[1]: Started nginx.service.", true},
		{"Mar  1 12:02:10 web-01 CRON[6001]: (root) CMD (true)", true},
		{"Mar  1 12:02:14 web-01 login[701]: FAILED LOGIN 1 FROM tty2 FOR mallory, Authentication failure", true},
		// Lines without a header name no program.
		{"Accepted password for alice from 192.0.2.10 port 51234 ssh2", false},
		{"sshd[1]: Accepted password for alice", false},
		// Other programs' syslog, other vendors' CEF, JSON, access logs.
		{"Mar  1 11:59:01 web-01 kernel: [ 1.0] eth0: link up", false},
		{"Mar  1 11:59:01 web-01 polkitd[700]: Registered Authentication Agent", false},
		{"Mar  1 11:59:01 web-01 nginx: 192.0.2.1 - - [01/Mar/2024:11:59:01 +0000] \"GET / HTTP/1.1\" 200 1", false},
		{"<134>Mar  1 11:59:01 fw CEF:0|Trend Micro|Deep Security Agent|20|20|Log|3|src=1.2.3.4", false},
		{"CEF:0|Security|threatmanager|1.0|100|sshd|10|src=10.0.0.1", false},
		{`{"eventSource":"sshd","message":"Accepted password"}`, false},
		{"Mar  1 11:59:01 web-01 SSHD[1]: Accepted password for a from 192.0.2.1 port 1 ssh2", false},
	} {
		if got := ds.Claim(dataset.LineOf([]byte(tc.line))); got != tc.want {
			t.Errorf("Claim(%q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

// TestCorpus compares the header fields of Elastic's system.syslog samples
// (the corpus has no sshd samples: those are in testdata, written from
// OpenSSH's message formats). The samples' configs read zoneless times in
// GMT-0200.
func TestCorpus(t *testing.T) {
	gmtMinus2 := time.FixedZone("GMT-0200", -2*3600)
	for _, tc := range []struct {
		file string
		loc  *time.Location
	}{
		{"syslog/test-tz-offset.log", gmtMinus2},
		{"syslog/test-suse-syslog.log", gmtMinus2},
		{"syslog/test-preserve-event-original.log", time.UTC},
	} {
		t.Run(tc.file, func(t *testing.T) {
			cfg, err := os.ReadFile(testutil.CorpusFile(t, tc.file+"-config.yml"))
			if err != nil {
				t.Fatal(err)
			}
			if (tc.loc != time.UTC) != strings.Contains(string(cfg), "GMT-0200") {
				t.Fatalf("%s: config does not match the zone the test assumes:\n%s", tc.file, cfg)
			}
			a := testutil.CorpusAgreement(t, newParser(tc.loc), tc.file, received)
			for _, d := range a.Diffs {
				t.Log(d)
			}
			t.Logf("samples %d, failed %d, fields %d, agreed %d, ratio %.3f", a.Samples, a.Failed, a.Fields, a.Agreed, a.Ratio())
			if a.Failed != 0 || a.Ratio() < 0.95 {
				t.Errorf("agreement: %d failed, ratio %.3f", a.Failed, a.Ratio())
			}
		})
	}
}

func FuzzLinuxSyslog(f *testing.F) {
	for _, s := range []string{
		"Mar  1 11:59:01 web-01 sshd[2041]: Accepted publickey for a b from 192.0.2.10 port 5 ssh2: RSA SHA256:x",
		"Mar  1 12:00:01 web-01 sudo:    alice : TTY=pts/0 ; USER=root ; COMMAND=/usr/bin/id",
		"Mar  1 12:00:05 web-01 su: pam_unix(su:session): session opened for user root(uid=0) by alice(uid=1000)",
		"Mar  1 12:01:04 web-01 usermod[5003]: add 'bob' to group 'sudo'",
		"Mar  1 12:03:06 web-01 sshd[2047]: message repeated 5 times: [ Failed password for root from ::1 port 1 ssh2]",
	} {
		f.Add([]byte(s))
	}
	p := newParser(nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := p.Parse(dataset.Record{Data: data, Received: received})
		if err != nil {
			t.Fatalf("linux.syslog never fails, got %v", err)
		}
		for _, ev := range evs {
			if ev.Has("event.action") && !ev.Has("event.category") {
				t.Fatalf("action %q without a category", ev.String("event.action"))
			}
			if port, ok := ev.Get("source.port"); ok {
				if n, _ := port.(int64); n < 0 || n > 65535 {
					t.Fatalf("source.port %v", port)
				}
			}
			if _, err := ev.MarshalJSON(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	rec := dataset.Record{Data: []byte("<38>Mar  1 11:59:02 web-01 sshd[2042]: Accepted publickey for deploy from 192.0.2.7 port 40022 ssh2: ED25519 SHA256:Xb5o0E7mXcWkXm1xYzA6d2l6cGh1bHV0ZW5zb3J0ZQ"), Received: received}
	p := newParser(nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(rec); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
