package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestDHCPAttribution sends a DHCP lease and, after it, an sshd failure
// from the leased address: the search result names the machine that held
// the address (source.mac, source.domain), also after a restart, when the
// lease table is rebuilt from the stored dhcp.lease events.
func TestDHCPAttribution(t *testing.T) {
	dataDir := t.TempDir()
	s := startServer(t, dataDir)
	ctx := context.Background()
	stamp := func(d time.Duration) string { return time.Now().UTC().Add(d).Format(time.Stamp) }
	lines := []string{
		fmt.Sprintf("<30>%s dhcp01 dhcpd[812]: DHCPACK on 192.0.2.50 to 00:0c:29:aa:bb:cc (laptop-7) via eth0", stamp(-10*time.Minute)),
		fmt.Sprintf("<38>%s web01 sshd[42]: Failed password for bob from 192.0.2.50 port 51000 ssh2", stamp(-5*time.Minute)),
	}
	if code, err := s.post(ctx, "syslog", lines); err != nil || code != 200 {
		t.Fatalf("post: %d %v", code, err)
	}
	check := func(round string) {
		t.Helper()
		if n := s.waitCount("event.dataset:linux.syslog AND source.ip:192.0.2.50", 1, 15*time.Second); n != 1 {
			t.Fatalf("%s: the sshd event was not stored\n%s", round, s.log.String())
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			r, err := s.search("event.dataset:linux.syslog AND source.ip:192.0.2.50", nil)
			if err != nil {
				t.Fatal(err)
			}
			e := r.Events[0]
			if e.String("source.mac") == "00-0C-29-AA-BB-CC" && e.String("source.domain") == "laptop-7" {
				return
			}
			if time.Now().After(deadline) {
				b, _ := e.MarshalJSON()
				t.Fatalf("%s: the sshd event is not attributed to the lease: %s", round, b)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	check("first run")
	s.stop()
	s = startServer(t, dataDir)
	check("after a restart")
}
