package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// forwardFile writes n unique lines to a file that a real syslog daemon
// forwards to mamori, then checks every line is stored exactly once.
func forwardFile(t *testing.T, s *server, run string, start func(dir, input string) *exec.Cmd) {
	t.Helper()
	const n = 1000
	dir := t.TempDir()
	input := filepath.Join(dir, "input.log")
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%s line=%d user=alice src=198.51.100.%d\n", run, i, i%250)
	}
	if err := os.WriteFile(input, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := start(dir, input)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("sender output:\n%s", out.String())
		}
	}()
	if got := s.waitCount(run, n, 60*time.Second); got != n {
		t.Fatalf("found %d of %d lines\nmamori log:\n%s", got, n, s.log.String())
	}
	events, err := s.all(run)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range events {
		msg := e.String("message")
		i := strings.Index(msg, run)
		if i < 0 {
			t.Fatalf("event without the run token: %q", msg)
		}
		line := msg[i:]
		if seen[line] {
			t.Fatalf("line stored twice: %q", line)
		}
		seen[line] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct lines, want %d", len(seen), n)
	}
}

func TestRsyslogForwardsToMamori(t *testing.T) {
	rsyslogd := requireTool(t, "rsyslogd")
	s := startServer(t, "")
	_, port, _ := strings.Cut(s.tcp, ":")
	forwardFile(t, s, fmt.Sprintf("rsyslogrun%d", time.Now().UnixNano()), func(dir, input string) *exec.Cmd {
		work := filepath.Join(dir, "work")
		if err := os.Mkdir(work, 0o755); err != nil {
			t.Fatal(err)
		}
		conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imfile")
input(type="imfile" file=%q tag="app:" ruleset="fwd" freshStartTail="off")
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port=%q protocol="tcp" tcp_framing="octet-counted"
         template="RSYSLOG_SyslogProtocol23Format" action.resumeRetryCount="-1" action.resumeInterval="1")
}
`, work, input, port)
		cf := filepath.Join(dir, "rsyslog.conf")
		if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		return exec.Command(rsyslogd, "-n", "-f", cf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	})
}

func TestSyslogNGForwardsToMamori(t *testing.T) {
	syslogng := requireTool(t, "syslog-ng")
	s := startServer(t, "")
	_, port, _ := strings.Cut(s.tcp, ":")
	forwardFile(t, s, fmt.Sprintf("syslogngrun%d", time.Now().UnixNano()), func(dir, input string) *exec.Cmd {
		conf := fmt.Sprintf(`@version: 3.38
options { keep-hostname(yes); stats-freq(0); };
source s_in { file(%q follow-freq(0.1) flags(no-parse) program-override("app")); };
destination d_mamori { syslog("127.0.0.1" transport("tcp") port(%s)); };
log { source(s_in); destination(d_mamori); };
`, input, port)
		cf := filepath.Join(dir, "syslog-ng.conf")
		if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		return exec.Command(syslogng, "-F", "-e", "--no-caps", "-f", cf,
			"-R", filepath.Join(dir, "persist"), "-p", filepath.Join(dir, "pid"), "-c", filepath.Join(dir, "ctl"))
	})
}
