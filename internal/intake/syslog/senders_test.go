package syslog

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/template"
	"time"
)

// Real senders: rsyslog and syslog-ng, each run by the test as its own
// foreground process with a private configuration, work directory and pid
// file, reading a file of lines and forwarding them to a listener.

const senderLines = 1000

// Forwarded records must end with the line itself; what comes before is the
// sender's syslog header, checked per format below.
var (
	// RSYSLOG_SyslogProtocol23Format, from imfile with tag "mamori-test:".
	rsyslog5424 = regexp.MustCompile(`^<156>1 \d{4}-\d\d-\d\dT\S+ \S+ mamori-test - - - (.*)$`)
	// RSYSLOG_ForwardFormat: "<PRI>RFC3339 HOST TAG MSG".
	rsyslogForward = regexp.MustCompile(`^<156>\d{4}-\d\d-\d\dT\S+ \S+ mamori-test: (.*)$`)
	// syslog-ng syslog(): RFC 5424, with a sequence id as structured data;
	// network(): RFC 3164 ("<PRI>Mmm dd hh:mm:ss HOST PROG: MSG").
	syslogng5424 = regexp.MustCompile(`^<156>1 \d{4}-\d\d-\d\dT\S+ \S+ mamori-test - - \[meta sequenceId="\d+"\] (.*)$`)
	syslogng3164 = regexp.MustCompile(`^<156>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ mamori-test: (.*)$`)
)

func lineMatcher(re *regexp.Regexp) func(rec, line string) bool {
	return func(rec, line string) bool {
		m := re.FindStringSubmatch(rec)
		return m != nil && m[1] == line
	}
}

func renderConfig(t *testing.T, text string, data any) string {
	t.Helper()
	var b strings.Builder
	if err := template.Must(template.New("conf").Parse(text)).Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

const rsyslogConf = `
global(workDirectory="{{.Dir}}/work"
{{- if .TLS}}
       defaultNetstreamDriver="gtls"
       defaultNetstreamDriverCAFile="{{.TLS.CAFile}}"
       defaultNetstreamDriverCertFile="{{.TLS.CertFile}}"
       defaultNetstreamDriverKeyFile="{{.TLS.KeyFile}}"
{{- end}}
)
module(load="imfile")
input(type="imfile" file="{{.Input}}" tag="mamori-test:" facility="local3" severity="warning"
      ruleset="forward" freshStartTail="off")
ruleset(name="forward") {
  action(type="omfwd" target="127.0.0.1" port="{{.Port}}" protocol="{{.Protocol}}"
{{- if ne .Protocol "udp"}} tcp_framing="{{.Framing}}"{{end}}
         template="{{.Template}}"
{{- if .TLS}}
         streamDriver="gtls" streamDriverMode="1" streamDriverAuthMode="x509/name"
         streamDriverPermittedPeers="localhost"
{{- end}}
         action.resumeRetryCount="-1" action.resumeInterval="1")
}
`

func TestRsyslogForwards(t *testing.T) {
	rsyslogd := requireSender(t, "rsyslogd")
	for _, tc := range []struct {
		name, protocol, framing, template string
		tls                               bool
		match                             *regexp.Regexp
	}{
		{name: "tcp octet-counted", protocol: "tcp", framing: "octet-counted", template: "RSYSLOG_SyslogProtocol23Format", match: rsyslog5424},
		{name: "tcp LF", protocol: "tcp", framing: "traditional", template: "RSYSLOG_ForwardFormat", match: rsyslogForward},
		{name: "udp", protocol: "udp", template: "RSYSLOG_SyslogProtocol23Format", match: rsyslog5424},
		{name: "tls octet-counted mutual", protocol: "tcp", framing: "octet-counted", template: "RSYSLOG_SyslogProtocol23Format", tls: true, match: rsyslog5424},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.tls {
				requireRsyslogGTLS(t)
			}
			sink := &collector{}
			cfg := Config{FlushInterval: 50 * time.Millisecond}
			var tlsData any
			if tc.tls {
				c := newCerts(t)
				cfg.TLS = TLSConfig{CertFile: c.serverCert, KeyFile: c.serverKey, ClientCAFile: c.caFile}
				tlsData = map[string]string{"CAFile": c.caFile, "CertFile": c.clientCert, "KeyFile": c.clientKey}
			}
			var lport int
			var m *Metrics
			name := NameTCP
			switch {
			case tc.protocol == "udp":
				l, mm := startUDP(t, cfg, sink)
				lport, m, name = port(l.Addr()), mm, NameUDP
			default:
				l, mm := startTCP(t, cfg, sink)
				lport, m = port(l.Addr()), mm
				if tc.tls {
					name = NameTLS
				}
			}

			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "work"), 0o755); err != nil {
				t.Fatal(err)
			}
			input, lines := sendFileLines(t, senderLines, "rsyslog")
			conf := renderConfig(t, rsyslogConf, map[string]any{
				"Dir": dir, "Input": input, "Port": lport, "Protocol": tc.protocol,
				"Framing": tc.framing, "Template": tc.template, "TLS": tlsData,
			})
			confFile := filepath.Join(dir, "rsyslog.conf")
			if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
				t.Fatal(err)
			}
			p := startSender(t, rsyslogd, "-n", "-f", confFile, "-i", filepath.Join(dir, "rsyslogd.pid"))
			waitForLines(t, p, sink, "rsyslog", len(lines))
			p.stop(t)
			if tc.protocol != "udp" {
				// Everything rsyslog sent has been read once its connection ends.
				waitFor(t, 10*time.Second, "rsyslog's connection to close", func() bool { return gaugeValue(m.active, name) == 0 })
			}
			checkEachOnce(t, sink.messages(), lines, lineMatcher(tc.match))
		})
	}
}

// waitForLines polls until n records carry the label's tokens, failing early
// if the sender exits.
func waitForLines(t *testing.T, p *senderProcess, sink *collector, label string, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := countTokens(sink.messages(), label)
		if got >= n {
			return
		}
		if p.exited() {
			t.Fatalf("%s exited after %d of %d lines arrived", filepath.Base(p.cmd.Path), got, n)
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out: %d of %d lines arrived", got, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// requireRsyslogGTLS skips (or fails, under MAMORI_REQUIRE_SENDERS) when
// rsyslog's GnuTLS driver (package rsyslog-gnutls) is missing.
func requireRsyslogGTLS(t *testing.T) {
	t.Helper()
	matches, _ := filepath.Glob("/usr/lib/*/rsyslog/lmnsd_gtls.so")
	if len(matches) > 0 {
		return
	}
	msg := "rsyslog's gtls driver (lmnsd_gtls.so, package rsyslog-gnutls) not found; install it with scripts/install-test-deps.sh"
	if os.Getenv("MAMORI_REQUIRE_SENDERS") != "" {
		t.Fatalf("MAMORI_REQUIRE_SENDERS is set: %s", msg)
	}
	t.Skip(msg)
}

const syslogNGConf = `@version: 3.38
options { keep-hostname(yes); chain-hostnames(no); stats-freq(0); };
source s_input {
  file("{{.Input}}" follow-freq(0.1) flags(no-parse) program-override("mamori-test")
       default-facility(local3) default-priority(warning));
};
destination d_mamori {
{{- if eq .Driver "syslog"}}
  syslog("127.0.0.1" transport("{{.Transport}}") port({{.Port}})
{{- else}}
  network("127.0.0.1" transport("{{.Transport}}") port({{.Port}})
{{- end}}
{{- if .TLS}}
    tls(ca-file("{{.TLS.CAFile}}") cert-file("{{.TLS.CertFile}}") key-file("{{.TLS.KeyFile}}") peer-verify(required-trusted))
{{- end}}
  );
};
log { source(s_input); destination(d_mamori); };
`

func TestSyslogNGForwards(t *testing.T) {
	syslogng := requireSender(t, "syslog-ng")
	for _, tc := range []struct {
		name, driver, transport string
		tls                     bool
		match                   *regexp.Regexp
	}{
		{name: "syslog() tcp octet-counted", driver: "syslog", transport: "tcp", match: syslogng5424},
		{name: "network() tcp LF", driver: "network", transport: "tcp", match: syslogng3164},
		{name: "network() udp", driver: "network", transport: "udp", match: syslogng3164},
		{name: "syslog() udp", driver: "syslog", transport: "udp", match: syslogng5424},
		{name: "syslog() tls mutual", driver: "syslog", transport: "tls", tls: true, match: syslogng5424},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &collector{}
			cfg := Config{FlushInterval: 50 * time.Millisecond}
			var tlsData any
			if tc.tls {
				c := newCerts(t)
				cfg.TLS = TLSConfig{CertFile: c.serverCert, KeyFile: c.serverKey, ClientCAFile: c.caFile}
				tlsData = map[string]string{"CAFile": c.caFile, "CertFile": c.clientCert, "KeyFile": c.clientKey}
			}
			var lport int
			var m *Metrics
			name := NameTCP
			if tc.transport == "udp" {
				l, mm := startUDP(t, cfg, sink)
				lport, m, name = port(l.Addr()), mm, NameUDP
			} else {
				l, mm := startTCP(t, cfg, sink)
				lport, m = port(l.Addr()), mm
				if tc.tls {
					name = NameTLS
				}
			}

			dir := t.TempDir()
			input, lines := sendFileLines(t, senderLines, "syslogng")
			conf := renderConfig(t, syslogNGConf, map[string]any{
				"Input": input, "Port": lport, "Driver": tc.driver, "Transport": tc.transport, "TLS": tlsData,
			})
			confFile := filepath.Join(dir, "syslog-ng.conf")
			if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
				t.Fatal(err)
			}
			p := startSender(t, syslogng, "-F", "-e", "--no-caps", "-f", confFile,
				"-R", filepath.Join(dir, "syslog-ng.persist"), "-p", filepath.Join(dir, "syslog-ng.pid"),
				"-c", filepath.Join(dir, "syslog-ng.ctl"))
			waitForLines(t, p, sink, "syslogng", len(lines))
			p.stop(t)
			if tc.transport != "udp" {
				waitFor(t, 10*time.Second, "syslog-ng's connection to close", func() bool { return gaugeValue(m.active, name) == 0 })
			}
			checkEachOnce(t, sink.messages(), lines, lineMatcher(tc.match))
		})
	}
}
