package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("MAMORI_REQUIRE_SENDERS") != "" {
			t.Fatalf("%s not installed (scripts/install-test-deps.sh installs it)", name)
		}
		t.Skipf("%s not installed; run scripts/install-test-deps.sh", name)
	}
	return p
}

func TestLoggerToSearch(t *testing.T) {
	logger := requireTool(t, "logger")
	s := startServer(t, "")
	host, port, _ := strings.Cut(s.udp, ":")
	token := fmt.Sprintf("tok%d", time.Now().UnixNano())
	for _, proto := range []string{"--udp", "--tcp"} {
		msg := "login failure for alice from 198.51.100.7 " + token + strings.TrimLeft(proto, "-")
		out, err := exec.Command(logger, "--server", host, "--port", port, proto, "--tag", "sshd", msg).CombinedOutput()
		if err != nil {
			t.Fatalf("logger %s: %v %s", proto, err, out)
		}
	}
	// A keyword finds each within seconds (UDP is flushed every second).
	for _, proto := range []string{"udp", "tcp"} {
		if n := s.waitCount(token+proto, 1, 10*time.Second); n != 1 {
			t.Fatalf("%s message: found %d events, want 1\n%s", proto, n, s.log.String())
		}
	}
	// Field and time-range queries through the CLI.
	code, out, errOut := runMamori(t, nil, "search", "--server", "http://"+s.http, "--since", "5m", "process.name:sshd", token+"udp")
	if code != 0 || !strings.Contains(out, token+"udp") {
		t.Fatalf("mamori search: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runMamori(t, nil, "search", "--server", "http://"+s.http, "--json", "--since", "5m", token+"tcp")
	if code != 0 || !strings.Contains(out, `"process":{"name":"sshd"`) || !strings.Contains(out, `"related":{`) {
		t.Fatalf("mamori search --json: exit %d\n%s", code, out)
	}
	code, _, _ = runMamori(t, nil, "search", "--server", "http://"+s.http, "--from", "2001-01-01", "--to", "2001-01-02", token+"udp")
	if code != 1 {
		t.Fatalf("search outside the time range: exit %d, want 1 (no results)", code)
	}
	code, _, errOut = runMamori(t, nil, "search", "--server", "http://"+s.http, "user.name:(")
	if code != 2 || errOut == "" {
		t.Fatalf("bad query: exit %d, stderr %q; want 2 and a message", code, errOut)
	}
}

func TestHTTPIntakeCount(t *testing.T) {
	s := startServer(t, "")
	const total = 100000
	const per = 10000
	ctx := context.Background()
	for b := 0; b < total/per; b++ {
		lines := make([]string, per)
		for i := range lines {
			n := b*per + i
			lines[i] = fmt.Sprintf("<134>Nov 20 10:%02d:%02d fw01 kernel: bulk%d seq=%d src=10.1.%d.%d", (n/60)%60, n%60, b, n, n%250, n%200)
		}
		code, err := s.post(ctx, "syslog", lines)
		if err != nil || code != 200 {
			t.Fatalf("post batch %d: %d %v", b, code, err)
		}
	}
	if n := s.waitCount("process.name:kernel", total, 120*time.Second); n != total {
		t.Fatalf("stored %d events, want %d", n, total)
	}
	if n, _ := s.count("bulk3"); n != per {
		t.Fatalf("keyword bulk3: %d, want %d", n, per)
	}
	// Unknown dataset and bad encodings are refused with clear errors.
	if code, _ := s.post(ctx, "no.such.dataset", []string{"x"}); code != 400 {
		t.Fatalf("unknown dataset: HTTP %d, want 400", code)
	}
}

// TestCrashLosesNothing sends continuously over HTTP, kills the server with
// SIGKILL at random moments, restarts it on the same data directory, and
// checks that every acknowledged line is stored exactly once.
func TestCrashLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test is long")
	}
	dataDir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var (
		mu    sync.Mutex
		acked = map[int]bool{}
		sent  = 0
	)
	const per = 500
	seq := 0
	for round := 0; round < 5; round++ {
		s := startServer(t, dataDir)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := 0; w < 3; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					mu.Lock()
					first := seq
					seq += per
					mu.Unlock()
					lines := make([]string, per)
					for i := range lines {
						lines[i] = fmt.Sprintf("<13>Nov 20 10:00:00 host app: crashtest n=%d", first+i)
					}
					code, err := s.post(ctx, "syslog", lines)
					mu.Lock()
					sent += per
					if err == nil && code == 200 {
						for i := 0; i < per; i++ {
							acked[first+i] = true
						}
					}
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(300+rng.IntN(1200)) * time.Millisecond)
		s.kill()
		cancel()
		wg.Wait()
	}
	s := startServer(t, dataDir)
	want := int64(len(acked))
	if want == 0 {
		t.Fatal("no batch was acknowledged")
	}
	deadline := time.Now().Add(120 * time.Second)
	for {
		res, err := s.search("", map[string]string{"limit": "1"})
		_ = res
		h, _ := s.count("crashtest")
		if err == nil && h >= want {
			break
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Give in-flight unacknowledged objects time to finish too, then read all.
	time.Sleep(2 * time.Second)
	events, err := s.all("crashtest")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range events {
		seen[e.String("message")]++
	}
	missing, doubled := 0, 0
	for n := range acked {
		if seen[fmt.Sprintf("crashtest n=%d", n)] == 0 {
			missing++
		}
	}
	for m, c := range seen {
		if c > 1 {
			doubled++
			if doubled < 5 {
				t.Errorf("stored %d times: %s", c, m)
			}
		}
	}
	t.Logf("sent %d lines, %d acknowledged, %d stored", sent, len(acked), len(events))
	if missing > 0 || doubled > 0 {
		t.Fatalf("%d acknowledged lines missing, %d stored more than once\n%s", missing, doubled, s.log.String())
	}
}

func TestParseAndLocalImport(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "in.log")
	lines := []string{
		"<34>1 2026-11-20T10:00:00.000Z web-01 sshd 4123 - - Failed password for root from 203.0.113.9 port 22 ssh2",
		`CEF:0|Trend Micro|Deep Security Agent|10.0.1.1234|20|Log for TCP Port Scan|5|cn1=1 cn1Label=Host ID dvc=10.0.0.5 act=Reset dmac=00:50:56:00:00:01 smac=00:50:56:00:00:02 TrendMicroDsFrameType=IP src=192.0.2.10 dst=10.0.0.5 in=60 cs3= cs3Label=Fragmentation Bits proto=TCP spt=44521 dpt=22 cs2=0x00 ACK cs2Label=TCP Flags cnt=1 TrendMicroDsPacketData=AAAA`,
	}
	if err := os.WriteFile(input, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runMamori(t, nil, "parse", input)
	if code != 0 {
		t.Fatalf("parse: exit %d: %s", code, errOut)
	}
	docs := strings.Split(strings.TrimSpace(out), "\n")
	if len(docs) != 2 || !strings.Contains(docs[0], `"user":`) && !strings.Contains(docs[0], "203.0.113.9") ||
		!strings.Contains(docs[1], `"source":{`) || !strings.Contains(docs[1], `"ip":"192.0.2.10"`) {
		t.Fatalf("parse output:\n%s", out)
	}
	// Local import into a data directory, then a server over it finds them.
	data := filepath.Join(dir, "data")
	code, out, errOut = runMamori(t, nil, "import", "--data", data, "--dataset", "syslog", input)
	if code != 0 || !strings.Contains(out, "2 records") {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	s := startServer(t, data)
	if n, err := s.count("source.ip:192.0.2.10"); err != nil || n != 1 {
		t.Fatalf("imported CEF event by source.ip: %d %v", n, err)
	}
	if n, err := s.count("203.0.113.9"); err != nil || n != 1 {
		t.Fatalf("imported syslog event by keyword: %d %v", n, err)
	}
}
