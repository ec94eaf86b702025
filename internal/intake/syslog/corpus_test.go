package syslog

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/intake"
	"github.com/mamori-sec/mamori/internal/testutil"
)

// Real lines as devices send them: RFC examples, a SUSE host's syslog (which
// starts with digits but is not octet counted), FortiGate, PAN-OS, Deep
// Security CEF, kea and dhcpd.
var corpusFiles = []string{
	"syslog/rfc3164-examples.log",
	"syslog/rfc5424-examples.log",
	"syslog/test-suse-syslog.log",
	"syslog/test-tz-offset.log",
	"ngfw_fortigate/test-fortinet-7-6.log",
	"ngfw_panos/test-panw-panos-threat-url-no-xff-sample.log",
	"ngfw_panos/test-panw-panos-traffic-sample.log",
	"trendmicro_deepsecurity/test-trend-micro.raw-cef.log",
	"dhcp/kea/kea-dhcp4-syslog.log",
	"dhcp/isc-dhcpd/isc-dhcpd-syslog.log",
}

func corpusLines(t testing.TB) []string {
	t.Helper()
	var lines []string
	for _, rel := range corpusFiles {
		data, err := os.ReadFile(testutil.CorpusFile(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if l := strings.TrimRight(sc.Text(), "\r"); l != "" {
				lines = append(lines, l)
			}
		}
	}
	if len(lines) == 0 {
		t.Fatal("no corpus lines")
	}
	return lines
}

// Every real line arrives byte for byte, however it is framed.
func TestCorpusLinesArriveIntact(t *testing.T) {
	lines := corpusLines(t)
	t.Run("tcp mixed framing", func(t *testing.T) {
		sink := &collector{}
		l, _ := startTCP(t, Config{FlushInterval: 20 * time.Millisecond}, sink)
		c := dialTCP(t, l)
		var buf bytes.Buffer
		for i, line := range lines {
			switch i % 4 {
			case 0:
				fmt.Fprintf(&buf, "%d %s", len(line), line)
			case 1:
				buf.WriteString(line + "\n")
			case 2:
				buf.WriteString(line + "\r\n")
			case 3:
				buf.WriteString(line + "\x00")
			}
		}
		if _, err := c.Write(buf.Bytes()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "every line", func() bool { return len(sink.records()) >= len(lines) })
		compareLines(t, sink.messages(), lines)
	})
	t.Run("udp", func(t *testing.T) {
		sink := &collector{}
		l, _ := startUDP(t, Config{FlushInterval: 20 * time.Millisecond}, sink)
		c := dialUDP(t, l)
		for _, line := range lines {
			if _, err := c.Write([]byte(line + "\n")); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, 5*time.Second, "every line", func() bool { return len(sink.records()) >= len(lines) })
		compareLines(t, sink.messages(), lines)
	})
}

func compareLines(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d:\n got %q\nwant %q", i, got[i], want[i])
		}
	}
}

// countingSink counts records and keeps nothing.
type countingSink struct{ n atomic.Int64 }

func (s *countingSink) Write(_ context.Context, b intake.Batch) error {
	s.n.Add(int64(len(b.Records)))
	return nil
}

// benchStream is n messages built from the corpus lines, framed one way.
func benchStream(b *testing.B, n int, octet bool) []byte {
	lines := corpusLines(b)
	var buf bytes.Buffer
	for i := range n {
		line := lines[i%len(lines)]
		if octet {
			fmt.Fprintf(&buf, "%d %s", len(line), line)
		} else {
			buf.WriteString(line + "\n")
		}
	}
	return buf.Bytes()
}

func BenchmarkFrameReader(b *testing.B) {
	for _, octet := range []bool{false, true} {
		name := "LF"
		if octet {
			name = "octet"
		}
		b.Run(name, func(b *testing.B) {
			const perStream = 10000
			stream := benchStream(b, perStream, octet)
			b.SetBytes(int64(len(stream)) / perStream)
			b.ReportAllocs()
			var fr *frameReader
			for i := 0; i < b.N; i++ {
				if i%perStream == 0 {
					fr = newFrameReader(bytes.NewReader(stream), DefaultMaxMessageSize)
				}
				if _, _, err := fr.next(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTCPListener sends b.N corpus messages over one loopback
// connection and waits until the sink has them all: one op is one message,
// end to end (framing, batching, sink call).
func BenchmarkTCPListener(b *testing.B) {
	sink := &countingSink{}
	l, err := NewTCP(Config{Address: "127.0.0.1:0"}, sink, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := l.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	stream := benchStream(b, b.N, true)
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(stream)) / int64(b.N))
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := c.Write(stream); err != nil {
		b.Fatal(err)
	}
	_ = c.Close()
	for sink.n.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkUDPListener sends b.N datagrams and waits until each is received
// or counted dropped; it reports the drops.
func BenchmarkUDPListener(b *testing.B) {
	sink := &countingSink{}
	m, _ := NewMetrics(nil)
	l, err := NewUDP(Config{Address: "127.0.0.1:0", FlushInterval: 10 * time.Millisecond}, sink, nil, WithMetrics(m))
	if err != nil {
		b.Fatal(err)
	}
	if err := l.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	lines := corpusLines(b)
	c, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write([]byte(lines[i%len(lines)])); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	nudges := 0
	for float64(sink.n.Load())+metric(m.dropped, NameUDP) < float64(b.N+nudges) && time.Now().Before(deadline) {
		// Drops are reported with the next datagram; nudge until all are counted.
		_, _ = c.Write([]byte("<13>nudge"))
		nudges++
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(metric(m.dropped, NameUDP)/float64(b.N), "dropped/op")
}
