package syslog

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func dialTLS(t *testing.T, l *TCPListener, c certs, clientCert, clientKey string) (*tls.Conn, error) {
	t.Helper()
	conf := &tls.Config{RootCAs: c.caPool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	if clientCert != "" {
		pair, err := tls.LoadX509KeyPair(clientCert, clientKey)
		if err != nil {
			t.Fatal(err)
		}
		conf.Certificates = []tls.Certificate{pair}
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", l.Addr().String(), conf)
	if conn != nil {
		t.Cleanup(func() { _ = conn.Close() })
	}
	return conn, err
}

func TestTLSListenerReceives(t *testing.T) {
	c := newCerts(t)
	sink := &collector{}
	l, m := startTCP(t, Config{FlushInterval: 20 * time.Millisecond,
		TLS: TLSConfig{CertFile: c.serverCert, KeyFile: c.serverKey}}, sink)

	conn, err := dialTLS(t, l, c, "", "")
	if err != nil {
		t.Fatalf("tls dial: %v", err)
	}
	msg := "<165>1 2025-01-01T00:00:00Z host app - ID47 - over TLS"
	fmt.Fprintf(conn, "%d %s<13>second over TLS\n", len(msg), msg)
	waitFor(t, 5*time.Second, "2 records", func() bool { return len(sink.records()) == 2 })
	if got := sink.messages(); fmt.Sprintf("%q", got) != fmt.Sprintf("%q", []string{msg, "<13>second over TLS"}) {
		t.Errorf("messages %q", got)
	}
	sink.mu.Lock()
	listener := sink.batches[0].Listener
	sink.mu.Unlock()
	if listener != NameTLS {
		t.Errorf("batch listener %q, want %q", listener, NameTLS)
	}
	if got := metric(m.received, NameTLS); got != 2 {
		t.Errorf("received = %v, want 2", got)
	}

	// A plain TCP client gets nothing through.
	plain, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	fmt.Fprint(plain, "<13>plain text to a TLS port\n")
	_ = plain.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = plain.Read(make([]byte, 64)) // the server answers with an alert and closes
	waitFor(t, 5*time.Second, "the plain connection to end", func() bool {
		return metric(m.connections, NameTLS) == 2 && gaugeValue(m.active, NameTLS) == 1
	})
	if n := len(sink.records()); n != 2 {
		t.Errorf("%d records after a plain-text client, want still 2", n)
	}
}

func TestTLSMutualRequiresTrustedClientCert(t *testing.T) {
	c := newCerts(t)
	sink := &collector{}
	l, m := startTCP(t, Config{FlushInterval: 20 * time.Millisecond,
		TLS: TLSConfig{CertFile: c.serverCert, KeyFile: c.serverKey, ClientCAFile: c.caFile}}, sink)

	for _, tc := range []struct {
		name      string
		cert, key string
	}{
		{name: "no client certificate"},
		{name: "untrusted client certificate", cert: c.otherClientCert, key: c.otherClientKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := metric(m.connections, NameTLS)
			conn, err := dialTLS(t, l, c, tc.cert, tc.key)
			if err == nil {
				// With TLS 1.3 the client learns of the refusal on its first read.
				fmt.Fprint(conn, "<13>must not arrive\n")
				_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, err = conn.Read(make([]byte, 1))
			}
			if err == nil {
				t.Fatal("the connection was accepted")
			}
			waitFor(t, 5*time.Second, "the refused connection to end", func() bool {
				return metric(m.connections, NameTLS) == before+1 && gaugeValue(m.active, NameTLS) == 0
			})
		})
	}
	if n := len(sink.records()); n != 0 {
		t.Fatalf("%d records from refused clients", n)
	}

	conn, err := dialTLS(t, l, c, c.clientCert, c.clientKey)
	if err != nil {
		t.Fatalf("trusted client: %v", err)
	}
	fmt.Fprint(conn, "<13>from a trusted client\n")
	waitFor(t, 5*time.Second, "the trusted client's record", func() bool { return len(sink.records()) == 1 })
}

func TestTLSHandshakeTimeout(t *testing.T) {
	c := newCerts(t)
	sink := &collector{}
	l, _ := startTCP(t, Config{TLS: TLSConfig{CertFile: c.serverCert, KeyFile: c.serverKey,
		HandshakeTimeout: 100 * time.Millisecond}}, sink)
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Say nothing: the server must give up on the handshake and close.
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = conn.Read(make([]byte, 1))
	if err == nil || strings.Contains(err.Error(), "timeout") {
		t.Fatalf("read = %v: want the server to close a silent connection", err)
	}
}

func TestTLSStartFailsOnBadFiles(t *testing.T) {
	c := newCerts(t)
	for _, tc := range []struct {
		name string
		tls  TLSConfig
		want string
	}{
		{name: "missing cert", tls: TLSConfig{CertFile: filepath.Join(c.dir, "nope.pem"), KeyFile: c.serverKey}, want: "load tls certificate"},
		{name: "key of another cert", tls: TLSConfig{CertFile: c.serverCert, KeyFile: c.clientKey}, want: "load tls certificate"},
		{name: "client CA without PEM", tls: TLSConfig{CertFile: c.serverCert, KeyFile: c.serverKey, ClientCAFile: c.serverKey}, want: "no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := NewTCP(Config{Address: "127.0.0.1:0", TLS: tc.tls}, &collector{}, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			err = l.Start(context.Background())
			if err == nil {
				_ = l.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to say %q", err, tc.want)
			}
		})
	}
	if _, err := NewTCP(Config{Address: "127.0.0.1:0", TLS: TLSConfig{CertFile: c.serverCert}}, &collector{}, nil); err == nil {
		t.Error("NewTCP accepted a certificate without a key")
	}
	if _, err := NewUDP(Config{Address: "127.0.0.1:0", TLS: TLSConfig{CertFile: c.serverCert, KeyFile: c.serverKey}}, &collector{}, nil); err == nil {
		t.Error("NewUDP accepted a TLS configuration")
	}
}
