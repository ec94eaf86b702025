package syslog

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

func dialUDP(t *testing.T, l *UDPListener) net.Conn {
	t.Helper()
	c, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestUDPListenerReceives(t *testing.T) {
	sink := &collector{}
	stamp := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	m, _ := NewMetrics(nil)
	l, err := NewUDP(Config{Address: "127.0.0.1:0", FlushInterval: 20 * time.Millisecond},
		sink, testLogger(t), WithMetrics(m), WithClock(func() time.Time { return stamp }))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	if port(l.Addr()) == 0 {
		t.Fatalf("Addr() = %v: want the real port, not 0", l.Addr())
	}

	c := dialUDP(t, l)
	sent := []string{"<13>plain", "<13>with LF\n", "<13>with NUL\x00", "<13>with CRLF\r\n", "<13>inner\nline breaks kept"}
	want := []string{"<13>plain", "<13>with LF", "<13>with NUL", "<13>with CRLF", "<13>inner\nline breaks kept"}
	for _, s := range sent {
		if _, err := c.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "5 records", func() bool { return len(sink.records()) == 5 })
	if got := sink.messages(); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Errorf("messages %q, want %q", got, want)
	}
	for _, r := range sink.records() {
		if r.Peer != c.LocalAddr().String() {
			t.Errorf("peer %q, want %q", r.Peer, c.LocalAddr())
		}
		if !r.Received.Equal(stamp) {
			t.Errorf("received %v, want the injected clock's %v", r.Received, stamp)
		}
	}
	sink.mu.Lock()
	b := sink.batches[0]
	sink.mu.Unlock()
	if b.Dataset != "syslog" || b.Listener != NameUDP {
		t.Errorf("batch dataset %q listener %q, want syslog and %s", b.Dataset, b.Listener, NameUDP)
	}
	total := 0
	for _, s := range sent {
		total += len(s)
	}
	if got := metric(m.bytes, NameUDP); got != float64(total) {
		t.Errorf("bytes received = %v, want %d", got, total)
	}
}

func TestUDPLargeDatagramAndTruncation(t *testing.T) {
	sink := &collector{}
	l, m := startUDP(t, Config{MaxMessageSize: 40000, FlushInterval: 10 * time.Millisecond}, sink)
	c := dialUDP(t, l)
	big := "<13>" + strings.Repeat("b", 39996)    // exactly the limit
	bigger := "<13>" + strings.Repeat("c", 60000) // above it, below the 64 KiB datagram limit
	for _, s := range []string{big, bigger} {
		if _, err := c.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "2 records", func() bool { return len(sink.records()) == 2 })
	got := sink.messages()
	if got[0] != big {
		t.Errorf("a %d-byte message came as %d bytes", len(big), len(got[0]))
	}
	if got[1] != bigger[:40000] {
		t.Errorf("an over-long message came as %d bytes, want the first 40000", len(got[1]))
	}
	if n := metric(m.truncated, NameUDP); n != 1 {
		t.Errorf("truncated = %v, want 1", n)
	}
}

func TestUDPEmptyDatagramsAreDropped(t *testing.T) {
	sink := &collector{}
	l, m := startUDP(t, Config{FlushInterval: 10 * time.Millisecond}, sink)
	c := dialUDP(t, l)
	for _, s := range []string{"\n", "", "\x00", "<13>real"} {
		if _, err := c.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "the real record", func() bool { return len(sink.records()) == 1 })
	waitFor(t, 5*time.Second, "3 drops", func() bool { return metric(m.dropped, NameUDP) == 3 })
	if got := sink.messages(); got[0] != "<13>real" {
		t.Errorf("message %q", got[0])
	}
}

func TestUDPFlushesAtByteLimit(t *testing.T) {
	sink := &collector{}
	l, _ := startUDP(t, Config{FlushInterval: time.Hour, FlushBytes: 100}, sink)
	c := dialUDP(t, l)
	msg := "<13>" + strings.Repeat("u", 46) // 50 bytes: two fill a batch
	for range 4 {
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 5*time.Second, "4 records in two full batches", func() bool { return len(sink.records()) == 4 })
	checkBatchSizes(t, sink, []int{2, 2})
}

func TestUDPFlushesAtInterval(t *testing.T) {
	sink := &collector{}
	l, _ := startUDP(t, Config{FlushInterval: 50 * time.Millisecond}, sink)
	c := dialUDP(t, l)
	if _, err := c.Write([]byte("<13>alone")); err != nil {
		t.Fatal(err)
	}
	// Far below any byte or record limit: only the interval can flush it.
	waitFor(t, 5*time.Second, "the record", func() bool { return len(sink.records()) == 1 })
}

// Records held in the UDP buffer are written on Close, and the listener's
// goroutines end.
func TestUDPCloseFlushes(t *testing.T) {
	checkNoLeak(t)
	sink := &collector{}
	l, m := startUDP(t, Config{FlushInterval: time.Hour}, sink)
	c := dialUDP(t, l)
	for i := range 10 {
		fmt.Fprintf(c, "<13>held %d", i)
	}
	waitFor(t, 5*time.Second, "10 messages read", func() bool { return metric(m.received, NameUDP) == 10 })
	if n := len(sink.records()); n != 0 {
		t.Fatalf("%d records written before Close with a 1h flush interval", n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(sink.records()); n != 10 {
		t.Errorf("%d records written by Close, want 10", n)
	}
}

func TestUDPRetriesFailedWrites(t *testing.T) {
	sink := &collector{failNext: 2}
	l, m := startUDP(t, Config{FlushInterval: 10 * time.Millisecond, RetryInterval: 5 * time.Millisecond}, sink)
	c := dialUDP(t, l)
	fmt.Fprint(c, "<13>retry me")
	waitFor(t, 5*time.Second, "the record", func() bool { return len(sink.records()) == 1 })
	if got := metric(m.writeErrors, NameUDP); got != 2 {
		t.Errorf("write errors = %v, want 2", got)
	}
}

// When the sink stalls the reader stops after a few queued batches, the
// kernel buffer overflows, and every datagram is either received or counted
// dropped, from the kernel's own count.
func TestUDPKernelDropsAreCounted(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the kernel drop count (SO_RXQ_OVFL) is Linux only")
	}
	release := make(chan struct{})
	sink := &collector{block: release}
	l, m := startUDP(t, Config{FlushRecords: 1, ReadBuffer: 4096, FlushInterval: 10 * time.Millisecond}, sink)
	c := dialUDP(t, l)

	const n = 2000
	for i := range n {
		fmt.Fprintf(c, "<13>datagram %04d %s", i, strings.Repeat("d", 200))
	}
	close(release)
	// The count comes with the next datagram the kernel queues: send more
	// until one is read (the first may find the buffer still full).
	extra := 0
	waitFor(t, 10*time.Second, "a datagram sent after the sink recovered", func() bool {
		for _, s := range sink.messages() {
			if strings.HasPrefix(s, "<13>last") {
				return true
			}
		}
		extra++
		fmt.Fprintf(c, "<13>last %d", extra)
		return false
	})
	waitFor(t, 10*time.Second, "every datagram received or counted dropped", func() bool {
		return metric(m.received, NameUDP)+metric(m.dropped, NameUDP) == float64(n+extra)
	})
	received, dropped := metric(m.received, NameUDP), metric(m.dropped, NameUDP)
	if dropped == 0 {
		t.Fatalf("no drops counted with a stalled sink and a 4 KiB buffer (received %v of %d)", received, n+extra)
	}
	if len(sink.records()) != int(received) {
		t.Errorf("%d records written, %v received", len(sink.records()), received)
	}
	t.Logf("received %v, dropped by the kernel %v", received, dropped)
}
