package syslog

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func dialTCP(t *testing.T, l *TCPListener) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestTCPListenerReceives(t *testing.T) {
	sink := &collector{}
	stamp := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	m, _ := NewMetrics(nil)
	l, err := NewTCP(Config{Address: "127.0.0.1:0", Dataset: "fw", FlushInterval: 20 * time.Millisecond},
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

	c := dialTCP(t, l)
	msgs := []string{"<34>1 2025-03-04T05:06:07Z host app - - - octet counted", "<13>Mar  4 05:06:07 host app: LF framed"}
	fmt.Fprintf(c, "%d %s%s\n", len(msgs[0]), msgs[0], msgs[1])
	waitFor(t, 5*time.Second, "2 records", func() bool { return len(sink.records()) == 2 })

	for i, r := range sink.records() {
		if string(r.Data) != msgs[i] {
			t.Errorf("record %d = %q, want %q", i, r.Data, msgs[i])
		}
		if r.Peer != c.LocalAddr().String() {
			t.Errorf("record %d peer = %q, want the sender's address %q", i, r.Peer, c.LocalAddr())
		}
		if !r.Received.Equal(stamp) {
			t.Errorf("record %d received = %v, want the injected clock's %v", i, r.Received, stamp)
		}
	}
	sink.mu.Lock()
	b := sink.batches[0]
	sink.mu.Unlock()
	if b.Dataset != "fw" || b.Listener != NameTCP {
		t.Errorf("batch dataset %q listener %q, want fw and %s", b.Dataset, b.Listener, NameTCP)
	}
	if got := metric(m.received, NameTCP); got != 2 {
		t.Errorf("messages received = %v, want 2", got)
	}
	wantBytes := len(fmt.Sprintf("%d %s%s\n", len(msgs[0]), msgs[0], msgs[1]))
	waitFor(t, 5*time.Second, "bytes counted", func() bool { return metric(m.bytes, NameTCP) == float64(wantBytes) })
}

// All the messages that arrive within one flush interval make one batch.
func TestTCPBatchesWithinFlushInterval(t *testing.T) {
	sink := &collector{}
	l, _ := startTCP(t, Config{FlushInterval: 100 * time.Millisecond}, sink)
	c := dialTCP(t, l)
	var buf bytes.Buffer
	for i := range 50 {
		fmt.Fprintf(&buf, "<13>message %d\n", i)
	}
	if _, err := c.Write(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "50 records", func() bool { return len(sink.records()) == 50 })
	if n := sink.batchCount(); n != 1 {
		t.Errorf("%d batches, want 1", n)
	}
}

func TestTCPFlushesAtRecordAndByteLimits(t *testing.T) {
	t.Run("records", func(t *testing.T) {
		sink := &collector{}
		l, _ := startTCP(t, Config{FlushInterval: time.Hour, FlushRecords: 10}, sink)
		c := dialTCP(t, l)
		for i := range 25 {
			fmt.Fprintf(c, "<13>message %d\n", i)
		}
		_ = c.Close() // the last 5 are written when the connection ends
		waitFor(t, 5*time.Second, "25 records", func() bool { return len(sink.records()) == 25 })
		checkBatchSizes(t, sink, []int{10, 10, 5})
	})
	t.Run("bytes", func(t *testing.T) {
		sink := &collector{}
		l, _ := startTCP(t, Config{FlushInterval: time.Hour, FlushBytes: 100}, sink)
		c := dialTCP(t, l)
		msg := "<13>" + strings.Repeat("x", 46) // 50 bytes: two make a batch
		for range 5 {
			fmt.Fprintf(c, "%s\n", msg)
		}
		_ = c.Close()
		waitFor(t, 5*time.Second, "5 records", func() bool { return len(sink.records()) == 5 })
		checkBatchSizes(t, sink, []int{2, 2, 1})
	})
}

func checkBatchSizes(t *testing.T, sink *collector, want []int) {
	t.Helper()
	sink.mu.Lock()
	defer sink.mu.Unlock()
	var got []int
	for _, b := range sink.batches {
		got = append(got, len(b.Records))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("batch sizes %v, want %v", got, want)
	}
}

func TestTCPTruncatesOverlongMessages(t *testing.T) {
	sink := &collector{}
	l, m := startTCP(t, Config{MaxMessageSize: 16, FlushInterval: 10 * time.Millisecond}, sink)
	c := dialTCP(t, l)
	long := "<13>" + strings.Repeat("A", 100)
	fmt.Fprintf(c, "%s\n<13>short\n%d %s<13>after\n", long, len(long), long)
	waitFor(t, 5*time.Second, "4 records", func() bool { return len(sink.records()) == 4 })
	want := []string{long[:16], "<13>short", long[:16], "<13>after"}
	if got := sink.messages(); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Errorf("messages %q, want %q", got, want)
	}
	if got := metric(m.truncated, NameTCP); got != 2 {
		t.Errorf("truncated = %v, want 2", got)
	}
}

// While the sink is blocked the connection is not read, so the sender's
// writes stall (TCP back-pressure); once it unblocks everything arrives.
func TestTCPBackPressure(t *testing.T) {
	release := make(chan struct{})
	sink := &collector{block: release}
	l, m := startTCP(t, Config{FlushRecords: 100}, sink)
	c := dialTCP(t, l)

	const n = 32 << 10 // 32 MiB of 1 KiB messages: far more than socket buffers hold
	line := "<13>" + strings.Repeat("p", 1019) + "\n"
	sent := make(chan error, 1)
	go func() {
		var err error
		for i := 0; i < n && err == nil; i++ {
			_, err = io.WriteString(c, line)
		}
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		sent <- err
	}()

	// The first batch blocks in the sink; the sender must stall behind it.
	waitFor(t, 10*time.Second, "the first batch to reach the sink", func() bool {
		return metric(m.received, NameTCP) >= 100
	})
	time.Sleep(300 * time.Millisecond) // let the sender fill every buffer
	select {
	case err := <-sent:
		t.Fatalf("sender finished (%v) while the sink was blocked: no back-pressure", err)
	default:
	}
	if got := metric(m.received, NameTCP); got > 100 {
		t.Errorf("%v messages read while the sink was blocked, want the first batch's 100 only", got)
	}

	close(release)
	if err := <-sent; err != nil {
		t.Fatalf("send: %v", err)
	}
	waitFor(t, 30*time.Second, "every record", func() bool { return len(sink.records()) == n })
}

func TestTCPRetriesFailedWrites(t *testing.T) {
	sink := &collector{failNext: 3}
	l, m := startTCP(t, Config{FlushInterval: 10 * time.Millisecond, RetryInterval: 5 * time.Millisecond}, sink)
	c := dialTCP(t, l)
	fmt.Fprint(c, "<13>one\n<13>two\n")
	waitFor(t, 5*time.Second, "2 records", func() bool { return len(sink.records()) == 2 })
	if got := metric(m.writeErrors, NameTCP); got != 3 {
		t.Errorf("write errors = %v, want 3", got)
	}
	if got := metric(m.batches, NameTCP); got != 1 {
		t.Errorf("batches written = %v, want 1 (the same batch retried)", got)
	}
	if got := sink.messages(); fmt.Sprint(got) != "[<13>one <13>two]" {
		t.Errorf("messages %q: want each once", got)
	}
}

func TestTCPMaxConnections(t *testing.T) {
	sink := &collector{}
	l, m := startTCP(t, Config{MaxConnections: 1, FlushInterval: 10 * time.Millisecond}, sink)
	first := dialTCP(t, l)
	fmt.Fprint(first, "<13>first\n")
	waitFor(t, 5*time.Second, "the first connection's record", func() bool { return len(sink.records()) == 1 })

	second := dialTCP(t, l)
	_ = second.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := second.Read(make([]byte, 1)); err == nil {
		t.Fatal("second connection was served; want it closed")
	}
	waitFor(t, 5*time.Second, "the rejection to be counted", func() bool { return metric(m.rejected, NameTCP) == 1 })

	// The first connection still works, and once it is gone a new one is served.
	fmt.Fprint(first, "<13>still here\n")
	waitFor(t, 5*time.Second, "the second record", func() bool { return len(sink.records()) == 2 })
	_ = first.Close()
	waitFor(t, 5*time.Second, "the first connection to end", func() bool {
		return gaugeValue(m.active, NameTCP) == 0
	})
	third := dialTCP(t, l)
	fmt.Fprint(third, "<13>third\n")
	waitFor(t, 5*time.Second, "the third record", func() bool { return len(sink.records()) == 3 })
}

// Close writes what each connection holds, and leaves no goroutine behind.
func TestTCPCloseFlushesPendingBatches(t *testing.T) {
	checkNoLeak(t)
	sink := &collector{}
	l, m := startTCP(t, Config{FlushInterval: time.Hour}, sink)
	for i := range 3 {
		c := dialTCP(t, l)
		fmt.Fprintf(c, "<13>conn %d a\n<13>conn %d b\n", i, i)
	}
	waitFor(t, 5*time.Second, "6 messages read", func() bool { return metric(m.received, NameTCP) == 6 })
	if n := len(sink.records()); n != 0 {
		t.Fatalf("%d records written before Close with a 1h flush interval", n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(sink.records()); n != 6 {
		t.Errorf("%d records written by Close, want 6", n)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestTCPContextCancelCloses(t *testing.T) {
	checkNoLeak(t)
	sink := &collector{}
	ctx, cancel := context.WithCancel(context.Background())
	m, _ := NewMetrics(nil)
	l, err := NewTCP(Config{Address: "127.0.0.1:0", FlushInterval: time.Hour}, sink, testLogger(t), WithMetrics(m))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c := dialTCP(t, l)
	fmt.Fprint(c, "<13>held\n")
	waitFor(t, 5*time.Second, "the message to be read", func() bool { return metric(m.received, NameTCP) == 1 })
	cancel()
	waitFor(t, 5*time.Second, "the held record to be written", func() bool { return len(sink.records()) == 1 })
	if _, err := net.Dial("tcp", l.Addr().String()); err == nil {
		t.Error("listener still accepts after its context was cancelled")
	}
	_ = l.Close() // waits for the goroutines, as the leak check needs
}

// A sink that never recovers cannot hold Close beyond ShutdownTimeout; the
// records it could not take are counted dropped.
func TestTCPShutdownTimeout(t *testing.T) {
	checkNoLeak(t)
	sink := &collector{block: make(chan struct{})}
	l, m := startTCP(t, Config{FlushInterval: time.Hour, ShutdownTimeout: 100 * time.Millisecond}, sink)
	c := dialTCP(t, l)
	fmt.Fprint(c, "<13>a\n<13>b\n")
	waitFor(t, 5*time.Second, "2 messages read", func() bool { return metric(m.received, NameTCP) == 2 })
	done := make(chan struct{})
	go func() {
		_ = l.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return after its shutdown timeout")
	}
	if got := metric(m.dropped, NameTCP); got != 2 {
		t.Errorf("dropped = %v, want 2", got)
	}
}

// A message split across writes, with a flush (read deadline) between the
// pieces, arrives whole: the flush timer never loses buffered bytes.
func TestTCPMessageSplitAcrossFlushes(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			sink := &collector{}
			cfg := Config{FlushInterval: 20 * time.Millisecond}
			var c certs
			if useTLS {
				c = newCerts(t)
				cfg.TLS = TLSConfig{CertFile: c.serverCert, KeyFile: c.serverKey}
			}
			l, _ := startTCP(t, cfg, sink)
			var conn net.Conn
			if useTLS {
				tc, err := dialTLS(t, l, c, "", "")
				if err != nil {
					t.Fatal(err)
				}
				conn = tc
			} else {
				conn = dialTCP(t, l)
			}
			pieces := []string{"<13>first\n<13>sec", "ond\n2", "6 <13>counted across", " flushes"}
			for i, p := range pieces {
				if _, err := io.WriteString(conn, p); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					waitFor(t, 5*time.Second, "the first message's batch", func() bool { return len(sink.records()) == 1 })
				} else {
					time.Sleep(3 * cfg.FlushInterval) // let a flush deadline pass mid-message
				}
			}
			waitFor(t, 5*time.Second, "3 records", func() bool { return len(sink.records()) == 3 })
			want := []string{"<13>first", "<13>second", "<13>counted across flushes"}
			if got := sink.messages(); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
				t.Errorf("messages %q, want %q", got, want)
			}
		})
	}
}
